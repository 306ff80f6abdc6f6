#!/bin/bash
# Scenario (issue 9): a password guesser on one source address is throttled
# while other users log in from another address. The guesser (paramiko, one
# attempt per connection so that only the per-source penalty can stop it,
# not max_auth_tries) runs from 127.0.0.9 against an existing account and
# unknown names; after penalty_failures failures its address is refused at
# accept (closed before the SSH banner, audited as source.block) and it gets
# no more guesses; meanwhile an operator logs in from 127.0.0.3, and the
# guessed account is locked (lockout counted across connections).
. "$(dirname "$0")/lib-ssh.sh"

PF=8
gh_data_init "penalty_failures = $PF" "penalty_window = 600" "penalty_time = 900" "lockout_threshold = 3"
gh_setup_web01
gh_user victim
gh_user oper
gh_grant oper web01 "$TGT_LOGIN"
start_gatehoused

$PY - "$GH_PORT" "victim@$TGT_LOGIN@web01" >"$GH_T/guess.out" 2>"$GH_T/guess.err" <<'PY' &
import socket, sys, time
import paramiko
port, login = int(sys.argv[1]), sys.argv[2]
guesses = refused = 0
deadline = time.monotonic() + 40
while time.monotonic() < deadline and refused < 20:
    s = socket.socket()
    s.bind(("127.0.0.9", 0))
    s.settimeout(10)
    try:
        s.connect(("127.0.0.1", port))
        if not s.recv(64, socket.MSG_PEEK).startswith(b"SSH-"):
            raise OSError("no banner")
        t = paramiko.Transport(s)
        t.start_client(timeout=10)
    except (OSError, paramiko.SSHException, EOFError):
        refused += 1
        s.close()
        time.sleep(0.1)
        continue
    user = login if guesses % 2 == 0 else "nx%d@%s" % (guesses, login.split("@", 1)[1])
    try:
        t.auth_interactive(user, lambda title, instr, prompts: ["Guess-%d!" % guesses for p in prompts])
        print("ACCEPTED")
    except (paramiko.AuthenticationException, paramiko.SSHException, EOFError):
        guesses += 1
    t.close()
print("guesses %d refused %d" % (guesses, refused))
PY
guesser=$!
gh_keep_pid "$guesser"
blocked() {
	[ "$(gh_audit_count type=source.block object=127.0.0.9)" -ge 1 ]
}
gh_wait_for 60 blocked || gh_fail "127.0.0.9 was never blocked: $(cat "$GH_T/guess.out" "$GH_T/guess.err")"

# While the guesser keeps knocking: an operator from another address.
GH_SSH_EXTRA=(-o BindAddress=127.0.0.3)
gh_ssh_cmd "oper@$TGT_LOGIN@web01" "echo oper-$$"
GH_SSH_EXTRA=()
gh_expect_eq "operator login from 127.0.0.3 during the attack" "$OUT" "oper-$$"
gh_wait_for 60 bash -c "! kill -0 $guesser 2>/dev/null" || gh_fail "the guesser did not finish"
wait "$guesser" || true
cat "$GH_T/guess.out" >&2
grep -q ACCEPTED "$GH_T/guess.out" && gh_fail "a guess was accepted"
read -r _ guesses _ refused <"$GH_T/guess.out" || gh_fail "no result: $(cat "$GH_T/guess.err")"
[ "$guesses" -ge "$PF" ] || gh_fail "blocked after only $guesses failures (penalty_failures = $PF)"
[ "$guesses" -le $((PF + 2)) ] || gh_fail "$guesses guesses got through, penalty_failures = $PF"
[ "$refused" -ge 20 ] || gh_fail "only $refused connections refused"
gh_expect_audit 1 type=source.block object=127.0.0.9 importance=high
# The guessed account: locked after lockout_threshold failures, across connections.
[ "$(gh_sql "SELECT locked_until > strftime('%s','now') FROM users WHERE name = 'victim'")" = 1 ] ||
	gh_fail "victim is not locked after $guesses guesses across connections"
gh_expect_audit 1 actor=victim type=auth.lockout
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_preauth_bruteforce: ok ($guesses guesses, then $refused connections refused; operator logged in meanwhile)"
