#!/bin/bash
# Scenario: live watch and kill with real OpenSSH clients. An operator runs
# a command printing a counter on web01; an auditor lists the live
# sessions (user, asset, start, idle, bytes), watches the session from now
# and from the start (sees the counter advance), leaves one watch without
# disturbing the session, then kills it with a reason: the operator is told
# "session terminated by auditor aud: REASON", the connection closes, the
# sessions row says who ended it and why, the recording holds the mark, the
# watchers see the end, and both sides are audit events.
. "$(dirname "$0")/lib-ssh.sh"
. "$(dirname "$0")/lib-role.sh"

gh_data_init
gh_setup_web01
gh_user opw operator
gh_user aud auditor
gh_grant opw web01 "$TGT_LOGIN"
start_gatehoused

# The operator's session: a counter, until killed.
gh_ssh "opw@$TGT_LOGIN@web01" 'i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo COUNT$i; sleep 0.2; done' \
	</dev/null >"$GH_T/op.out" 2>"$GH_T/op.err" &
op=$!
gh_keep_pid $op
gh_wait_for 30 grep -q COUNT3 "$GH_T/op.out" || gh_fail "the operator's session did not start: $(cat "$GH_T/op.err")"
SID=$(gh_sql "SELECT id FROM sessions WHERE user = 'opw' AND state = 'active'")
[ -n "$SID" ] || gh_fail "no active session row"

role_master aud
role_master admin

# session list --active: user, asset, start, idle, bytes
sleep 5.5 # the row's byte counts are updated every 5 s
role_run aud session list --active
[ "$RC" = 0 ] || gh_fail "session list --active: $ERR"
gh_expect_match "active list header" "$OUT" "IDLE\(S\) +BYTES IN/OUT"
gh_expect_match "active list row" "$OUT" "^$SID +opw +127\.0\.0\.1:[0-9]+ +web01 +$TGT_LOGIN +[0-9T:-]+Z? +[0-9]+ +[0-9]+/[1-9][0-9]*"
role_run aud session list --active --json
echo "$OUT" | $PY -c 'import json,sys; s=json.load(sys.stdin); assert len(s)==1 and s[0]["user"]=="opw" and "idle" in s[0] and "bytes" in s[0], s' ||
	gh_fail "active list json: $OUT"
# A superadmin may see live sessions (to terminate them), not the history of others.
role_run admin session list --active
gh_expect_match "superadmin sees the live session" "$OUT" "opw"
role_run admin session list
gh_expect_nomatch "superadmin does not see others' history" "$OUT" "opw"

# Watch from now and from the start, read-only.
role_ssh aud watch "$SID" </dev/null >"$GH_T/w1.out" 2>"$GH_T/w1.err" &
w1=$!
gh_keep_pid $w1
role_ssh aud watch "$SID" --from start </dev/null >"$GH_T/w2.out" 2>"$GH_T/w2.err" &
w2=$!
gh_keep_pid $w2
gh_wait_for 20 grep -q COUNT1 "$GH_T/w2.out" || gh_fail "watch --from start shows nothing: $(cat "$GH_T/w2.err")"
count_of() { grep -ao 'COUNT[0-9]*' "$1" | tail -1 | tr -dc 0-9; }
count_above() { local n; n=$(count_of "$1"); [ -n "$n" ] && [ "$n" -gt "$2" ]; }
gh_wait_for 20 count_above "$GH_T/w1.out" 0 || gh_fail "watch from now shows nothing: $(cat "$GH_T/w1.err")"
a=$(count_of "$GH_T/w1.out")
gh_wait_for 20 count_above "$GH_T/w1.out" "$a" || gh_fail "the counter does not advance in the watch"
# from now: not from the start
first=$(grep -ao 'COUNT[0-9]*' "$GH_T/w1.out" | head -1 | tr -dc 0-9)
[ "$first" -gt 3 ] || gh_fail "watch from now started at COUNT$first"
gh_expect_match "watch banner" "$(cat "$GH_T/w1.err")" "watching session $SID \(opw on web01\)"

