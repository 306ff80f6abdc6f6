#!/bin/bash
# Scenario: a user with --auth pam has the password checked by the PAM service
# "gatehouse" from a private configuration directory (pam_confdir; the
# system's /etc/pam.d is never used). The stack accepts exactly one password
# through pam_exec (expose_authtok), so right and wrong passwords are both
# tested, and TOTP is still required.
. "$(dirname "$0")/lib-ssh.sh"

pamdir=$GH_T/pam
mkdir -p "$pamdir"
pam_pw='Pam-Secret-42!'
cat >"$pamdir/check-pw" <<EOS
#!/bin/bash
IFS= read -r -d '' pw
[ "\$pw" = '$pam_pw' ] && [ "\$PAM_USER" = wendy -o "\$PAM_USER" = wendy2 -o "\$PAM_USER" = wendy3 ]
EOS
chmod 755 "$pamdir" "$pamdir/check-pw"
cat >"$pamdir/gatehouse" <<EOS
auth [success=1 default=ignore] pam_exec.so quiet expose_authtok $pamdir/check-pw
auth requisite pam_deny.so
auth required pam_permit.so
account required pam_permit.so
EOS
chmod 644 "$pamdir/gatehouse"

gh_data_init "pam_confdir = $pamdir" 'pam_service = gatehouse'
gh_setup_web01
for u in wendy wendy2 wendy3; do
	secret=$(gh_random_secret)
	gh_admin user add $u --role operator --auth pam --totp-secret "$secret" >"$GH_T/last.out" 2>&1 ||
		gh_fail "user add $u --auth pam: $(cat "$GH_T/last.out")"
	printf '%s\n' "$pam_pw" >"$GH_T/users/$u.pw"
	printf '%s\n' "$secret" >"$GH_T/users/$u.totp"
	gh_grant $u web01 "$TGT_LOGIN"
done
start_gatehoused

gh_ssh_cmd "wendy@$TGT_LOGIN@web01" 'echo PAM_LOGIN_OK'
gh_expect_eq "pam login status" "$RC" 0
gh_expect_eq "pam login output" "$OUT" PAM_LOGIN_OK

GH_PW='Not-The-Pam-Pw1!' gh_ssh_cmd "wendy2@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "wrong PAM password accepted"
gh_expect_audit 1 actor=wendy2 'type=auth*' 'result!=ok'

GH_TOTP_CODE=$(gh_totp_wrong "$(gh_user_totp wendy3)") gh_ssh_cmd "wendy3@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "PAM password without the right TOTP code accepted"
gh_expect_audit 1 actor=wendy 'type=auth*' result=ok
echo "t_proxy_pam: ok"
