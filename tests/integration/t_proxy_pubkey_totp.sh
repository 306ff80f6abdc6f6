#!/bin/bash
# Scenario: public key + TOTP. The key is proven by signature, then only the
# "Verification code:" prompt follows (no password). The key alone is not
# enough: a wrong code fails. A key that is not the user's gets no shortcut.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
ssh-keygen -q -t ed25519 -N '' -C vera -f "$GH_T/vera_key" || gh_fail ssh-keygen
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$GH_T/stranger_key" || gh_fail ssh-keygen
gh_user vera operator --pubkey "$GH_T/vera_key.pub"
gh_user vera2 operator --pubkey "$GH_T/vera_key.pub"
gh_user vera3 operator --pubkey "$GH_T/vera_key.pub"
for u in vera vera2 vera3; do gh_grant $u web01 "$TGT_LOGIN"; done
start_gatehoused

key_opts() {
	GH_SSH_EXTRA=(-o PubkeyAuthentication=yes -o "IdentityFile=$1"
		-o PreferredAuthentications=publickey,keyboard-interactive)
}

key_opts "$GH_T/vera_key"
GH_ASKPASS_LOG=$GH_T/ap-vera.log gh_ssh_cmd "vera@$TGT_LOGIN@web01" 'echo KEY_LOGIN_OK'
gh_expect_eq "key+code status" "$RC" 0
gh_expect_eq "key+code output" "$OUT" KEY_LOGIN_OK
gh_expect_eq "key+code prompts" "$(gh_prompts "$GH_T/ap-vera.log")" "Verification code:"

# Right key, wrong code, and no password fallback to rescue it.
key_opts "$GH_T/vera_key"
GH_PW='Wrong-Passw0rd!' GH_TOTP_CODE=$(gh_totp_wrong "$(gh_user_totp vera2)") \
	gh_ssh_cmd "vera2@$TGT_LOGIN@web01" 'echo SHOULD_NOT_RUN'
[ "$RC" -ne 0 ] || gh_fail "public key alone (wrong code) was enough"
gh_expect_nomatch "key+wrong code output" "$OUT" SHOULD_NOT_RUN

# A key that is not vera3's: the server must fall back to password + code.
key_opts "$GH_T/stranger_key"
GH_ASKPASS_LOG=$GH_T/ap-vera3.log gh_ssh_cmd "vera3@$TGT_LOGIN@web01" 'echo FALLBACK_OK'
gh_expect_eq "stranger key falls back to password+code" "$OUT" FALLBACK_OK
gh_expect_eq "fallback prompts" "$(gh_prompts "$GH_T/ap-vera3.log")" \
	"$(printf 'Password:\nVerification code:')"
gh_expect_audit 1 actor=vera 'type=auth*' result=ok
echo "t_proxy_pubkey_totp: ok"