# In a terminal: q leaves the watch; the session goes on.
gh_tmux_start 100 30 "ssh -F /dev/null -o ControlMaster=no -o ControlPath=$GH_T/cm-aud.sock -o LogLevel=ERROR -tt x watch $SID"
gh_tmux_wait 20 'COUNT[0-9]+' || gh_fail "no counter in the terminal watch"
gh_tmux_keys q
gh_tmux_wait 10 'left the session; it goes on' || gh_fail "q did not leave the watch"
gh_tmux_wait 10 'GH_EXIT=0' || gh_fail "the terminal watch did not end with status 0"
tmux -S "$GH_TMUX_SOCK" kill-server 2>/dev/null

# Leaving a watch (here: the client goes away) leaves the session alone.
kill "$w2" 2>/dev/null
wait "$w2" 2>/dev/null || true
sleep 1
gh_expect_eq "session still active after a watcher left" \
	"$(gh_sql "SELECT state FROM sessions WHERE id = $SID")" active
n1=$(count_of "$GH_T/op.out")
sleep 1
[ "$(count_of "$GH_T/op.out")" -gt "$n1" ] || gh_fail "the operator's session stalled"

# Kill with a reason.
# ssh joins its arguments with spaces: quote for the role shell's splitter
role_run aud kill "$SID" --reason "'policy violation'"
[ "$RC" = 0 ] || gh_fail "kill: status $RC, $OUT $ERR"
gh_expect_match "kill output" "$OUT" "session $SID \(opw on web01\) terminated"
rc=0
wait "$op" || rc=$?
gh_expect_match "operator told" "$(cat "$GH_T/op.err")" "gatehouse: session terminated by auditor aud: policy violation"
[ "$rc" != 0 ] || gh_fail "the operator's ssh exited 0 after a kill"
gh_expect_eq "ended_by" "$(gh_sql "SELECT ended_by FROM sessions WHERE id = $SID")" aud
gh_expect_eq "end_reason" "$(gh_sql "SELECT end_reason FROM sessions WHERE id = $SID")" "terminated: policy violation"
gh_expect_eq "kill_reason" "$(gh_sql "SELECT kill_reason FROM sessions WHERE id = $SID")" "policy violation"
gh_expect_eq "state" "$(gh_sql "SELECT state FROM sessions WHERE id = $SID")" closed
gh_recording_has '"event":"terminated","by":"aud","role":"auditor","reason":"policy violation"' ||
	gh_fail "no termination mark in the recording"
gh_recording_has "session terminated by auditor aud: policy violation" || gh_fail "the operator's message is not recorded"
rc=0
wait "$w1" || rc=$?
[ "$rc" = 0 ] || gh_fail "watch did not end cleanly ($rc): $(cat "$GH_T/w1.err")"
gh_expect_match "watch saw the end" "$(cat "$GH_T/w1.err")" "the session ended"
gh_expect_audit 1 actor=aud type=session.kill result=ok "object=session:*"
gh_expect_audit 1 actor=aud type=session.terminated 'detail=*policy violation*'
gh_expect_audit 2 actor=aud type=shell.command 'detail=*"watch"*'
# Killing it again: it is not active any more.
role_run aud kill "$SID"
[ "$RC" = 1 ] || gh_fail "second kill: $RC"
gh_expect_match "second kill" "$ERR" "is not active"
# A control character in the reason would reach the operator's terminal.
role_run aud kill "$SID" --reason "\"$(printf 'a\033[2Jb')\""
[ "$RC" != 0 ] || gh_fail "reason with ESC accepted"

# play streams a large recording byte for byte (window and backpressure).
gh_user opb operator
gh_grant opb web01 "$TGT_LOGIN"
gh_ssh "opb@$TGT_LOGIN@web01" 'head -c 3000000 /dev/urandom | base64 -w 100' </dev/null >"$GH_T/big.out" 2>"$GH_T/big.err" ||
	gh_fail "big session: $(cat "$GH_T/big.err")"
gh_wait_sessions_closed 20 || gh_fail "big session still active"
BIG=$(gh_sql "SELECT id FROM sessions WHERE user = 'opb'")
role_ssh aud play "$BIG" --max-idle 0 </dev/null >"$GH_T/big.play" 2>"$GH_T/big.play.err" ||
	gh_fail "play of the big session: $(cat "$GH_T/big.play.err")"
gh_expect_eq "replayed bytes" "$(sha256sum <"$GH_T/big.play")" "$(sha256sum <"$GH_T/big.out")"
role_stop aud
role_stop admin
echo "t_role_watch_kill: ok"
