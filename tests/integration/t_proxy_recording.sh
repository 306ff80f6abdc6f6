#!/bin/bash
# Scenario: a recording exists after each session and holds the bytes that
# went through: the exec command, operator input, target output and stderr.
# (The recording is read back with plain zstdcat: frames of the record stream.)
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user rita
gh_user rita2
gh_grant rita web01 "$TGT_LOGIN"
gh_grant rita2 web01 "$TGT_LOGIN"
start_gatehoused

[ -z "$(gh_recordings)" ] || gh_fail "recordings exist before any session"
# Markers computed on the target, so the output form is not in the command.
RC=0
out=$(printf 'INPUT_MARK_%s\n' 7f3a | gh_ssh "rita@$TGT_LOGIN@web01" \
	'cat; echo OUT_MARK_$((6*7)); echo ERR_MARK_$((5*5)) >&2; exit 2' 2>"$GH_T/rita.err") || RC=$?
gh_expect_eq "exit status" "$RC" 2
gh_expect_eq "output" "$out" "$(printf 'INPUT_MARK_7f3a\nOUT_MARK_42')"
gh_wait_sessions_closed 10 || gh_fail "session still active"
mapfile -t recs < <(gh_recordings)
gh_expect_eq "recordings after one session" "${#recs[@]}" 1
zstd -t -q "${recs[0]}" || gh_fail "recording is not a valid zstd stream"
gh_recording_has 'INPUT_MARK_7f3a' "${recs[0]}" || gh_fail "operator input not in the recording"
gh_recording_has 'OUT_MARK_42' "${recs[0]}" || gh_fail "target output not in the recording"
gh_recording_has 'ERR_MARK_25' "${recs[0]}" || gh_fail "target stderr not in the recording"
gh_recording_has 'echo OUT_MARK_$((6*7))' "${recs[0]}" || gh_fail "exec command not in the recording"
path=$(gh_sql "SELECT recording FROM sessions WHERE user = 'rita'")
case $path in
/*) [ "$path" -ef "${recs[0]}" ] || gh_fail "sessions.recording ($path) is not ${recs[0]}" ;;
*) [ "$GH_DATA/$path" -ef "${recs[0]}" ] || [ "$GH_DATA/recordings/$path" -ef "${recs[0]}" ] ||
	gh_fail "sessions.recording ($path) is not ${recs[0]}" ;;
esac

# A pty shell session: typed input and echoed output are recorded too.
gh_tmux_start 80 24 "$(gh_ssh_cmdline "rita2@$TGT_LOGIN@web01" -tt)"
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell prompt"
gh_tmux_keys 'echo SHELL_MARK_$((300+33))' Enter
gh_tmux_wait 10 'SHELL_MARK_333' || gh_fail "shell command produced no output"
gh_tmux_keys 'exit' Enter
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "shell did not end"
gh_wait_sessions_closed 10 || gh_fail "shell session still active"
mapfile -t recs < <(gh_recordings)
gh_expect_eq "recordings after two sessions" "${#recs[@]}" 2
gh_recording_has 'SHELL_MARK_333' || gh_fail "shell output not in a recording"
echo "t_proxy_recording: ok"
