#!/bin/bash
# Scenario (crash recovery): kill -9 the daemon AND the connection process in
# the middle of a session that keeps printing, restart the daemon. The row is
# closed 'aborted' with the recording's chain head, frame count and index
# rebuilt from the file; the file reads cleanly up to its torn tail and holds
# what was flushed before the kill; session.end is audited with the chain
# head and the torn tail; the audit chain verifies; gatehouse-play --verify
# accepts the recording against the row.
. "$(dirname "$0")/lib-ssh.sh"

RECDUMP=$GH_B/tests/helpers/recdump
[ -x "$RECDUMP" ] || gh_fail "missing $RECDUMP (make test-build)"

gh_data_init
gh_setup_web01
gh_user cara
gh_grant cara web01 "$TGT_LOGIN"
start_gatehoused

# Ticks 10 a second, numbered on the target (the marker is not in the command).
gh_ssh "cara@$TGT_LOGIN@web01" 'i=0; while :; do i=$((i+1)); echo TICK_$i.; sleep 0.1; done' </dev/null \
	>"$GH_T/cara.out" 2>"$GH_T/cara.err" &
sshpid=$!
gh_keep_pid $sshpid
gh_wait_for 30 grep -q 'TICK_30\.' "$GH_T/cara.out" || gh_fail "the session does not print"
gh_expect_eq "active sessions" "$(gh_sql "SELECT count(*) FROM sessions WHERE state = 'active'")" 1
cpid=$(gh_sql "SELECT pid FROM sessions WHERE state = 'active'")
uuid=$(gh_sql "SELECT uuid FROM sessions WHERE state = 'active'")
rec=$(gh_sql "SELECT recording FROM sessions WHERE state = 'active'")
[ -n "$cpid" ] && [ "$cpid" -gt 0 ] && kill -0 "$cpid" || gh_fail "no live connection process for the session"
# What the operator has seen now was recorded; 1.5 s later it is flushed
# (the writer flushes at least once a second).
seen=$(grep -o 'TICK_[0-9]*\.' "$GH_T/cara.out" | tail -1)
sleep 1.5
kill -KILL "$GH_PID" "$cpid"
gh_wait_for 10 bash -c "! kill -0 $cpid 2>/dev/null && ! kill -0 $GH_PID 2>/dev/null" || gh_fail "processes survived kill -9"
kill "$sshpid" 2>/dev/null
gh_expect_eq "row still active after the crash" "$(gh_sql "SELECT state FROM sessions WHERE uuid = '$uuid'")" active

# The file as the crash left it: no trailer, a torn tail, readable up to it.
"$RECDUMP" "$rec" >"$GH_T/dump1.txt" 2>"$GH_T/dump1.err" || gh_fail "recording unreadable: $(cat "$GH_T/dump1.err")"
tail -1 "$GH_T/dump1.txt" | grep -q 'torn=1 .*trailer=0' || gh_fail "expected a torn tail: $(tail -1 "$GH_T/dump1.txt")"
grep -aq "data-out .*$seen" "$GH_T/dump1.txt" || gh_fail "$seen (seen 1.5 s before the kill) is not in the recording"
# zstdcat decodes the complete blocks, then fails on the torn frame's end.
zstdcat -q "$rec" >"$GH_T/zstdcat.out" 2>/dev/null && gh_fail "zstdcat did not notice the torn tail"
grep -aqF "$seen" "$GH_T/zstdcat.out" || gh_fail "zstdcat does not decode $seen"
head=$(tail -1 "$GH_T/dump1.txt" | sed -nE 's/.* frames=([0-9]+) .* head=([0-9a-f]{64}) .*/\2/p')
frames=$(tail -1 "$GH_T/dump1.txt" | sed -nE 's/.* frames=([0-9]+) .*/\1/p')
[ -n "$head" ] && [ "$frames" -ge 1 ] || gh_fail "no head/frames from the reader"

# A row whose pid now belongs to another program (pid reuse after a reboot)
# and whose recording is gone is recovered too, and audited loudly.
sleep 300 &
otherpid=$!
gh_keep_pid $otherpid
sqlite3 -cmd '.timeout 5000' "$GH_DATA/gatehouse.db" "INSERT INTO sessions (uuid, user, source_addr, source_port,
	asset, login, start, start_ms, state, pid, recording) VALUES ('00000000-0000-4000-8000-000000000001', 'ghost',
	'127.0.0.1', 1, 'web01', 'root', strftime('%s','now'), 0, 'active', $otherpid,
	'$GH_DATA/recordings/missing.ghrec')" || gh_fail "cannot insert the reused-pid row"

# Restart: the stale rows are recovered before the daemon listens.
start_gatehoused
gh_expect_eq "reused pid: end reason" \
	"$(gh_sql "SELECT end_reason FROM sessions WHERE user = 'ghost'")" aborted
gdetail=$(gh_sql "SELECT detail FROM audit WHERE type = 'session.end' AND actor = 'ghost'")
gh_expect_match "missing recording audited" "$(jq -r .rec_error <<<"$gdetail")" '.'
gh_expect_eq "missing recording importance" \
	"$(gh_sql "SELECT importance FROM audit WHERE type = 'session.end' AND actor = 'ghost'")" high
