#!/bin/bash
# Scenario: direct target selection in the SSH user name.
#   user@LOGIN@ASSET -> that login on that asset
#   user@ASSET       -> the one login the user holds there (refused when the
#                       user holds several: the choice must be explicit)
# Two targets make sure the session lands on the asset that was named.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
start_target_sshd db
gh_asset_for_target db01
DB01_PORT=$TGT_PORT
for u in ivan ivan2 ivan3 jack; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN"
	gh_grant $u db01 "$TGT_LOGIN"
done
# jack holds a second login on web01: "jack@web01" is ambiguous.
gh_account web01 otherlogin "$GH_T/sshd-web/client_key"
gh_grant jack web01 otherlogin
start_gatehoused

gh_ssh_cmd "ivan@$TGT_LOGIN@db01" 'echo "$SSH_CONNECTION"'
gh_expect_eq "ivan@login@db01 status" "$RC" 0
gh_expect_match "ivan@login@db01 lands on db01" "$OUT" " $DB01_PORT\$"

gh_ssh_cmd "ivan2@web01" 'echo "$SSH_CONNECTION"'
gh_expect_eq "ivan2@web01 status" "$RC" 0
gh_expect_match "ivan2@web01 lands on web01" "$OUT" " $WEB01_PORT\$"

gh_ssh_cmd "jack@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "ambiguous jack@web01 was accepted"
gh_expect_nomatch "ambiguous output" "$OUT" SHOULD_NOT_RUN
gh_expect_match "ambiguous message names the choice" "$ERR" "$TGT_LOGIN|otherlogin|login"

gh_ssh_cmd "ivan3@$TGT_LOGIN@nosuchasset" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "unknown asset accepted"
gh_expect_nomatch "unknown asset output" "$OUT" SHOULD_NOT_RUN
gh_expect_match "unknown asset message" "$ERR" 'nosuchasset'
echo "t_proxy_direct: ok"
