#!/bin/bash
# Scenario: wrong password, wrong TOTP code and an unknown user are refused;
# an unknown user gets exactly the prompts a known one gets (no user
# enumeration); every failure is an audit event with the source.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user bob
gh_user carol
gh_grant bob web01 "$TGT_LOGIN"
gh_grant carol web01 "$TGT_LOGIN"
start_gatehoused


# Wrong password, right code.
GH_ASKPASS_LOG=$GH_T/ap-bob.log GH_PW='Wrong-Passw0rd!' gh_ssh_cmd "bob@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "wrong password accepted"
gh_expect_nomatch "output after wrong password" "$OUT" SHOULD_NOT_RUN
bob_err=${ERR//bob/X}

# Right password, wrong code.
GH_ASKPASS_LOG=$GH_T/ap-carol.log GH_TOTP_CODE=$(gh_totp_wrong "$(gh_user_totp carol)") \
	gh_ssh_cmd "carol@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "wrong TOTP code accepted"
gh_expect_nomatch "output after wrong code" "$OUT" SHOULD_NOT_RUN
carol_prompts=$(gh_prompts "$GH_T/ap-carol.log")
gh_expect_eq "prompts for a wrong code" "$carol_prompts" "$(printf 'Password:\nVerification code:')"

# Unknown user: the same prompts as a known user with a wrong password.
GH_ASKPASS_LOG=$GH_T/ap-ghost.log GH_PW='Wrong-Passw0rd!' gh_ssh_cmd "ghost@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "unknown user accepted"
gh_expect_eq "prompts: unknown user vs wrong password" "$(gh_prompts "$GH_T/ap-ghost.log")" "$(gh_prompts "$GH_T/ap-bob.log")"
ghost_err=${ERR//ghost/X}
gh_expect_eq "unknown user prompts" "$(gh_prompts "$GH_T/ap-ghost.log" | head -1)" "Password:"

# The client-visible error must not tell unknown from known users either.
gh_expect_eq "failure message, unknown vs known" "$ghost_err" "$bob_err"

gh_expect_audit 1 actor=bob 'type=auth*' 'result!=ok' 'source=127.0.0.1:[0-9]*'
gh_expect_audit 1 actor=carol 'type=auth*' 'result!=ok' 'source=127.0.0.1:[0-9]*'
gh_expect_audit 1 actor=ghost 'type=auth*' 'result!=ok' 'source=127.0.0.1:[0-9]*'
[ "$(gh_audit_count 'type=auth*' result=ok)" = 0 ] || gh_fail "a successful auth event although every login failed"
# Failures count towards the lockout (stored per user, across connections).
gh_expect_eq "bob failed_count" "$(gh_sql "SELECT failed_count FROM users WHERE name = 'bob'")" 1
gh_expect_eq "carol failed_count" "$(gh_sql "SELECT failed_count FROM users WHERE name = 'carol'")" 1
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_proxy_auth_fail: ok"
