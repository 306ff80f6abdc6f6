#!/bin/bash
# Scenario: `ssh user@bastion` with no target shows a menu of the assets and
# logins the user is granted now (and nothing else); typing filters it and
# Enter opens the session; a number selects as well.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
start_target_sshd db
gh_asset_for_target db01
DB01_PORT=$TGT_PORT
gh_asset secret01 "$WEB01_PORT" "$GH_T/sshd-web/host_key.pub"
gh_account secret01 "$TGT_LOGIN" "$GH_T/sshd-web/client_key"
for u in hank hank2; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN"
	gh_grant $u db01 "$TGT_LOGIN"
done
# An expired grant does not show up in the menu either.
gh_grant hank secret01 "$TGT_LOGIN" --expires "$(date -u -d '+2 sec' '+%Y-%m-%dT%H:%M:%SZ')"
start_gatehoused
sleep 3

# Filter as you type, then Enter.
gh_tmux_start 100 30 "$(gh_ssh_cmdline hank -tt)"
gh_tmux_wait 30 'db01' || gh_fail "menu does not list db01"
gh_tmux_wait 5 'web01' || gh_fail "menu does not list web01"
gh_tmux_screen | grep -q secret01 && gh_fail "menu lists an asset without a valid grant"
gh_tmux_keys -l 'db0'
sleep 0.5
gh_tmux_keys Enter
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell after choosing db01"
gh_tmux_keys 'echo M=$SSH_CONNECTION' Enter
gh_tmux_wait 10 "M=127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 $DB01_PORT" || gh_fail "menu choice did not land on db01"
gh_tmux_keys 'exit' Enter
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "session did not end"
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null

# By number: read the number shown on web01's line.
gh_tmux_start 100 30 "$(gh_ssh_cmdline hank2 -tt)"
gh_tmux_wait 30 'web01' || gh_fail "menu does not list web01 (second run)"
num=$(gh_tmux_screen | sed -nE 's/^[^0-9]*([0-9]+)[^0-9a-z].*web01.*/\1/p' | head -1)
[ -n "$num" ] || gh_fail "no number on web01's menu line"
gh_tmux_keys -l "$num"
sleep 0.5
gh_tmux_keys Enter
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell after choosing web01 by number"
gh_tmux_keys 'echo M=$SSH_CONNECTION' Enter
gh_tmux_wait 10 "M=127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 $WEB01_PORT" || gh_fail "number choice did not land on web01"
gh_tmux_keys 'exit' Enter
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "session did not end"
echo "t_proxy_menu: ok"
