#!/bin/bash
# Attack (issue 15, finding 1): password guessing that costs nothing.
#
# A raw client (tests/integration/attack/rawssh.py) answers "Password: ",
# receives "Verification code: ", ignores it and starts again. Before the
# fix the wrong password was never counted: no lockout, no max_auth_tries,
# no source penalty, no auth.fail, no padding. Here every abandoned round
# counts everywhere and is audited:
#  A. restarting keyboard-interactive after a wrong password, again and
#     again on one connection: each restart is an auth.fail ("round
#     abandoned"), padded, the connection ends at max_auth_tries and the
#     account locks at lockout_threshold;
#  B. abandoning for a publickey request, for another user name, or by
#     closing the connection counts the same way;
#  C. enrolment is not a way in: for a user who has not enrolled TOTP the
#     prompts after a wrong password are the same as after the right one (a
#     dummy password change and a dummy enrolment secret), and the round
#     fails only at its end; outside the one-time enrolment window the right
#     password shows no secret at all, and `user totp-reset` opens a new
#     window (audited).
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'lockout_threshold = 5' 'max_auth_tries = 6' 'penalty_failures = 1000'
gh_setup_web01
for u in g1 g2 g3 g4 other; do
	gh_user $u
	gh_grant $u web01 "$TGT_LOGIN"
done
# n1: no TOTP yet, a password of its own (not temporary): the right
# password leads to enrolment. n2: the same, its window already closed.
N1_PW=$(gh_random_password)
printf '%s\n' "$N1_PW" | gh_admin user add n1 --role operator --password-stdin >"$GH_T/n1.out" 2>&1 ||
	gh_fail "user add n1: $(cat "$GH_T/n1.out")"
gh_expect_match "user add tells the enrolment window" "$(cat "$GH_T/n1.out")" "enrols one at first login .* before 20"
N2_PW=$(gh_random_password)
printf '%s\n' "$N2_PW" | gh_admin user add n2 --role operator --password-stdin >/dev/null 2>&1 || gh_fail "user add n2"
# n3: no TOTP and a temporary password: password change, then enrolment.
gh_admin user add n3 --role operator >"$GH_T/n3.out" 2>&1 || gh_fail "user add n3: $(cat "$GH_T/n3.out")"
N3_PW=$(grep -A1 '^temporary password' "$GH_T/n3.out" | tail -1 | tr -d ' ')
[ -n "$N3_PW" ] || gh_fail "no temporary password for n3: $(cat "$GH_T/n3.out")"
for u in n1 n2 n3; do gh_grant $u web01 "$TGT_LOGIN"; done
start_gatehoused
gh_sql "SELECT 1" >/dev/null
sqlite3 -cmd '.timeout 10000' "$GH_DATA/gatehouse.db" "UPDATE users SET enrol_until = 1 WHERE name = 'n2'" ||
	gh_fail "cannot expire n2's window"

out=$(PYTHONPATH="$GH_SRC/tests/integration/attack" $PY - "$GH_PORT" "$TGT_LOGIN" "$N1_PW" "$N2_PW" "$N3_PW" <<'PY'
import subprocess, sys, time
import paramiko
from rawssh import RawAuth

port, login, n1_pw, n2_pw, n3_pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

def code_of(instr):
    secret = [l.split(":", 1)[1].strip() for l in instr.splitlines() if l.startswith("Secret:")][0]
    return subprocess.check_output(["oathtool", "--totp", "-b", secret], text=True).strip()

# A. restart after a wrong password, on one connection, until it ends
t = RawAuth.connect(port)
restarts, gaps, ended = 0, [], None
for i in range(10):
    t0 = time.monotonic()
    t.kbdint("g1@%s@web01" % login)
    ev = t.wait()
    if i > 0:
        gaps.append(time.monotonic() - t0)
    if ev[0] != "prompts":
        ended = ev[0]
        break
    t.answer(["Wrong-guess-%d!" % i])
    ev = t.wait()
    if ev[0] != "prompts":
        ended = ev[0]
        break
    restarts += 1
print("A-restarts", restarts)
print("A-ended", ended)
print("A-min-gap-ms", int(min(gaps) * 1000) if gaps else -1)
t.close()

# B1. abandon for a publickey request
t = RawAuth.connect(port)
t.kbdint("g2@%s@web01" % login); t.wait()
t.answer(["Wrong-guess-b1!"]); print("B1-second", t.wait()[0])
t.pubkey("g2@%s@web01" % login, paramiko.Ed25519Key.from_private_key_file(sys.argv[0]) if False else paramiko.RSAKey.generate(1024), sign=False)
print("B1-after", t.wait()[0])
t.close()
# B2. abandon for another user name
t = RawAuth.connect(port)
t.kbdint("g3@%s@web01" % login); t.wait()
t.answer(["Wrong-guess-b2!"]); t.wait()
t.kbdint("other@%s@web01" % login); print("B2-after", t.wait()[0])
t.close()
# B3. abandon by closing the connection at the code prompt
t = RawAuth.connect(port)
t.kbdint("g4@%s@web01" % login); t.wait()
t.answer(["Wrong-guess-b3!"]); t.wait()
t.close()

# C1. n1 has no TOTP, window open: wrong and right passwords see the same rounds
def walk(user, pw, finish):
    t = RawAuth.connect(port)
    t.kbdint("%s@%s@web01" % (user, login))
    seen = []
    ev = t.wait()
    answers_for = {"Password": [pw]}
    newpw = "Brand-New-pw-%d!" % int(time.time() * 1000 % 100000)
    while ev[0] == "prompts":
        seen.append("|".join(p.split("\r\n")[-1] if "\r\n" in p else p for p in ev[2]) +
                    (" [secret]" if "Secret:" in ev[1] else ""))
        ps = ev[2]
        if ps[0].startswith("Password"):
            t.answer([pw])
        elif ps[0].startswith("New password"):
            t.answer([newpw, newpw])
        elif "Secret:" in ev[1]:
            if not finish:
                break
            t.answer([code_of(ev[1])])
        else:
            t.answer(["000000"])
        ev = t.wait()
    t.close()
    return seen, ev[0]

for user, pw in (("n1", n1_pw), ("n3", n3_pw)):
    wrong_seen, wrong_end = walk(user, "Not-the-password-1!", True)
    right_seen, _ = walk(user, pw, False)
    print("C1-%s-wrong" % user, wrong_seen, wrong_end)
    print("C1-%s-right" % user, right_seen)
    print("C1-%s-same" % user, wrong_seen == right_seen)

# C2. n2: right password, window closed: no secret, a code prompt, failure
t = RawAuth.connect(port)
t.kbdint("n2@%s@web01" % login); t.wait()
t.answer([n2_pw]); ev = t.wait()
print("C2-prompt", ev[2] if ev[0] == "prompts" else ev[0], "secret" if ev[0] == "prompts" and "Secret" in ev[1] else "nosecret")
t.answer(["123456"]); print("C2-end", t.wait()[0])
t.close()
PY
) || gh_fail "the raw client failed: $out"
echo "$out" >&2

