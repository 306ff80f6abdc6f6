#!/bin/bash
# Scenario (issue 9): max_auth_tries bounds the attempts on one connection.
# A client willing to try five times gets exactly max_auth_tries = 2
# password rounds, then the connection is closed; each attempt is an
# auth.fail event, and the account is not locked by it (lockout 5).
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'max_auth_tries = 2' 'lockout_threshold = 5'
gh_setup_web01
gh_user dora
gh_grant dora web01 "$TGT_LOGIN"
start_gatehoused

GH_SSH_EXTRA=(-o NumberOfPasswordPrompts=5)
GH_ASKPASS_LOG=$GH_T/ap.log GH_PW='Wrong-Passw0rd!' gh_ssh_cmd "dora@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
GH_SSH_EXTRA=()
[ "$RC" -ne 0 ] || gh_fail "a wrong password was accepted"
gh_expect_eq "password rounds on one connection" "$(gh_prompts "$GH_T/ap.log" | grep -c '^Password:')" 2
gh_expect_audit 2 actor=dora type=auth.fail
gh_expect_eq "connections used" "$(grep -c 'authentication ended' "$GH_LOG")" 1
gh_expect_eq "not locked" "$(gh_sql "SELECT locked_until > strftime('%s','now') FROM users WHERE name = 'dora'")" 0

# The right password on a new connection still works.
gh_ssh_cmd "dora@$TGT_LOGIN@web01" "echo ok-$$"
gh_expect_eq "login after the closed connection" "$OUT" "ok-$$"
echo "t_preauth_max_tries: ok"
