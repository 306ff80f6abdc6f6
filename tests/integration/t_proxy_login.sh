#!/bin/bash
# Scenario: password + TOTP login through keyboard-interactive, answered by
# SSH_ASKPASS, straight to a target with the direct syntax; the prompts are
# exactly "Password:" then "Verification code:", the command runs on the
# target, the attempt is an audit event with the source address and port,
# and the session row is closed afterwards.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user alice
gh_grant alice web01 "$TGT_LOGIN"
start_gatehoused

gh_ssh_cmd "alice@$TGT_LOGIN@web01" 'echo LOGIN_OK $((6*7)); echo "$SSH_CONNECTION"'
gh_expect_eq "exit status" "$RC" 0
gh_expect_match "command output" "$OUT" '^LOGIN_OK 42$'
# The target saw a connection on its own port: the bastion really relayed.
gh_expect_match "target side" "$OUT" "^127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 $WEB01_PORT\$"

prompts=$(gh_prompts "$GH_T/askpass.log")
gh_expect_eq "prompts" "$prompts" "$(printf 'Password:\nVerification code:')"

gh_expect_audit 1 actor=alice 'type=auth*' result=ok 'source=127.0.0.1:[0-9]*'
[ "$(gh_audit_count actor=alice 'type=auth*' 'result!=ok')" = 0 ] || gh_fail "a failed auth event for a good login"

gh_wait_sessions_closed 10 || gh_fail "session row still active after the client left"
n=$(gh_sql "SELECT count(*) FROM sessions WHERE user = 'alice' AND asset = 'web01' AND login = '$TGT_LOGIN' AND end > 0")
gh_expect_eq "closed sessions of alice on web01" "$n" 1
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_proxy_login: ok"