gh_expect_eq "state" "$(gh_sql "SELECT state FROM sessions WHERE uuid = '$uuid'")" closed
gh_expect_eq "end reason" "$(gh_sql "SELECT end_reason FROM sessions WHERE uuid = '$uuid'")" aborted
gh_expect_eq "rec_head" "$(gh_sql "SELECT rec_head FROM sessions WHERE uuid = '$uuid'")" "$head"
gh_expect_eq "rec_frames" "$(gh_sql "SELECT rec_frames FROM sessions WHERE uuid = '$uuid'")" "$frames"
gh_expect_eq "rec_index size" "$(gh_sql "SELECT length(rec_index) FROM sessions WHERE uuid = '$uuid'")" \
	$((64 * frames))
# The file itself is not modified by the recovery.
"$RECDUMP" "$rec" >"$GH_T/dump2.txt" 2>&1 || gh_fail "recording unreadable after recovery"
cmp -s "$GH_T/dump1.txt" "$GH_T/dump2.txt" || gh_fail "the recording changed during recovery"

# session.end audited with the chain head and the torn tail, in the chain.
detail=$(gh_sql "SELECT detail FROM audit WHERE type = 'session.end' AND object = 'session:$uuid' AND result = 'aborted'")
[ -n "$detail" ] || gh_fail "no session.end (aborted) audit event"
gh_expect_eq "audited head" "$(jq -r .rec_head <<<"$detail")" "$head"
gh_expect_eq "audited frames" "$(jq -r .rec_frames <<<"$detail")" "$frames"
gh_expect_eq "audited torn" "$(jq -r .rec_torn <<<"$detail")" true
[ "$(jq -r .rec_bytes <<<"$detail")" -gt 0 ] || gh_fail "no rec_bytes in the audit event"
gh_admin audit verify >"$GH_T/verify.out" 2>&1 || gh_fail "audit verify: $(cat "$GH_T/verify.out")"
# The player checks the file against the recovered row.
if [ -x "$GH_B/gatehouse-play" ]; then
	"$GH_B/gatehouse-play" -d "$GH_DATA" "$uuid" --verify >"$GH_T/play.out" 2>&1 ||
		gh_fail "gatehouse-play --verify: $(cat "$GH_T/play.out")"
fi

# Only the connection process dies (the daemon lives on): the listener
# recovers its row at once.
gh_user cory
gh_grant cory web01 "$TGT_LOGIN"
gh_ssh "cory@$TGT_LOGIN@web01" 'i=0; while :; do i=$((i+1)); echo TOCK_$i.; sleep 0.1; done' </dev/null \
	>"$GH_T/cory.out" 2>"$GH_T/cory.err" &
sshpid=$!
gh_keep_pid $sshpid
gh_wait_for 30 grep -q 'TOCK_20\.' "$GH_T/cory.out" || gh_fail "the second session does not print"
cpid=$(gh_sql "SELECT pid FROM sessions WHERE user = 'cory' AND state = 'active'")
[ -n "$cpid" ] || gh_fail "no active row for the second session"
sleep 1.2
kill -KILL "$cpid"
gh_wait_for 10 bash -c "[ \"\$(sqlite3 -readonly -cmd '.timeout 5000' '$GH_DATA/gatehouse.db' \"SELECT end_reason FROM sessions WHERE user = 'cory'\")\" = aborted ]" ||
	gh_fail "the killed connection's row was not closed as aborted while the daemon runs"
kill "$sshpid" 2>/dev/null
gh_daemon_alive || gh_fail "the daemon died with its connection process"
crec=$(gh_sql "SELECT recording FROM sessions WHERE user = 'cory'")
"$RECDUMP" "$crec" >"$GH_T/dump3.txt" 2>&1 || gh_fail "second recording unreadable"
gh_expect_eq "second rec_head" "$(gh_sql "SELECT rec_head FROM sessions WHERE user = 'cory'")" \
	"$(tail -1 "$GH_T/dump3.txt" | sed -nE 's/.* head=([0-9a-f]{64}) .*/\1/p')"
gh_expect_eq "second session.end audited" \
	"$(gh_sql "SELECT count(*) FROM audit WHERE type = 'session.end' AND actor = 'cory' AND result = 'aborted'")" 1

# A normal session afterwards stores its index too, and its session.end
# carries the chain head of the closed recording.
gh_user cora
gh_grant cora web01 "$TGT_LOGIN"
out=$(gh_ssh "cora@$TGT_LOGIN@web01" 'echo NORMAL_$((40+2))' </dev/null) || gh_fail "normal session failed"
gh_expect_eq "normal output" "$out" NORMAL_42
gh_wait_sessions_closed 10 || gh_fail "normal session still active"
nuuid=$(gh_sql "SELECT uuid FROM sessions WHERE user = 'cora'")
nhead=$(gh_sql "SELECT rec_head FROM sessions WHERE user = 'cora'")
nframes=$(gh_sql "SELECT rec_frames FROM sessions WHERE user = 'cora'")
[ "$nframes" -ge 1 ] || gh_fail "normal session: no frames"
gh_expect_eq "normal rec_index size" "$(gh_sql "SELECT length(rec_index) FROM sessions WHERE user = 'cora'")" \
	$((64 * nframes))
ndetail=$(gh_sql "SELECT detail FROM audit WHERE type = 'session.end' AND object = 'session:$nuuid'")
gh_expect_eq "normal audited head" "$(jq -r .rec_head <<<"$ndetail")" "$nhead"
gh_expect_eq "normal audited frames" "$(jq -r .rec_frames <<<"$ndetail")" "$nframes"
gh_admin audit verify >"$GH_T/verify2.out" 2>&1 || gh_fail "audit verify: $(cat "$GH_T/verify2.out")"
echo "t_proxy_crash_recovery: ok"
