#!/bin/bash
# Scenario (issue 9, faults): the target dies in the middle of a session
# (its sshd session process is killed, like a crash or a reboot). The
# operator gets a clear message and the client ends within a bounded time;
# the sessions row is closed (not left active) with an end reason; the
# connection process exits (nothing left hanging); the daemon stays up and
# the next session works.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user td1
gh_user td2
gh_grant td1 web01 "$TGT_LOGIN"
gh_grant td2 web01 "$TGT_LOGIN"
start_gatehoused

GH_SSH_TIMEOUT=60 gh_ssh "td1@$TGT_LOGIN@web01" 'echo started; sleep 50; echo SHOULD_NOT_FINISH' \
	</dev/null >"$GH_T/td1.out" 2>"$GH_T/td1.err" &
client=$!
gh_wait_for 20 grep -q started "$GH_T/td1.out" || gh_fail "the session did not start: $(cat "$GH_T/td1.err")"
conn_pid=$(gh_sql "SELECT pid FROM sessions WHERE user = 'td1' AND state = 'active'")
[ -n "$conn_pid" ] || gh_fail "no active session row"

# Kill the target's per-connection sshd processes (children of the sshd we
# started), by pid.
mapfile -t victims < <(pgrep -P "$TGT_PID")
[ "${#victims[@]}" -ge 1 ] || gh_fail "no sshd session process under $TGT_PID"
start=$SECONDS
kill -KILL "${victims[@]}"

gh_wait_for 20 bash -c "! kill -0 $client 2>/dev/null" || gh_fail "the client still hangs 20 s after the target died"
rc=0
wait "$client" || rc=$?
echo "client exit $rc after $((SECONDS - start)) s: $(cat "$GH_T/td1.err")" >&2
[ "$rc" -ne 0 ] || gh_fail "the session to a dead target ended with status 0"
grep -q SHOULD_NOT_FINISH "$GH_T/td1.out" && gh_fail "output after the target died?"
gh_expect_match "operator told" "$(cat "$GH_T/td1.err")" '[Tt]arget|web01|connection'
gh_wait_sessions_closed 10 || gh_fail "the session row stayed active after the target died"
reason=$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'td1'")
[ -n "$reason" ] || gh_fail "no end reason"
echo "end reason: $reason" >&2
gh_wait_for 10 bash -c "! kill -0 $conn_pid 2>/dev/null" || gh_fail "connection process $conn_pid left hanging"
gh_daemon_alive || gh_fail "gatehoused died"

# The next session works (the target sshd master is still up).
gh_ssh_cmd "td2@$TGT_LOGIN@web01" "echo next-$$"
gh_expect_eq "next session" "$OUT" "next-$$"
echo "t_fault_target_dies: ok (client ended with $rc, end reason '$reason')"
