#!/bin/bash
# Scenario: OpenSSH connection sharing. One login (one TOTP code), then
# several channels over the same connection, one after another and at the
# same time: each gets its own target channel with its own output and exit
# status, and all of them are in the connection's recording.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user max
gh_grant max web01 "$TGT_LOGIN"
start_gatehoused

sock=$GH_T/cm.sock
GH_SSH_EXTRA=(-o ControlMaster=yes -o "ControlPath=$sock" -o ControlPersist=no -N)
gh_ssh "max@$TGT_LOGIN@web01" </dev/null >"$GH_T/master.out" 2>"$GH_T/master.err" &
master=$!
gh_keep_pid $master
GH_SSH_EXTRA=()
gh_wait_for 30 test -S "$sock" || gh_fail "control master did not come up: $(cat "$GH_T/master.err")"

mux() {
	ssh -F /dev/null -o ControlMaster=no -o "ControlPath=$sock" -o BatchMode=yes -o LogLevel=ERROR x "$@"
}
out1=$(mux 'echo CHAN_ONE') || gh_fail "first shared channel failed"
gh_expect_eq "first channel" "$out1" CHAN_ONE
rc=0
out2=$(mux 'echo CHAN_TWO; exit 6') || rc=$?
gh_expect_eq "second channel output" "$out2" CHAN_TWO
gh_expect_eq "second channel status" "$rc" 6

# Two at once, interleaving output.
mux 'for i in 1 2 3; do echo A$i; sleep 0.3; done' >"$GH_T/a.out" 2>"$GH_T/a.err" &
pa=$!
mux 'for i in 1 2 3; do echo B$i; sleep 0.3; done' >"$GH_T/b.out" 2>"$GH_T/b.err" &
pb=$!
rca=0; wait $pa || rca=$?; [ "$rca" = 0 ] || gh_fail "parallel channel A failed (status $rca, output [$(cat "$GH_T/a.out")], stderr [$(cat "$GH_T/a.err")])"
rcb=0; wait $pb || rcb=$?; [ "$rcb" = 0 ] || gh_fail "parallel channel B failed (status $rcb, output [$(cat "$GH_T/b.out")], stderr [$(cat "$GH_T/b.err")])"
gh_expect_eq "parallel A" "$(cat "$GH_T/a.out")" "$(printf 'A1\nA2\nA3')"
gh_expect_eq "parallel B" "$(cat "$GH_T/b.out")" "$(printf 'B1\nB2\nB3')"

mux -O exit 2>/dev/null || true
gh_wait_for 10 bash -c "! kill -0 $master 2>/dev/null" || gh_fail "master did not exit"
gh_wait_sessions_closed 10 || gh_fail "session still active"
gh_expect_eq "one session for the shared connection" "$(gh_sql "SELECT count(*) FROM sessions WHERE user = 'max'")" 1
for m in CHAN_ONE CHAN_TWO A3 B3; do
	gh_recording_has "$m" || gh_fail "$m is not in the recording"
done
# Only one login: one auth.success.
gh_expect_eq "logins" "$(gh_audit_count actor=max type=auth.success)" 1
echo "t_proxy_multiplex: ok"
