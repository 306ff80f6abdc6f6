#!/bin/bash
# Smoke test of gatehoused (the proxy room's own): password + TOTP through
# keyboard-interactive answered by SSH_ASKPASS, an exec whose stdout, stderr
# and exit status come back separately, the bytes in the recording, the
# sessions row closed with its byte counts and channel, a second login with
# the same code refused (replay across connections), the audit JSON-lines
# export, an answer count that differs from the prompt count, a connection
# process killed with SIGKILL (row closed as aborted), and SIGTERM shutdown.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init "shutdown_grace = 2" "audit_jsonl = audit.jsonl" "max_auth_tries = 30"
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
# The same events, in real time, in the JSON-lines export (audit_jsonl).
grep -q '"actor":"smoke","source":"127.0.0.1:[0-9]*","type":"auth.success"' "$GH_DATA/audit.jsonl" ||
	gh_fail "auth.success missing from audit.jsonl"
grep -q '"type":"auth.fail".*reused code' "$GH_DATA/audit.jsonl" || gh_fail "auth.fail missing from audit.jsonl"
gh_daemon_alive || gh_fail "gatehoused died"

# An INFO_RESPONSE with more answers than prompts fails, even with the right
# password first (paramiko lets us send the extra answer).
gh_user smoke5
out=$(PW=$(gh_user_pw smoke5) $PY - "$GH_PORT" <<'PY'
import os, sys, paramiko
t = paramiko.Transport(("127.0.0.1", int(sys.argv[1])))
t.start_client(timeout=10)
try:
    t.auth_interactive("smoke5", lambda title, instr, prompts: [os.environ["PW"], "extra"])
    print("ACCEPTED")
except paramiko.AuthenticationException:
    print("REFUSED")
t.close()
PY
)
gh_expect_eq "extra answer" "$out" REFUSED
gh_expect_audit 1 actor=smoke5 type=auth.fail 'detail=*answer count*'

active_pid() {
	gh_sql "SELECT pid FROM sessions WHERE user = '$1' AND state = 'active'" 2>/dev/null
}
has_active() {
	[ -n "$(active_pid "$1")" ]
}

# A connection process killed with SIGKILL leaves no 'active' row behind: the
# daemon closes it as 'aborted' when it reaps the process.
gh_user smoke2
gh_grant smoke2 web01 "$TGT_LOGIN"
gh_ssh "smoke2@$TGT_LOGIN@web01" 'sleep 60' </dev/null >/dev/null 2>&1 &
client=$!
gh_wait_for 20 has_active smoke2 ||
	gh_fail "no active session for smoke2"
kill -KILL "$(active_pid smoke2)"
gh_wait_sessions_closed 10 || gh_fail "the killed connection's session row stayed active"
gh_expect_eq "end reason after kill -9" "$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'smoke2'")" aborted
wait "$client" 2>/dev/null || true

# SIGTERM: the operator is told, the session ends after shutdown_grace, the
# row is closed as 'shutdown' and the daemon exits.
gh_user smoke3
gh_grant smoke3 web01 "$TGT_LOGIN"
gh_ssh "smoke3@$TGT_LOGIN@web01" 'sleep 60' </dev/null >/dev/null 2>"$GH_T/term.err" &
client=$!
gh_wait_for 20 has_active smoke3 ||
	gh_fail "no active session for smoke3"
kill -TERM "$GH_PID"
gh_wait_for 30 bash -c "! kill -0 $GH_PID 2>/dev/null" || gh_fail "gatehoused did not exit after SIGTERM"
gh_wait_for 10 bash -c "! kill -0 $client 2>/dev/null" || gh_fail "the client is still connected after shutdown"
gh_expect_match "operator told" "$(cat "$GH_T/term.err")" 'shutting down'
gh_no_active_session || gh_fail "a session row is still active after shutdown"
gh_expect_eq "end reason after SIGTERM" "$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'smoke3'")" shutdown

# Per-source penalty: 20 failed attempts from one address (here on one
# connection) and that address is refused at accept, with an audit event.
start_gatehoused
out=$($PY - "$GH_PORT" <<'PY'
import socket, sys, time, paramiko
port = int(sys.argv[1])
t = paramiko.Transport(("127.0.0.1", port))
t.start_client(timeout=10)
for i in range(20):
    try:
        t.auth_interactive("nosuchuser", lambda title, instr, prompts: ["x" for p in prompts])
    except paramiko.AuthenticationException:
        pass
t.close()
time.sleep(1.5)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(5)
try:
    print("banner" if s.recv(100).startswith(b"SSH-") else "closed")
except OSError:
    print("closed")
PY
)
gh_expect_eq "connection after 20 failures" "$out" closed
gh_expect_audit 1 type=source.block object=127.0.0.1 importance=high
echo "t_proxy_smoke: ok"
