#!/bin/bash
# Scenario: routing goes through grant evaluation. No grant for the asset ->
# refused with "no grant for LOGIN@ASSET"; a grant with only the exec right
# allows a command but refuses a shell. Each refusal is an audit event and
# the target never sees a connection.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
start_target_sshd db
gh_asset_for_target db01
gh_user lucy
gh_user mia
gh_user mia2
gh_grant lucy web01 "$TGT_LOGIN"
gh_grant mia web01 "$TGT_LOGIN" --rights exec
gh_grant mia2 web01 "$TGT_LOGIN" --rights exec
start_gatehoused

gh_ssh_cmd "lucy@$TGT_LOGIN@db01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "login on an asset without a grant"
gh_expect_nomatch "refused output" "$OUT" SHOULD_NOT_RUN
gh_expect_match "refusal reason" "$ERR" "no grant for $TGT_LOGIN@db01"
# db01's sshd never authenticated anyone.
if grep -q "Accepted publickey" "$GH_T/sshd-db/sshd.log" 2>/dev/null; then
	gh_fail "the target was contacted although the grant was refused"
fi
gh_expect_audit 1 actor=lucy 'object=*db01*' 'result!=ok'

gh_ssh_cmd "mia@$TGT_LOGIN@web01" 'echo EXEC_ALLOWED'
gh_expect_eq "exec-only grant, exec status" "$RC" 0
gh_expect_eq "exec-only grant, exec output" "$OUT" EXEC_ALLOWED

GH_SSH_EXTRA=(-tt)
gh_ssh_cmd "mia2@$TGT_LOGIN@web01"
GH_SSH_EXTRA=()
[ "$RC" -ne 0 ] || gh_fail "shell allowed by an exec-only grant"
gh_expect_match "shell refusal reason" "$ERR$OUT" 'shell'
gh_expect_audit 1 actor=mia2 'result!=ok'
echo "t_proxy_grant_refused: ok"
