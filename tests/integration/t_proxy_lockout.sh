#!/bin/bash
# Scenario: after lockout_threshold failed logins (counted across
# connections) the account is locked: even the right password and code are
# refused, with the same prompts. An account locked by an administrator is
# refused the same way, and unlocking restores access.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'lockout_threshold = 3' 'lockout_minutes = 30'
gh_setup_web01
gh_user erin
gh_user frank
gh_grant erin web01 "$TGT_LOGIN"
gh_grant frank web01 "$TGT_LOGIN"
start_gatehoused

for i in 1 2 3; do
	GH_PW="Wrong-Passw0rd-$i!" gh_ssh_cmd "erin@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
	[ "$RC" -ne 0 ] || gh_fail "wrong password $i accepted"
done
until_ts=$(gh_sql "SELECT locked_until FROM users WHERE name = 'erin'")
now=$(date +%s)
[ "${until_ts:-0}" -gt "$now" ] || gh_fail "erin not locked after 3 failures (locked_until=$until_ts)"
[ "$until_ts" -le $((now + 30 * 60 + 5)) ] || gh_fail "lock lasts longer than lockout_minutes ($until_ts)"

GH_ASKPASS_LOG=$GH_T/ap-erin.log gh_ssh_cmd "erin@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "locked account accepted with the right password and code"
gh_expect_nomatch "locked output" "$OUT" SHOULD_NOT_RUN
gh_expect_eq "locked account prompts" "$(gh_prompts "$GH_T/ap-erin.log")" \
	"$(printf 'Password:\nVerification code:')"
gh_expect_audit 1 'type=*lock*'

# Administrative lock.
gh_admin user lock frank >/dev/null || gh_fail "user lock frank"
code=$(gh_totp_now "$(gh_user_totp frank)")
GH_TOTP_CODE=$code gh_ssh_cmd "frank@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "administratively locked account accepted"
gh_expect_audit 1 actor=frank 'type=auth*' 'result!=ok'
gh_admin user unlock frank >/dev/null || gh_fail "user unlock frank"
# The refused attempt must not have consumed the code: a locked account is
# refused before its TOTP is checked. Use the next code if the step moved.
gh_ssh_cmd "frank@$TGT_LOGIN@web01" 'echo UNLOCKED'
if [ "$RC" -ne 0 ]; then
	sleep $((31 - $(date +%s) % 30))
	gh_ssh_cmd "frank@$TGT_LOGIN@web01" 'echo UNLOCKED'
fi
gh_expect_eq "after unlock" "$OUT" UNLOCKED
echo "t_proxy_lockout: ok"
