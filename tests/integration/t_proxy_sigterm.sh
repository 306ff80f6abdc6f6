#!/bin/bash
# Scenario: SIGTERM stops the daemon cleanly: it stops accepting, tells the
# live session's operator, ends it after shutdown_grace, leaves no session
# row "active", and exits 0.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'shutdown_grace = 2'
gh_setup_web01
gh_user gus
gh_grant gus web01 "$TGT_LOGIN"
start_gatehoused

gh_ssh "gus@$TGT_LOGIN@web01" 'echo STARTED; sleep 120; echo SHOULD_NOT_FINISH' </dev/null \
	>"$GH_T/gus.out" 2>"$GH_T/gus.err" &
sshpid=$!
gh_keep_pid $sshpid
gh_wait_for 30 grep -q STARTED "$GH_T/gus.out" || gh_fail "the session did not start"
gh_expect_eq "active sessions" "$(gh_sql "SELECT count(*) FROM sessions WHERE state = 'active'")" 1

start=$SECONDS
kill -TERM "$GH_PID"
# Not accepting any more (bounded: the listener closes its socket at once).
gh_wait_for 5 bash -c "! ss -Hltn 'sport = :$GH_PORT' | grep -q ." || gh_fail "still listening after SIGTERM"
rc=0
wait "$GH_PID" || rc=$?
gh_expect_eq "daemon exit status" "$rc" 0
[ $((SECONDS - start)) -le 20 ] || gh_fail "shutdown took $((SECONDS - start)) s with shutdown_grace = 2"
gh_wait_for 10 bash -c "! kill -0 $sshpid 2>/dev/null" || gh_fail "the operator's ssh is still connected"
grep -q SHOULD_NOT_FINISH "$GH_T/gus.out" && gh_fail "the session ran to its end despite SIGTERM"
gh_expect_match "operator told" "$(cat "$GH_T/gus.err")" '[Ss]hut|[Ss]top|restart|maintenance|terminat'
gh_expect_eq "active sessions after shutdown" "$(gh_sql "SELECT count(*) FROM sessions WHERE state = 'active'")" 0
gh_expect_match "end reason" "$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'gus'")" '.'
echo "t_proxy_sigterm: ok"
