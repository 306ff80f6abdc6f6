#!/bin/bash
# Scenario: the asset's pinned host key does not match what the target
# presents (a man in the middle, or a reinstalled server): the bastion refuses
# to connect, tells the operator, never authenticates to the target (the
# credential is not offered to an impostor), and writes a critical audit event.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
start_target_sshd web
ssh-keygen -q -t ed25519 -N '' -C impostor -f "$GH_T/other_host_key" || gh_fail "ssh-keygen"
gh_asset web01 "$TGT_PORT" "$GH_T/other_host_key.pub"
gh_account web01 "$TGT_LOGIN" "$TGT_DIR/client_key"
gh_user olga
gh_grant olga web01 "$TGT_LOGIN"
start_gatehoused

gh_ssh_cmd "olga@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "session allowed despite a host key mismatch"
gh_expect_nomatch "mismatch output" "$OUT" SHOULD_NOT_RUN
gh_expect_match "operator is told" "$ERR" '[Hh]ost key|HOST KEY'
sleep 0.5
if grep -qE "Accepted publickey|Postponed publickey" "$TGT_DIR/sshd.log"; then
	gh_fail "the bastion authenticated to a target whose host key did not match"
fi
gh_expect_audit 1 importance=critical 'object=*web01*'
echo "t_proxy_hostkey_mismatch: ok"
