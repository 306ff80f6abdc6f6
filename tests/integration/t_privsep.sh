#!/bin/bash
# Scenario (issue 9, privilege separation): every connection is two
# processes. Before authentication the network child (the one that parses
# SSH) runs with no_new_privs under a seccomp filter and holds no
# descriptor of the data directory, while its monitor holds the database.
# After authentication the child opens the database itself (the monitor
# lets it) and the monitor lets go of it. tests/unit/test_privsep.c shows
# what the filter refuses before authentication. The hash gate's table
# (proxy/hashgate.c, shared by the monitors) is not mapped in the child.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'audit_jsonl = audit.jsonl'
gh_setup_web01
gh_user ann
gh_grant ann web01 "$TGT_LOGIN"
start_gatehoused

# The two processes of a connection: the monitor (child of the listener)
# and the network child (child of the monitor).
procs_of_listener() { pgrep -P "$GH_PID" | head -1; }
data_fds() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c -F "$GH_DATA/" || true; }
db_open() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q -F "$GH_DATA/gatehouse.db"; }
# Shared anonymous mappings (the hash gate's table) of a process.
shared_anon() { grep -cE ' rw-s .*/dev/zero' "/proc/$1/maps" 2>/dev/null || true; }

# A client that sends its banner and waits, as a pre-authentication attacker would.
$PY -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"SSH-2.0-probe\r\n")
time.sleep(60)
' "$GH_PORT" &
probe=$!
gh_keep_pid $probe
gh_wait_for 20 bash -c "[ -n \"\$(pgrep -P \$(pgrep -P $GH_PID | head -1) 2>/dev/null)\" ]" ||
	gh_fail "no network child under the connection's monitor"
monitor=$(procs_of_listener)
child=$(pgrep -P "$monitor" | head -1)
gh_expect_eq "network child: no_new_privs" "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$child/status")" 1
gh_expect_eq "network child: seccomp filter mode" "$(awk '/^Seccomp:/ {print $2}' "/proc/$child/status")" 2
gh_expect_eq "network child: descriptors into the data directory" "$(data_fds "$child")" 0
db_open "$monitor" || gh_fail "the monitor does not hold the database before authentication"
[ "$(shared_anon "$monitor")" -ge 1 ] || gh_fail "the monitor does not map the hash gate's table"
gh_expect_eq "network child: the hash gate's table unmapped" "$(shared_anon "$child")" 0
gh_expect_eq "same user for both" "$(stat -c %U "/proc/$child")" "$(stat -c %U "/proc/$monitor")"
kill "$probe" 2>/dev/null || true
gh_wait_for 20 bash -c "[ -z \"\$(pgrep -P $GH_PID)\" ]" || gh_fail "the stalled connection's processes did not end"

# A real login: afterwards the child holds the database, the monitor not.
gh_ssh "ann@$TGT_LOGIN@web01" 'echo STARTED; sleep 60' </dev/null >"$GH_T/ann.out" 2>"$GH_T/ann.err" &
gh_keep_pid $!
gh_wait_for 30 grep -q STARTED "$GH_T/ann.out" || gh_fail "ann's session did not start: $(cat "$GH_T/ann.err")"
monitor=$(procs_of_listener)
child=$(pgrep -P "$monitor" | head -1)
db_open "$child" || gh_fail "the authenticated child does not hold the database"
db_open "$monitor" && gh_fail "the monitor still holds the database after authentication"
gh_expect_eq "the session row names the network child" \
	"$(gh_sql "SELECT pid FROM sessions WHERE user = 'ann' AND state = 'active'")" "$child"
gh_expect_eq "network child still sandboxed" "$(awk '/^Seccomp:/ {print $2}' "/proc/$child/status")" 2

# Nothing inherited survives in the child under a stale number: the
# JSON-lines export once wrote into the database's WAL that reused its
# descriptor. The events of the session are in the database and the
# export, and the chain verifies.
gh_expect_match "session.start in the database" \
	"$(gh_sql "SELECT count(*) FROM audit WHERE type = 'session.start' AND actor = 'ann'")" '^1$'
grep -q '"type":"session.start"' "$GH_DATA/audit.jsonl" || gh_fail "session.start not exported"
head -c 16 "$GH_DATA/gatehouse.db-wal" | grep -q '{' && gh_fail "JSON in the WAL"
gh_admin audit verify >"$GH_T/verify.out" 2>&1 || gh_fail "audit verify: $(cat "$GH_T/verify.out")"

# Killing the monitor takes the child with it (PR_SET_PDEATHSIG).
kill -9 "$monitor"
gh_wait_for 10 bash -c "! kill -0 $child 2>/dev/null" || gh_fail "the network child outlived its monitor"
echo "t_privsep: ok"
