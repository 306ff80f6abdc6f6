#!/bin/bash
# Scenario: what a bastion must not relay. Remote and local port forwarding,
# and agent forwarding, are refused (a tunnel would carry traffic the bastion
# cannot record); environment variables pass only through the allow-list
# (LANG, LC_*), although the target itself would accept more (GHT_*).
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
for u in fw1 fw2 fw3 fw4; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN"
done
start_gatehoused

# Remote forwarding: the tcpip-forward request must fail.
GH_SSH_EXTRA=(-o ExitOnForwardFailure=yes -R 0:127.0.0.1:9)
gh_ssh_cmd "fw1@$TGT_LOGIN@web01" 'echo REMOTE_FORWARD_ALLOWED'
GH_SSH_EXTRA=()
[ "$RC" -ne 0 ] || gh_fail "remote port forwarding was accepted"
gh_expect_nomatch "remote forward output" "$OUT" REMOTE_FORWARD_ALLOWED

# Local forwarding: a direct-tcpip channel to the target's sshd must not
# carry its banner back.
lport=$(gh_free_port)
GH_SSH_EXTRA=(-L "$lport:127.0.0.1:$WEB01_PORT")
gh_ssh "fw2@$TGT_LOGIN@web01" 'sleep 8' </dev/null >"$GH_T/fw2.out" 2>"$GH_T/fw2.err" &
fwpid=$!
gh_keep_pid $fwpid
GH_SSH_EXTRA=()
gh_wait_for 20 gh_port_listening "$lport" || gh_fail "ssh -L did not listen locally (login failed?)"
banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport && head -c 7 <&3" 2>/dev/null || true)
[ "$banner" != "SSH-2.0" ] || gh_fail "local port forwarding reached the target's sshd"
wait $fwpid || true

# Agent forwarding: the target must not get an agent socket.
eval "$(ssh-agent -s -a "$GH_T/agent.sock")" >/dev/null
gh_keep_pid "$SSH_AGENT_PID"
GH_SSH_EXTRA=(-o "ForwardAgent=$GH_T/agent.sock")
gh_ssh_cmd "fw3@$TGT_LOGIN@web01" 'echo "AGENT=[$SSH_AUTH_SOCK]"'
GH_SSH_EXTRA=()
gh_expect_eq "exec with -A still works" "$RC" 0
gh_expect_eq "no agent on the target" "$OUT" "AGENT=[]"

# Environment allow-list.
GH_SSH_EXTRA=(-o SendEnv=LANG -o SendEnv=LC_GHTEST -o SendEnv=GHT_SECRET)
LANG=C.UTF-8 LC_GHTEST=lcvalue GHT_SECRET=leaked gh_ssh_cmd "fw4@$TGT_LOGIN@web01" \
	'echo "LANG=$LANG LC=$LC_GHTEST GHT=$GHT_SECRET"'
GH_SSH_EXTRA=()
gh_expect_eq "env allow-list" "$OUT" "LANG=C.UTF-8 LC=lcvalue GHT="
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_proxy_forward_refused: ok"
