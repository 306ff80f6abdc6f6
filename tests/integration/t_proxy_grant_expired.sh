#!/bin/bash
# Scenario: an expired grant refuses the session and says when it expired.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user nina
gh_user nina2
# A grant that expires in two seconds (grant add may refuse a date in the
# past, which is right for an administrator but not what we test here).
exp=$(date -u -d '+3 sec' '+%Y-%m-%dT%H:%M:%SZ')
gh_grant nina web01 "$TGT_LOGIN" --expires "$exp"
gh_grant nina2 web01 "$TGT_LOGIN" --expires "$(date -u -d '+1 day' '+%Y-%m-%dT%H:%M:%SZ')"
start_gatehoused
sleep 4

gh_ssh_cmd "nina@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "expired grant accepted"
gh_expect_nomatch "expired output" "$OUT" SHOULD_NOT_RUN
gh_expect_match "expiry reason" "$ERR" "expired.*$(date -u +%Y-%m-%d)|expired"
gh_expect_audit 1 actor=nina 'result!=ok'

# The same grant a day ahead still works.
gh_ssh_cmd "nina2@$TGT_LOGIN@web01" 'echo STILL_VALID'
gh_expect_eq "valid grant" "$OUT" STILL_VALID
echo "t_proxy_grant_expired: ok"
