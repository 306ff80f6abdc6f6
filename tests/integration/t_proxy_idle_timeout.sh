#!/bin/bash
# Scenario: idle_timeout (3 s here) closes a session with no data either
# way, tells the operator why, and leaves an audit event and a closed session
# row. A session that keeps talking is not cut.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'idle_timeout = 3'
gh_setup_web01
gh_user quinn
gh_user quinn2
gh_grant quinn web01 "$TGT_LOGIN"
gh_grant quinn2 web01 "$TGT_LOGIN"
start_gatehoused

start=$SECONDS
gh_ssh_cmd "quinn@$TGT_LOGIN@web01" 'sleep 60; echo SHOULD_NOT_RUN'
took=$((SECONDS - start))
gh_expect_nomatch "idle output" "$OUT" SHOULD_NOT_RUN
[ "$took" -lt 30 ] || gh_fail "idle session lasted $took s with idle_timeout = 3"
[ "$took" -ge 3 ] || gh_fail "idle session ended after $took s, before the timeout"
gh_expect_match "operator told why" "$ERR" '[Ii]dle'
gh_wait_sessions_closed 10 || gh_fail "idle session row still active"
reason=$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'quinn'")
gh_expect_match "end reason" "$reason" '[Ii]dle'
gh_expect_audit 1 'type=*idle*'

# Output every second keeps a session alive past the timeout.
gh_ssh_cmd "quinn2@$TGT_LOGIN@web01" 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done; echo ALIVE'
gh_expect_eq "busy session status" "$RC" 0
gh_expect_match "busy session output" "$OUT" 'ALIVE$'
echo "t_proxy_idle_timeout: ok"
