#!/bin/bash
# Attack (issue 15, finding 2): lockout did not bound second-factor guesses,
# and a locked account still logged in. The user row was read once per
# connection, so 25 connections that passed the password sent 25 wrong
# codes at once and all were judged; then a connection held at the code
# prompt gave the right code on the locked account and logged in.
#
# Here: connection A passes the password and waits at "Verification code:";
# 24 more pass the password and send wrong codes all at once (threads, one
# barrier). At most lockout_threshold codes may be judged ("bad code"), the
# account locks, the rest fail without being judged ("lockout active"), and
# A's right code is refused afterwards: no login on a locked account.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init 'lockout_threshold = 5' 'penalty_failures = 1000' 'max_startups = 100:30:100' 'max_startups_per_source = 100'
gh_setup_web01
gh_user r1
gh_grant r1 web01 "$TGT_LOGIN"
start_gatehoused

out=$(PYTHONPATH="$GH_SRC/tests/integration/attack" $PY - "$GH_PORT" "r1@$TGT_LOGIN@web01" "$(gh_user_pw r1)" \
	"$(gh_user_totp r1)" "$(gh_totp_wrong "$(gh_user_totp r1)")" <<'PY'
import subprocess, sys, threading
from rawssh import RawAuth

port, user, pw, secret, wrong = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
N = 24

def to_code_prompt():
    t = RawAuth.connect(port)
    t.kbdint(user)
    assert t.wait()[0] == "prompts"
    t.answer([pw])
    ev = t.wait(30)
    assert ev[0] == "prompts" and "code" in ev[2][0], ev
    return t

a = to_code_prompt()
held = [None] * N
def prepare(i):
    held[i] = to_code_prompt()
ths = [threading.Thread(target=prepare, args=(i,)) for i in range(N)]
[th.start() for th in ths]
[th.join() for th in ths]

results = [None] * N
barrier = threading.Barrier(N)
def guess(i):
    barrier.wait()
    held[i].answer([wrong])
    results[i] = held[i].wait(60)[0]
ths = [threading.Thread(target=guess, args=(i,)) for i in range(N)]
[th.start() for th in ths]
[th.join() for th in ths]
print("guesses", " ".join(sorted(set(results))), results.count("success"))
for t in held:
    t.close()

code = subprocess.check_output(["oathtool", "--totp", "-b", secret], text=True).strip()
a.answer([code])
print("held-right-code", a.wait(30)[0])
print("held-can-open", a.open_session_ok())
a.close()
PY
) || gh_fail "the raw client failed: $out"
echo "$out" >&2

judged=$(gh_audit_count actor=r1 type=auth.fail 'detail=*bad code*')
echo "wrong codes judged: $judged" >&2
[ "$judged" -ge 1 ] && [ "$judged" -le 5 ] || gh_fail "$judged wrong codes were judged (lockout_threshold 5)"
gh_expect_audit 1 actor=r1 type=auth.lockout
gh_expect_audit 15 actor=r1 type=auth.fail 'detail=*lockout active*'
gh_expect_eq "the held connection's right code" "$(grep '^held-right-code' <<<"$out")" "held-right-code failure"
gh_expect_eq "no channel for the held connection" "$(grep '^held-can-open' <<<"$out")" "held-can-open False"
gh_expect_eq "no login of r1" "$(gh_audit_count actor=r1 type=auth.success)" 0
gh_expect_eq "no session" "$(gh_sql "SELECT count(*) FROM sessions")" 0
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_auth_race: ok"
