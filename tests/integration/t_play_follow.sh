#!/bin/bash
# Scenario: --follow on a recording still being written (tests/helpers/mkrec
# --slow writes a line every 400 ms, flushed, then closes): the player
# prints what is there, keeps reading as the file grows, shows the lines
# as they come (before the writer has finished) and exits by itself when
# the recording ends. Without --follow it stops at the current end.
. "$(dirname "$0")/lib.sh"
gh_setup
PLAY=$GH_BUILD/gatehouse-play
REC=$GH_TMP/live.ghrec
"$GH_BUILD/tests/helpers/mkrec" --slow "$REC" >"$GH_TMP/mkrec.out" &
writer=$!
gh_track_pid "$writer"
for ((n = 0; n < 50; n++)); do
	[ -s "$REC" ] && break
	sleep 0.1
done
"$PLAY" --follow "$REC" >"$GH_TMP/follow.out" 2>"$GH_TMP/follow.err" &
player=$!
gh_track_pid "$player"
# a line appears while the writer is still writing
for ((n = 0; n < 50; n++)); do
	grep -q "line 2" "$GH_TMP/follow.out" 2>/dev/null && break
	sleep 0.1
done
grep -q "line 2" "$GH_TMP/follow.out" || die "nothing followed: $(cat "$GH_TMP/follow.err")"
kill -0 "$writer" 2>/dev/null || die "the writer finished before the player showed anything (not a live test)"
grep -q "line 5" "$GH_TMP/follow.out" && die "line 5 shown before it was written"
# a reader without --follow sees a prefix and stops at once
timeout 10 "$PLAY" "$REC" >"$GH_TMP/prefix.out" || die "plain read of a live file failed"
grep -q "line 1" "$GH_TMP/prefix.out" || die "plain read: $(cat "$GH_TMP/prefix.out")"
# the player ends by itself when the recording is closed
for ((n = 0; n < 100; n++)); do
	kill -0 "$player" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$player" 2>/dev/null && die "the player did not end with the recording"
wait "$player" || die "the player failed: $(cat "$GH_TMP/follow.err")"
expect_eq "followed output" "$(tr -d '\r' <"$GH_TMP/follow.out")" "$(printf 'line 1\nline 2\nline 3\nline 4\nline 5')"
echo "t_play_follow: ok"
