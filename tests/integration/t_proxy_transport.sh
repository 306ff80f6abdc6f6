#!/bin/bash
# Scenario: the transport choices the bastion makes for performance
# (docs/performance.md), seen from real OpenSSH peers.
#  1. The target leg's cipher: the bastion is the client there and offers
#     AES-GCM first when the CPU has AES and carry-less multiply instructions,
#     chacha20-poly1305 first otherwise (read from the target sshd's DEBUG1 log).
#  2. The receive window the bastion grants the operator: libssh 0.10 alone
#     never re-opens a channel window beyond 1,280,000 bytes; the pump tops it
#     up to 4 MiB, so during an upload the client sees a window adjust larger
#     than libssh could ever send (OpenSSH client, debug2 "rcvd adjust").
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
GH_SSHD_EXTRA="LogLevel DEBUG1" gh_setup_web01
gh_user ulla
gh_user ulla2 # a second login within one TOTP step needs another account (replay refused)
gh_grant ulla web01 "$TGT_LOGIN"
gh_grant ulla2 web01 "$TGT_LOGIN"
start_gatehoused

# ---- 1. target leg cipher
out=$(gh_ssh "ulla@$TGT_LOGIN@web01" 'echo ok' </dev/null 2>"$GH_T/c.err") || gh_fail "exec failed: $(cat "$GH_T/c.err")"
gh_expect_eq "exec output" "$out" ok
got=$(grep -o 'kex: client->server cipher: [^ ]*' "$TGT_DIR/sshd.log" | tail -n 1 | awk '{print $4}')
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
if [[ " $flags " == *" aes "* && " $flags " == *" pclmulqdq "* ]]; then
	want=aes128-gcm@openssh.com
else
	want=chacha20-poly1305@openssh.com
fi
gh_expect_eq "target leg cipher (cpu: $([ "$want" = aes128-gcm@openssh.com ] && echo AES-NI || echo no AES-NI))" "$got" "$want"

# ---- 2. receive window toward the operator
mb=16
head -c "$((mb * 1024 * 1024))" /dev/urandom >"$GH_T/up" || gh_fail "cannot write the test file"
GH_SSH_EXTRA=(-vv)
got=$(gh_ssh "ulla2@$TGT_LOGIN@web01" 'wc -c' <"$GH_T/up" 2>"$GH_T/w.err") || gh_fail "upload failed: $(grep -v debug "$GH_T/w.err")"
GH_SSH_EXTRA=()
gh_expect_eq "bytes uploaded" "$got" "$((mb * 1024 * 1024))"
max=$(grep -o 'rcvd adjust [0-9]*' "$GH_T/w.err" | awk '$3 > m {m = $3} END {print m + 0}')
n=$(grep -c 'rcvd adjust' "$GH_T/w.err")
echo "window adjusts received: $n, largest $max bytes"
[ "$max" -gt 1280000 ] || gh_fail "largest window adjust $max: the window was never opened beyond libssh's 1,280,000 bytes"
echo "t_proxy_transport: ok"