# A: six rounds on the connection (max_auth_tries), then it ends; each counted
gh_expect_eq "restarted rounds before the connection ended" "$(grep '^A-restarts' <<<"$out")" "A-restarts 6"
gh_expect_match "the connection ended" "$(grep '^A-ended' <<<"$out")" "A-ended (closed|failure)"
gap=$(grep '^A-min-gap-ms' <<<"$out" | cut -d' ' -f2)
[ "$gap" -ge 280 ] || gh_fail "a restart after a wrong password is answered after ${gap} ms (padding 300 ms)"
gh_expect_audit 5 actor=g1 type=auth.fail 'detail=*round abandoned*'
gh_expect_eq "g1 locked by abandoned rounds" "$(gh_audit_count actor=g1 type=auth.lockout)" 1
[ "$(gh_sql "SELECT locked_until > strftime('%s','now') FROM users WHERE name='g1'")" = 1 ] ||
	gh_fail "g1 is not locked out"
# B
gh_expect_eq "B1: publickey after the code prompt" "$(grep '^B1-after' <<<"$out")" "B1-after failure"
gh_expect_audit 1 actor=g2 type=auth.fail 'detail=*new publickey request*'
gh_expect_audit 1 actor=g3 type=auth.fail 'detail=*user name changed*'
gh_wait_for 10 test "$(gh_audit_count actor=g4 type=auth.fail 'detail=*connection closed*')" -ge 1 ||
	gh_fail "closing the connection mid-round was not audited as a failure"
for u in g2 g3 g4; do
	gh_expect_eq "$u: the abandoned round counts against the account" \
		"$(gh_sql "SELECT failed_count FROM users WHERE name='$u'")" 1
done
# C1
for u in n1 n3; do
	gh_expect_eq "$u: the same prompts after a wrong and the right password" \
		"$(grep "^C1-$u-same" <<<"$out")" "C1-$u-same True"
	gh_expect_match "$u: a wrong password fails at the end" "$(grep "^C1-$u-wrong" <<<"$out")" "failure$"
	gh_expect_eq "$u: not enrolled by a wrong password" \
		"$(gh_sql "SELECT totp_secret IS NULL FROM users WHERE name='$u'")" 1
done
gh_expect_match "n1's first login: enrolment" "$(grep '^C1-n1-right' <<<"$out")" "'Password: ', 'Verification code: +\[secret\]'"
gh_expect_match "n3's first login: password change, enrolment" "$(grep '^C1-n3-right' <<<"$out")" \
	"'Password: ', 'New password: \|Retype new password: ', 'Verification code: +\[secret\]'"
gh_expect_eq "a dummy password change changes nothing" \
	"$(gh_audit_count actor=n3 type=auth.password_change result=ok)" 1
# C2
gh_expect_match "closed window: a code prompt, no secret" "$(grep '^C2-prompt' <<<"$out")" "Verification code: '\] nosecret"
gh_expect_eq "closed window: failure" "$(grep '^C2-end' <<<"$out")" "C2-end failure"
gh_expect_audit 1 actor=n2 type=auth.fail 'detail=*enrolment window*'
gh_expect_eq "nobody logged in" "$(gh_audit_count type=auth.success)" 0

# totp-reset opens a new window, audited with its end
gh_admin user totp-reset n2 >"$GH_T/reset.out" 2>&1 || gh_fail "totp-reset: $(cat "$GH_T/reset.out")"
gh_expect_match "totp-reset tells the window" "$(cat "$GH_T/reset.out")" "before 20"
gh_expect_audit 1 type=user.totp-reset 'object=user:n2' 'detail=*enrol_until*'
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_auth_rounds: ok"
