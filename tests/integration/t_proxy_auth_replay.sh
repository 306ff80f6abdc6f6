#!/bin/bash
# Scenario: a TOTP code is accepted once per user: the same code used again
# right away (same or next time step) is refused, and that refusal is audited.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user dave
gh_grant dave web01 "$TGT_LOGIN"
start_gatehoused

code=$(gh_totp_now "$(gh_user_totp dave)")
GH_TOTP_CODE=$code gh_ssh_cmd "dave@$TGT_LOGIN@web01" 'echo FIRST_USE'
gh_expect_eq "first use exit status" "$RC" 0
gh_expect_eq "first use output" "$OUT" FIRST_USE

GH_TOTP_CODE=$code gh_ssh_cmd "dave@$TGT_LOGIN@web01" 'echo SECOND_USE'
[ "$RC" -ne 0 ] || gh_fail "a TOTP code was accepted twice"
gh_expect_nomatch "second use output" "$OUT" SECOND_USE
gh_expect_audit 1 actor=dave 'type=auth*' result=ok
gh_expect_audit 1 actor=dave 'type=auth*' 'result!=ok'
echo "t_proxy_auth_replay: ok"
