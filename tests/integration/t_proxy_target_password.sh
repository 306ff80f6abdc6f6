#!/bin/bash
# Scenario: a target reached with a stored *password* credential (not a key):
# the bastion decrypts it in memory and logs in; the operator never sees it;
# the password appears nowhere in the daemon's log or the recording.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
start_target_sshd_pw pw
gh_asset pwhost "$TGT_PORT" "$TGT_DIR/host_key.pub"
printf '%s\n' "$TGT_PW" | gh_admin account add pwhost "$TGT_PW_LOGIN" --password-stdin >"$GH_T/last.out" 2>&1 ||
	gh_fail "account add --password-stdin: $(cat "$GH_T/last.out")"
gh_user zack
gh_grant zack pwhost "$TGT_PW_LOGIN"
start_gatehoused

gh_ssh_cmd "zack@$TGT_PW_LOGIN@pwhost" 'id -un; exit 4'
gh_expect_eq "exit status" "$RC" 4
gh_expect_eq "logged in as the stored login" "$OUT" "$TGT_PW_LOGIN"
grep -q "Accepted password for $TGT_PW_LOGIN" "$TGT_DIR/sshd.log" || gh_fail "target did not see a password login"
gh_expect_nomatch "operator output" "$OUT$ERR" "$(printf '%s' "$TGT_PW" | sed 's/[.[\*^$()+?{|]/\\&/g')"
if grep -qF -- "$TGT_PW" "$GH_LOG"; then gh_fail "the target password is in the daemon log"; fi
gh_wait_sessions_closed 10 || gh_fail "session still active"
if gh_recording_has "$TGT_PW"; then gh_fail "the target password is in the recording"; fi
if grep -aqF -- "$TGT_PW" "$GH_DATA/gatehouse.db"; then gh_fail "the target password is stored in clear"; fi
echo "t_proxy_target_password: ok"
