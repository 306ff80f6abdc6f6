#!/bin/bash
# Smoke test of gatehoused (the proxy room's own): password + TOTP through
# keyboard-interactive answered by SSH_ASKPASS, an exec whose stdout, stderr
# and exit status come back separately, the bytes in the recording, the
# sessions row closed with its byte counts and channel, and a second login
# with the same code refused (replay across connections).
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user smoke
gh_grant smoke web01 "$TGT_LOGIN"
start_gatehoused

marker="smoke-$$-$RANDOM"
code=$(gh_totp_now "$(gh_user_totp smoke)")
GH_TOTP_CODE=$code gh_ssh_cmd "smoke@$TGT_LOGIN@web01" "echo $marker; echo to-stderr >&2; exit 7"
gh_expect_eq "exit status" "$RC" 7
gh_expect_eq "stdout" "$OUT" "$marker"
gh_expect_match "stderr" "$ERR" '^to-stderr$'
gh_expect_nomatch "stdout has no stderr" "$OUT" 'to-stderr'

gh_wait_sessions_closed 10 || gh_fail "session row still active"
row=$(gh_sql "SELECT state, end_reason IS NOT NULL, bytes_out >= ${#marker}, channel_types, recording FROM sessions WHERE user = 'smoke'")
IFS='|' read -r state has_reason out_ok types rec <<<"$row"
gh_expect_eq "session state" "$state" closed
gh_expect_eq "end reason set" "$has_reason" 1
gh_expect_eq "bytes_out counted" "$out_ok" 1
gh_expect_eq "channel types" "$types" exec
gh_expect_eq "exit status row" "$(gh_sql "SELECT exit_status FROM channels c JOIN sessions s ON s.id = c.session_id WHERE s.user = 'smoke'")" 7
[ -s "$rec" ] || gh_fail "no recording at $rec"
gh_recording_has "$marker" "$rec" || gh_fail "the recording does not hold the command output"
gh_recording_has "to-stderr" "$rec" || gh_fail "the recording does not hold stderr"

# The same code again, on a new connection: refused (single use per user).
GH_TOTP_CODE=$code gh_ssh_cmd "smoke@$TGT_LOGIN@web01" "echo should-not-run"
[ "$RC" -ne 0 ] || gh_fail "a reused TOTP code was accepted"
gh_expect_nomatch "no output after replay" "$OUT" 'should-not-run'
gh_expect_audit 1 actor=smoke type=auth.fail 'detail=*reused code*'
gh_expect_audit 1 actor=smoke type=auth.success 'source=127.0.0.1:[0-9]*'
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_proxy_smoke: ok"
