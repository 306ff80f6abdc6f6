#!/bin/bash
# Attacks (issue 15, finding 7, first two bullets):
#  - a TOTP secret given by an administrator whose raw bytes happen to be
#    Base32 characters (MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U is "abcdefghijklmnopqrstu"
#    in Base32) was decoded a second time when read back, so its owner could
#    never log in;
#  - a publickey request whose signature does not verify got no reply at
#    all (libssh 0.10 drops it): the client hung until the login grace time.
#    It must get a definite failure at once, audited as a failed attempt.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'login_grace_time = 60'
gh_setup_web01
# 1. The secret that looked like Base32 twice.
secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
pw=$(gh_random_password)
printf '%s\n' "$pw" | gh_admin user add b32 --role operator --password-stdin --totp-secret "$secret" >/dev/null 2>&1 ||
	gh_fail "user add b32"
printf '%s\n' "$pw" >"$GH_T/users/b32.pw"
printf '%s\n' "$secret" >"$GH_T/users/b32.totp"
gh_grant b32 web01 "$TGT_LOGIN"
# 2. A user with a registered public key.
ssh-keygen -q -t ed25519 -N '' -f "$GH_T/pk1_key" || gh_fail "ssh-keygen"
gh_user pk1 operator --pubkey "$GH_T/pk1_key.pub"
gh_grant pk1 web01 "$TGT_LOGIN"
start_gatehoused

gh_ssh_cmd "b32@$TGT_LOGIN@web01" 'echo B32_LOGIN_OK'
gh_expect_eq "login with a secret made of Base32 characters" "$OUT" B32_LOGIN_OK

out=$(PYTHONPATH="$GH_SRC/tests/integration/attack" $PY - "$GH_PORT" "pk1@$TGT_LOGIN@web01" "$GH_T/pk1_key" <<'PY'
import sys, time
import paramiko
from rawssh import RawAuth

port, user, keyfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
key = paramiko.Ed25519Key.from_private_key_file(keyfile)
# the registered key, signed over the wrong data
t = RawAuth.connect(port)
t0 = time.monotonic()
t.pubkey(user, key, sign=True, bad_signature=True)
ev = t.wait(20)
print("bad-signature", ev[0], "%.1f" % (time.monotonic() - t0))
t.close()
# control: a correct signature of the registered key is a partial success
t = RawAuth.connect(port)
t.pubkey(user, key, sign=True)
ev = t.wait(20)
print("good-signature", ev[0], ev[2] if ev[0] == "failure" else "")
t.close()
PY
) || gh_fail "the raw client failed: $out"
echo "$out" >&2
read -r _ what secs <<<"$(grep '^bad-signature' <<<"$out")"
case $what in closed | failure) ;; *) gh_fail "a bad signature was answered with '$what' (the client waits)" ;; esac
[ "${secs%.*}" -lt 5 ] || gh_fail "a bad signature was answered after $secs s"
gh_expect_eq "control: a valid signature" "$(grep '^good-signature' <<<"$out")" "good-signature failure True"
gh_expect_audit 1 actor=pk1 type=auth.fail 'detail=*invalid signature*'
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_auth_keys: ok"
