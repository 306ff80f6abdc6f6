#!/bin/bash
# Scenario: the target is down (nothing listens) or hangs (accepts TCP and
# never speaks SSH): the operator gets a clear one-line message within the
# configured connect timeout, and the bastion stays up.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'target_connect_timeout = 3'
start_target_sshd web
gh_asset_for_target web01
dead_port=$(gh_free_port)
gh_asset downhost "$dead_port" "$TGT_DIR/host_key.pub"
gh_account downhost "$TGT_LOGIN" "$TGT_DIR/client_key"

# A listener that accepts and then says nothing.
hang_port=$(gh_free_port)
$PY -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$hang_port" &
gh_keep_pid $!
gh_wait_for 10 gh_port_listening "$hang_port" || gh_fail "silent listener did not start"
gh_asset hanghost "$hang_port" "$TGT_DIR/host_key.pub"
gh_account hanghost "$TGT_LOGIN" "$TGT_DIR/client_key"

gh_user pete
gh_user pete2
gh_grant pete downhost "$TGT_LOGIN"
gh_grant pete2 hanghost "$TGT_LOGIN"
start_gatehoused

start=$SECONDS
gh_ssh_cmd "pete@$TGT_LOGIN@downhost" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "session to a dead target reported success"
gh_expect_match "dead target message" "$ERR" 'downhost|target|unreachable|refused|connect'
[ $((SECONDS - start)) -le 20 ] || gh_fail "dead target took $((SECONDS - start)) s"

start=$SECONDS
gh_ssh_cmd "pete2@$TGT_LOGIN@hanghost" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "session to a silent target reported success"
gh_expect_match "silent target message" "$ERR" 'hanghost|target|time|connect'
[ $((SECONDS - start)) -le 30 ] || gh_fail "silent target took $((SECONDS - start)) s (timeout 3 s)"
gh_daemon_alive || gh_fail "gatehoused died"
gh_wait_sessions_closed 10 || gh_fail "a session row stayed active"
echo "t_proxy_target_down: ok"
