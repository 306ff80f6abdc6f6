#!/bin/bash
# Scenario: a menu session is recorded from its first channel: the menu the
# bastion drew and the keys the operator typed in it are in the recording,
# before a REC_MARK naming the chosen target; the sessions row gets the
# asset and login once chosen. A menu left with q is recorded too (no target).
. "$(dirname "$0")/lib-ssh.sh"

RECDUMP=$GH_B/tests/helpers/recdump
[ -x "$RECDUMP" ] || gh_fail "missing $RECDUMP (make test-build)"

gh_data_init
gh_setup_web01
gh_user mira
gh_user mira2
gh_grant mira web01 "$TGT_LOGIN"
gh_grant mira2 web01 "$TGT_LOGIN"
start_gatehoused

gh_tmux_start 100 30 "$(gh_ssh_cmdline mira -tt)"
gh_tmux_wait 30 'choose a target' || gh_fail "no menu"
# While the menu shows, the session already exists, without a target.
gh_expect_eq "menu session row" "$(gh_sql "SELECT count(*) FROM sessions WHERE user = 'mira' AND state = 'active' AND asset IS NULL")" 1
gh_tmux_keys -l 'web'
gh_tmux_wait 10 'filter: web' || gh_fail "filter not shown"
gh_tmux_keys Enter
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell after the menu"
gh_tmux_keys 'echo AFTER_$((20+3))' Enter
gh_tmux_wait 10 'AFTER_23' || gh_fail "no output"
gh_tmux_keys 'exit' Enter
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "session did not end"
gh_wait_sessions_closed 10 || gh_fail "session still active"
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null

gh_expect_eq "asset" "$(gh_sql "SELECT asset FROM sessions WHERE user = 'mira'")" web01
gh_expect_eq "login" "$(gh_sql "SELECT login FROM sessions WHERE user = 'mira'")" "$TGT_LOGIN"
rec=$(gh_sql "SELECT recording FROM sessions WHERE user = 'mira'")
"$RECDUMP" "$rec" >"$GH_T/mira.txt" 2>&1 || gh_fail "recording unreadable: $(cat "$GH_T/mira.txt")"
# Order: the menu screen (data-out), the typed filter (data-in), the target
# mark, then the target's output.
menu_line=$(grep -n 'data-out .*choose a target' "$GH_T/mira.txt" | head -1 | cut -d: -f1)
key_line=$(grep -n 'data-in .*w' "$GH_T/mira.txt" | head -1 | cut -d: -f1)
mark_line=$(grep -nF "mark ch=0 " "$GH_T/mira.txt" | grep -F '{"target":{"asset":"web01","login":"'"$TGT_LOGIN"'"}}' | head -1 | cut -d: -f1)
out_line=$(grep -n 'data-out .*AFTER_23' "$GH_T/mira.txt" | head -1 | cut -d: -f1)
[ -n "$menu_line" ] || gh_fail "the menu screen is not in the recording"
[ -n "$key_line" ] || gh_fail "the menu keys are not in the recording"
[ -n "$mark_line" ] || gh_fail "no target mark in the recording"
[ -n "$out_line" ] || gh_fail "the target's output is not in the recording"
[ "$menu_line" -lt "$key_line" ] && [ "$key_line" -lt "$mark_line" ] && [ "$mark_line" -lt "$out_line" ] ||
	gh_fail "records out of order: menu $menu_line, key $key_line, mark $mark_line, output $out_line"
grep -q 'filter: web' "$GH_T/mira.txt" || gh_fail "the redrawn (filtered) menu is not recorded"
# The header names user and session, and no target yet.
hdr=$(grep -m1 ' header ' "$GH_T/mira.txt" | sed -E 's/^[0-9]+ header ch=[0-9]+ len=[0-9]+ //')
gh_expect_eq "header user" "$(jq -r .user <<<"$hdr")" mira
gh_expect_eq "header asset" "$(jq -r .asset <<<"$hdr")" null
gh_expect_eq "only one channel open record" "$(grep -c ' channel-open ' "$GH_T/mira.txt")" 1

# Leaving the menu with q: recorded, no target.
gh_tmux_start 100 30 "$(gh_ssh_cmdline mira2 -tt)"
gh_tmux_wait 30 'choose a target' || gh_fail "no menu (second run)"
gh_tmux_keys -l 'q'
gh_tmux_wait 15 'GH_EXIT=' || gh_fail "q did not leave the menu"
gh_wait_sessions_closed 10 || gh_fail "quit session still active"
gh_expect_eq "quit asset" "$(gh_sql "SELECT ifnull(asset, 'NULL') FROM sessions WHERE user = 'mira2'")" NULL
rec2=$(gh_sql "SELECT recording FROM sessions WHERE user = 'mira2'")
"$RECDUMP" "$rec2" >"$GH_T/mira2.txt" 2>&1 || gh_fail "quit recording unreadable"
grep -q 'data-out .*choose a target' "$GH_T/mira2.txt" || gh_fail "quit: menu not recorded"
grep -q 'data-in ch=[0-9]* len=1 q$' "$GH_T/mira2.txt" || gh_fail "quit: the q key is not recorded"
grep -q ' mark ch=0 .*target' "$GH_T/mira2.txt" && gh_fail "quit: a target mark without a target"
gh_admin audit verify >"$GH_T/verify.out" 2>&1 || gh_fail "audit verify: $(cat "$GH_T/verify.out")"
echo "t_proxy_menu_recording: ok"
