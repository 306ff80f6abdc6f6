#!/bin/bash
# Scenario: an interactive pty shell: the terminal size of the pty-req reaches
# the target, a window change is relayed (stty size before and after a resize),
# TERM is carried, the exit status of the shell comes back, and the
# keyframe cache of the recording is ready when the session is over.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user tom
gh_grant tom web01 "$TGT_LOGIN"
start_gatehoused

gh_tmux_start 80 24 "$(gh_ssh_cmdline "tom@$TGT_LOGIN@web01" -tt)"
gh_tmux_wait 30 '[#$] *$' || gh_fail "no shell prompt"
gh_tmux_keys 'echo SZ=$(stty size) T=$TERM' Enter
gh_tmux_wait 10 'SZ=24 80 T=(screen|tmux|xterm)' || gh_fail "initial size/TERM not seen by the target"
tmux -S "$GH_TMUX_SOCK" resize-window -t t -x 100 -y 30 || gh_fail "tmux resize-window"
sleep 0.5
gh_tmux_keys 'clear; echo SZ=$(stty size)' Enter
gh_tmux_wait 10 'SZ=30 100' || gh_fail "window change not seen by the target"
gh_tmux_keys 'exit 7' Enter
gh_tmux_wait 15 'GH_EXIT=7' || gh_fail "shell exit status not returned"
# The connection process builds the player's keyframe cache after a terminal
# session, so the first seek of a replay needs no full scan.
gh_wait_sessions_closed 20 || gh_fail "session row still active"
rec=$(gh_sql "SELECT recording FROM sessions WHERE user = 'tom'")
case $rec in /*) ;; *) rec=$GH_DATA/$rec ;; esac
gh_wait_for 20 test -s "${rec%.ghrec}.ghkf" || gh_fail "no keyframe cache beside $rec"
echo "t_proxy_pty_resize: ok"
