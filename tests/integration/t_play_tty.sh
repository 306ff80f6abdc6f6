#!/bin/bash
# Scenario: gatehouse-play driven in a terminal (tmux): it plays with the
# original timing, pauses, seeks 10 s with the arrow keys (through the
# keyframe cache it writes beside the recording), jumps to the previous
# command and to a typed time, tells that the recorded size differs from
# the window, and quits on q, leaving the terminal as it was.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux is not installed"
gh_setup
PLAY=$GH_BUILD/gatehouse-play
REC=$GH_TMP/screens.ghrec
"$GH_BUILD/tests/helpers/mkrec" --screens "$REC" >/dev/null || die "mkrec"
SOCK=gh-play-$$
tmx() { tmux -L "$SOCK" "$@"; }
trap 'tmx kill-server 2>/dev/null; gh_lib_cleanup' EXIT
screen() { tmx capture-pane -p -t p; }
# wait_for TEXT: the pane shows TEXT within 10 s
wait_for() {
	local n
	for ((n = 0; n < 100; n++)); do
		screen | grep -Fq -- "$1" && return 0
		sleep 0.1
	done
	screen >&2
	die "the player never showed [$1]"
}

tmx new-session -d -s p -x 90 -y 30 "$PLAY $REC; echo PLAYER-EXIT=\$?; sleep 60"
wait_for "SCREEN-A"
wait_for "[recorded 80x24]"
expect_match "status line" "$(screen | tail -1)" '^ > 00:00:0[0-9] / 00:00:5[89]  x1  alice@web01'
tmx send-keys -t p Space
wait_for " || "
# 20 s later in the recording: the second screen, without waiting 20 s
tmx send-keys -t p Right Right
wait_for "SCREEN-B"
expect_match "position after two seeks" "$(screen | tail -1)" '^ \|\| 00:00:2[0-9] '
expect_not_contains "old screen gone" "$(screen)" "SCREEN-A"
tmx send-keys -t p Right Right
wait_for "SCREEN-C"
# back 30 s
tmx send-keys -t p Left Left Left
wait_for "SCREEN-A"
expect_contains "typed command on screen" "$(screen)" "$ ls"
# the previous command from 45 s is "id" (typed at ~25 s)
tmx send-keys -t p g 4 5 Enter
wait_for "SCREEN-C"
tmx send-keys -t p '['
wait_for "SCREEN-B"
expect_contains "command shown" "$(screen | tail -1)" "id"
# speed
tmx send-keys -t p +
wait_for " x2 "
# the keyframe cache was written beside the recording
[ -s "${REC%.ghrec}.ghkf" ] || die "no keyframe cache beside the recording"
tmx send-keys -t p q
wait_for "PLAYER-EXIT=0"
expect_not_contains "status line gone after quit" "$(screen)" "alice@web01"
echo "t_play_tty: ok"
