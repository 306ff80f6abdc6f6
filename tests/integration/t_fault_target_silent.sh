#!/bin/bash
# Scenario (issue 9, faults): a target that accepts TCP and never speaks SSH.
# The wait is bounded by target_connect_timeout (3 s here; the operator is
# told within the timeout plus a small margin), the message is clear, and
# nothing is left hanging: the bastion closes its TCP connection to the
# silent target, the connection process exits, no session row stays active.
# (t_proxy_target_down covers the same with a looser bound.)
. "$(dirname "$0")/lib-ssh.sh"

TIMEOUT=3
gh_data_init "target_connect_timeout = $TIMEOUT"
start_target_sshd web
silent_port=$(gh_free_port)
# The silent target: accepts, reads nothing, reports when each peer closes.
$PY - "$silent_port" "$GH_T/silent.log" <<'PY' &
import selectors, socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
sel = selectors.DefaultSelector(); sel.register(s, selectors.EVENT_READ)
log = open(sys.argv[2], "a", buffering=1)
while True:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept(); sel.register(c, selectors.EVENT_READ)
            log.write("accepted\n")
        else:
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:  # the bastion gave up and closed: say so, never answer
                sel.unregister(key.fileobj); key.fileobj.close(); log.write("closed by peer\n")
PY
gh_keep_pid $!
gh_wait_for 10 gh_port_listening "$silent_port" || gh_fail "the silent target did not start"
gh_asset silent "$silent_port" "$TGT_DIR/host_key.pub"
gh_account silent "$TGT_LOGIN" "$TGT_DIR/client_key"
gh_user st1
gh_grant st1 silent "$TGT_LOGIN"
start_gatehoused

t0=$(date +%s%N)
gh_ssh_cmd "st1@$TGT_LOGIN@silent" 'echo SHOULD_NOT_RUN'
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
echo "refused after $elapsed_ms ms: $ERR" >&2
[ "$RC" -ne 0 ] || gh_fail "a session to a silent target reported success"
gh_expect_nomatch "no output" "$OUT" SHOULD_NOT_RUN
gh_expect_match "clear message" "$ERR" 'silent|target'
# Login with password + TOTP takes ~1 s under ASan; the target wait is 3 s.
[ "$elapsed_ms" -le $(((TIMEOUT + 6) * 1000)) ] || gh_fail "took $elapsed_ms ms with target_connect_timeout = $TIMEOUT"
gh_wait_for 5 grep -q "closed by peer" "$GH_T/silent.log" ||
	gh_fail "the bastion left its TCP connection to the silent target open: $(cat "$GH_T/silent.log")"
gh_wait_sessions_closed 10 || gh_fail "a session row stayed active"
gh_wait_for 10 bash -c "[ -z \"\$(pgrep -P $GH_PID)\" ]" || gh_fail "connection process(es) left: $(pgrep -P "$GH_PID")"
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_fault_target_silent: ok (refused after $elapsed_ms ms)"
