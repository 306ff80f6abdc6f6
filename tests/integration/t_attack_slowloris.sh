#!/bin/bash
# Attack (issue 15, finding 8): a slowloris must not keep real operators
# out. 150 stalled connections (an SSH version line, then nothing) from 150
# loopback addresses 127.0.10.1-150, re-knocking whenever they lose their
# slot, against the default max_startups (10:30:100). Before the fix the
# flood filled the unauthenticated slots and MaxStartups' random early drop
# refused nearly every newcomer: 1 of 5 operators got in. Now a newcomer
# that would be refused takes the slot of the connection that has stalled
# longest (proxy/preauth.c preauth_pick_victim): all 5 operators get in on
# the first try while the flood is held. Each eviction is logged, audited
# (preauth.evict, batched) and counted against the evicted source like a
# login grace expiry (penalty_failures = 1 here, so an evicted source is
# blocked at once and its re-knocks are refused before the banner).
. "$(dirname "$0")/lib-ssh.sh"

FLOOD=$GH_SRC/tests/integration/attack/slowloris.py
NOPS=5
# A grace time long enough that no staller expires while the operators log
# in (the flood must be held throughout), default max_startups.
gh_data_init "login_grace_time = 180" "penalty_failures = 1" "penalty_window = 600" "penalty_time = 900"
gh_setup_web01
for i in $(seq 1 $NOPS); do
	gh_user "op$i"
	gh_grant "op$i" web01 "$TGT_LOGIN"
done
start_gatehoused

$PY "$FLOOD" "$GH_PORT" 150 10 "$GH_T/flood.status" --max-seconds 400 >"$GH_T/flood.out" 2>"$GH_T/flood.err" &
flood_pid=$!
gh_keep_pid "$flood_pid"
status_field() { # NAME: a field of the flood's status line
	sed -nE "s/.*\\b$1 ([0-9]+).*/\\1/p" "$GH_T/flood.status" 2>/dev/null
}
flood_ready() {
	[ "$(status_field ready)" = 1 ]
}
gh_wait_for 180 flood_ready || gh_fail "the flood did not knock from every source: $(cat "$GH_T/flood.status" "$GH_T/flood.err")"
# Let the attacker's re-knocks fill what it can (a few more rounds).
ready_round=$(status_field round)
flood_settled() {
	[ "$(status_field round)" -ge $((ready_round + 3)) ]
}
gh_wait_for 60 flood_settled || gh_fail "the flood stopped making rounds: $(cat "$GH_T/flood.status")"
held_before=$(status_field held)
echo "flood settled after ${SECONDS} s" >&2
echo "flood before the logins: $(cat "$GH_T/flood.status")" >&2
[ "$held_before" -ge 10 ] || gh_fail "the daemon holds only $held_before stalled connections (max_startups start is 10)"

# The operators, all at once, each trying exactly once (one ssh run, no retry).
declare -a pids=()
for i in $(seq 1 $NOPS); do
	GH_SSH_TIMEOUT=120 gh_ssh "op$i@$TGT_LOGIN@web01" "echo in-op$i" </dev/null \
		>"$GH_T/op$i.out" 2>"$GH_T/op$i.err" &
	pids+=($!)
done
ok=0
for i in $(seq 1 $NOPS); do
	wait "${pids[i - 1]}" && [ "$(cat "$GH_T/op$i.out")" = "in-op$i" ] && ok=$((ok + 1))
done
held_after=$(status_field held)
echo "logins done after ${SECONDS} s" >&2
echo "operators in on the first try: $ok of $NOPS; flood held $held_before before, $held_after after" >&2
for i in $(seq 1 $NOPS); do
	[ -s "$GH_T/op$i.err" ] && echo "op$i: $(head -c 300 "$GH_T/op$i.err")" >&2
done
[ "$ok" -eq $NOPS ] || gh_fail "only $ok of $NOPS operators got in on the first try during the flood"
kill -0 "$flood_pid" 2>/dev/null || gh_fail "the flood ended before the logins did"
[ "$held_after" -ge 10 ] || gh_fail "the flood was not held during the logins (held $held_after)"

# Evictions: one log line each, audited in batches, counted against the
# evicted source (blocked at once with penalty_failures = 1).
nlog=$(grep -c 'evicted the connection from 127\.0\.10\.' "$GH_LOG")
[ "$nlog" -ge 1 ] || gh_fail "no eviction logged"
evict_audited() {
	[ "$(gh_audit_count type=preauth.evict)" -ge 1 ]
}
gh_wait_for 15 evict_audited || true
gh_expect_audit 1 type=preauth.evict actor=system importance=high detail='*"evicted":*"no_auth_request":*'
victim=$(head -n 1 "$GH_T/flood.status.evicted")
[ -n "$victim" ] || gh_fail "the flood saw no connection evicted"
gh_expect_match "the eviction log line names the victim" "$(cat "$GH_LOG")" "evicted the connection from ${victim//./\\.} "
victim_blocked() {
	[ "$(gh_audit_count type=source.block object="$victim")" -ge 1 ]
}
gh_wait_for 15 victim_blocked || true
gh_expect_audit 1 type=source.block object="$victim" importance=high
banner_from() {
	$PY - "$GH_PORT" "$1" <<'PY'
import socket, sys
s = socket.socket()
s.bind((sys.argv[2], 0))
s.settimeout(10)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("banner" if s.recv(100).startswith(b"SSH-") else "closed")
except OSError:
    print("closed")
PY
}
gh_expect_eq "an evicted source is refused (penalty)" "$(banner_from "$victim")" closed
gh_expect_eq "the operators' source" "$(banner_from 127.0.0.1)" banner
gh_expect_audit $NOPS type=auth.success
gh_daemon_alive || gh_fail "gatehoused died under the flood"
kill -TERM "$flood_pid"
gh_wait_for 20 bash -c "! kill -0 $flood_pid 2>/dev/null" || true
echo "t_attack_slowloris: ok ($ok of $NOPS operators in; flood held $held_before/$held_after;" \
	"$nlog evictions logged; $(cat "$GH_T/flood.out"))"
