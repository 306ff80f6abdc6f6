#!/bin/bash
# Scenario (issue 9, pre-authentication limits): 200 stalled unauthenticated
# connections (SSH banner, then silence) from 13 loopback sources do not stop
# a legitimate login from 127.0.0.1 while they are held; the daemon closes
# each at login_grace_time; every expiry counts against its source as a failed
# login, so with penalty_failures reached each stalling source is refused at
# accept (audited) while 127.0.0.1 still gets in. Then MaxStartups' random
# early drop with 10:30:100: never more than 'full' unauthenticated
# connections are held at once, some beyond 'start' are dropped, none below
# it. Since issue 15 (finding 8) a drop evicts the connection that has
# stalled longest in favour of the newcomer when one has been idle for a
# second (proxy/preauth.c), and refuses the newcomer only otherwise: the
# drops are counted as refusals plus evictions.
. "$(dirname "$0")/lib-ssh.sh"

STALL=$GH_SRC/tests/helpers/stall.py
GRACE=10
# Capacity for the 200 (13 sources x 16 = 208 >= 200); 200 / 13 rounds to
# 15 or 16 per source, so 15 grace expiries block each of them.
gh_data_init "login_grace_time = $GRACE" "max_startups = 250:30:250" "max_startups_per_source = 16" \
	"penalty_failures = 15" "penalty_window = 600" "penalty_time = 900"
gh_setup_web01
gh_user legit
gh_grant legit web01 "$TGT_LOGIN"
start_gatehoused

$PY "$STALL" "$GH_PORT" 200 2 14 "$GH_T/stall.status" >"$GH_T/stall.out" 2>"$GH_T/stall.err" &
stall_pid=$!
gh_keep_pid "$stall_pid"
gh_wait_for 60 test -s "$GH_T/stall.status" || gh_fail "the stalling client did not open its connections"
gh_expect_eq "stalled connections held" "$(cat "$GH_T/stall.status")" "held 200 refused 0"
t_held=$(date +%s)

# While the 200 are held: a legitimate login from 127.0.0.1 works.
gh_ssh_cmd "legit@$TGT_LOGIN@web01" "echo legit-$$"
gh_expect_eq "legitimate login during the flood" "$OUT" "legit-$$"
gh_expect_eq "exit status" "$RC" 0
[ $(($(date +%s) - t_held)) -lt "$GRACE" ] || gh_fail "the login took longer than the grace time: not concurrent"
kill -0 "$stall_pid" 2>/dev/null || gh_fail "the stalled connections were closed before the login finished"

# All 200 are closed by the daemon at the grace time (not earlier, bounded).
gh_wait_for $((GRACE + 60)) bash -c "! kill -0 $stall_pid 2>/dev/null" || gh_fail "stalled connections still open"
wait "$stall_pid" || true
read -r _ held _ refused _ closed _ min_life _ max_life <"$GH_T/stall.out" || gh_fail "no result: $(cat "$GH_T/stall.err")"
gh_expect_eq "all closed by the daemon" "$closed" 200
awk -v a="$min_life" -v g="$GRACE" 'BEGIN { exit !(a >= g - 1) }' || gh_fail "closed after $min_life s, before the grace time"
awk -v a="$max_life" -v g="$GRACE" 'BEGIN { exit !(a <= g + 30) }' || gh_fail "closed only after $max_life s"
gh_daemon_alive || gh_fail "gatehoused died under the flood"

# Grace expiries count as failures: the stalling sources are refused now.
banner_from() {
	$PY - "$GH_PORT" "$1" <<'PY'
import socket, sys
s = socket.socket()
s.bind((sys.argv[2], 0))
s.settimeout(5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("banner" if s.recv(100).startswith(b"SSH-") else "closed")
except OSError:
    print("closed")
PY
}
blocks_audited() {
	[ "$(gh_audit_count type=source.block)" -ge 13 ]
}
gh_wait_for 15 blocks_audited || gh_fail "not every stalling source was blocked and audited"
gh_expect_eq "stalling source after grace expiries" "$(banner_from 127.0.0.2)" closed
gh_expect_eq "another stalling source" "$(banner_from 127.0.0.14)" closed
gh_expect_eq "the legitimate source" "$(banner_from 127.0.0.1)" banner
gh_expect_audit 1 type=source.block object=127.0.0.2 importance=high
gh_expect_audit 1 type=source.block object=127.0.0.14 importance=high

# Random early drop, the defaults 10:30:100, a fresh daemon (no penalties):
# 160 stallers from 10 fresh sources (16 each).
kill -TERM "$GH_PID"
gh_wait_for 30 bash -c "! kill -0 $GH_PID 2>/dev/null" || gh_fail "gatehoused did not stop"
gh_conf "max_startups = 10:30:100"
start_gatehoused
$PY "$STALL" "$GH_PORT" 160 20 29 "$GH_T/drop.status" --count-closed >"$GH_T/drop.out" 2>"$GH_T/drop.err" &
stall_pid=$!
gh_keep_pid "$stall_pid"
gh_wait_for 60 test -s "$GH_T/drop.status" || gh_fail "the second stalling client did not open its connections"
read -r _ held _ refused _ closed <"$GH_T/drop.status"
evicted=$(grep -c 'evicted the connection from 127\.0\.0\.2[0-9]' "$GH_LOG")
[ "$held" -ge 10 ] || gh_fail "only $held held: refused below 'start'"
[ "$held" -le 100 ] || gh_fail "$held unauthenticated connections held, more than 'full' (100)"
[ $((refused + evicted)) -ge 60 ] || gh_fail "only $refused refused and $evicted evicted out of 160"
echo "random early drop: held $held, refused $refused, evicted $evicted of 160 ($closed closed early)" >&2
gh_expect_match "drop logged" "$(cat "$GH_LOG")" 'refusing a connection from 127\.0\.0\.2[0-9]|evicted the connection from 127\.0\.0\.2[0-9]'
kill "$stall_pid" 2>/dev/null
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_preauth_stall: ok (200 held, login meanwhile, closed at ${min_life}-${max_life} s; drop: held $held of 160," \
	"$refused refused, $evicted evicted)"
