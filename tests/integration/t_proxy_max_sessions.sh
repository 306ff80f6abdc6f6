#!/bin/bash
# Scenario: max_sessions caps the connections served at once. With
# max_sessions = 2 and two live sessions, a third connection is closed at
# accept (and logged); once one session ends, a new login works again.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'max_sessions = 2'
gh_setup_web01
for u in ann bob cat dan; do
	gh_user "$u"
	gh_grant "$u" web01 "$TGT_LOGIN"
done
start_gatehoused

for u in ann bob; do
	gh_ssh "$u@$TGT_LOGIN@web01" 'echo STARTED; sleep 120' </dev/null >"$GH_T/$u.out" 2>"$GH_T/$u.err" &
	gh_keep_pid $!
	gh_wait_for 30 grep -q STARTED "$GH_T/$u.out" || gh_fail "$u's session did not start"
done

rc=0
gh_ssh "cat@$TGT_LOGIN@web01" 'echo THIRD' </dev/null >"$GH_T/cat.out" 2>"$GH_T/cat.err" || rc=$?
[ "$rc" -ne 0 ] || gh_fail "a third session was served with max_sessions = 2"
grep -q THIRD "$GH_T/cat.out" && gh_fail "the third session ran its command"
gh_expect_match "refusal logged" "$(cat "$GH_LOG")" 'refusing a connection from 127\.0\.0\.1: 2 connections'

# One ends: its slot is free again.
pkill -f "ssh .*ann@$TGT_LOGIN@web01@127" || gh_fail "no ssh client of ann's to end"
gh_wait_for 30 bash -c "[ \"\$(sqlite3 '$GH_DATA/gatehouse.db' \"SELECT count(*) FROM sessions WHERE state = 'active'\")\" = 1 ]" ||
	gh_fail "ann's session did not end"
gh_wait_for 30 bash -c "[ \$(pgrep -c -P $GH_PID) -le 1 ]" || gh_fail "ann's connection process did not exit"
out=$(gh_ssh "dan@$TGT_LOGIN@web01" 'echo FOURTH' </dev/null 2>"$GH_T/dan.err") || gh_fail "a login after a slot was freed failed: $(cat "$GH_T/dan.err")"
gh_expect_eq "fourth session output" "$out" FOURTH
echo "t_proxy_max_sessions: ok"
