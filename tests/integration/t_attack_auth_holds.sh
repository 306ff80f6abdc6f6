#!/bin/bash
# Attacks on the SSH authentication door that already held before the
# attack review (issue 15), kept so that they keep holding. A raw client
# (tests/integration/attack/rawssh.py), after the key exchange:
#  1. method "none": a failure listing publickey and keyboard-interactive;
#  2. an INFO_RESPONSE nobody asked for, carrying the right password;
#  3. two answers to one prompt;
#  4. the right password of h1, then a switch to h2 at the code prompt and
#     h1's valid code offered to h2's round;
#  5. a bare offer of h1's registered key (no signature): PK_OK, nothing more;
#  6. the same valid TOTP code sent at once on four connections that all
#     passed h3's password: exactly one login.
# After each, a channel open must be refused; only 6 logs anyone in.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'penalty_failures = 1000' 'max_startups = 100:30:100' 'max_startups_per_source = 100'
gh_setup_web01
ssh-keygen -q -t ed25519 -N '' -f "$GH_T/h1_key" || gh_fail "ssh-keygen"
gh_user h1 operator --pubkey "$GH_T/h1_key.pub"
gh_user h2
gh_user h3
for u in h1 h2 h3; do gh_grant $u web01 "$TGT_LOGIN"; done
start_gatehoused

out=$(PYTHONPATH="$GH_SRC/tests/integration/attack" $PY - "$GH_PORT" "$TGT_LOGIN" \
	"$(gh_user_pw h1)" "$(gh_user_totp h1)" "$(gh_user_pw h3)" "$(gh_user_totp h3)" "$GH_T/h1_key" <<'PY'
import subprocess, sys, threading
import paramiko
from rawssh import RawAuth

port, login, h1_pw, h1_secret, h3_pw, h3_secret, keyfile = sys.argv[1:]
port = int(port)
def code(secret):
    return subprocess.check_output(["oathtool", "--totp", "-b", secret], text=True).strip()
def user(u):
    return "%s@%s@web01" % (u, login)

# 1. none
t = RawAuth.connect(port)
t.none(user("h1"))
ev = t.wait()
print("none", ev[0], ",".join(sorted(ev[1])) if ev[0] == "failure" else "", t.open_session_ok())
t.close()
# 2. unsolicited INFO_RESPONSE
t = RawAuth.connect(port)
t.answer([h1_pw])
ev = t.wait(5)
print("unsolicited", ev[0] != "success", t.open_session_ok())
t.close()
# 3. answer count
t = RawAuth.connect(port)
t.kbdint(user("h1")); t.wait()
t.answer([h1_pw, h1_pw])
ev = t.wait()
print("count", ev[0], t.open_session_ok())
t.close()
# 4. user name switch at the code prompt
t = RawAuth.connect(port)
t.kbdint(user("h1")); t.wait()
t.answer([h1_pw]); ev = t.wait()
assert ev[0] == "prompts" and "code" in ev[2][0], ev
t.kbdint(user("h2")); ev = t.wait()
print("switch-prompt", ev[2] if ev[0] == "prompts" else ev[0])
if ev[0] == "prompts":
    t.answer([code(h1_secret)]); ev = t.wait()
    if ev[0] == "prompts":
        t.answer([code(h1_secret)]); ev = t.wait()
print("switch", ev[0], t.open_session_ok())
t.close()
# 5. bare public key offer
t = RawAuth.connect(port)
key = paramiko.Ed25519Key.from_private_key_file(keyfile)
t.pubkey(user("h1"), key, sign=False)
ev = t.wait()
t.kbdint(user("h1")); ev2 = t.wait()
print("bare-offer", ev[0], t.open_session_ok(), ev2[2] if ev2[0] == "prompts" else ev2[0])
t.close()
# 6. one TOTP code on four connections at once
N = 4
conns = []
for i in range(N):
    t = RawAuth.connect(port)
    t.kbdint(user("h3")); t.wait()
    t.answer([h3_pw]); ev = t.wait(30)
    assert ev[0] == "prompts" and "code" in ev[2][0], ev
    conns.append(t)
c = code(h3_secret)
res = [None] * N
bar = threading.Barrier(N)
def go(i):
    bar.wait()
    conns[i].answer([c])
    res[i] = conns[i].wait(30)[0]
ths = [threading.Thread(target=go, args=(i,)) for i in range(N)]
[x.start() for x in ths]
[x.join() for x in ths]
print("same-code successes", res.count("success"))
for t in conns:
    t.close()
PY
) || gh_fail "the raw client failed: $out"
echo "$out" >&2
gh_expect_eq "1. none" "$(grep '^none' <<<"$out")" "none failure keyboard-interactive,publickey False"
gh_expect_eq "2. unsolicited INFO_RESPONSE" "$(grep '^unsolicited' <<<"$out")" "unsolicited True False"
gh_expect_match "3. answer count" "$(grep '^count' <<<"$out")" "^count (failure|closed) False$"
gh_expect_eq "4. the switch restarts the round" "$(grep '^switch-prompt' <<<"$out")" "switch-prompt ['Password: ']"
gh_expect_match "4. h1's code does not log in h2" "$(grep '^switch ' <<<"$out")" "^switch (failure|closed) False$"
gh_expect_eq "5. a bare offer earns PK_OK only" "$(grep '^bare-offer' <<<"$out")" "bare-offer pk_ok False ['Password: ']"
gh_expect_eq "6. one code, one login" "$(grep '^same-code' <<<"$out")" "same-code successes 1"
gh_expect_eq "logins: only the one of 6" "$(gh_audit_count type=auth.success)" 1
gh_expect_eq "that login is h3's" "$(gh_audit_count type=auth.success actor=h3)" 1
gh_expect_audit 3 actor=h3 type=auth.fail 'detail=*reused code*'
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_auth_holds: ok"
