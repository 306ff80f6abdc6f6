#!/bin/bash
# Attack (issue 15, finding 1, PAM users): PAM's failure delay (pam_unix,
# pam_faildelay) sleeps only after a wrong password, so the time to the
# next prompt told right from wrong (about 2 s against 34 ms). Here the
# private stack has pam_faildelay with 2 s; the daemon suppresses PAM's own
# delay and pads every PAM outcome to pam_time (1 s here): a raw client
# timing the answer to the password sees the same time for both.
. "$(dirname "$0")/lib-ssh.sh"

pamdir=$GH_T/pam
mkdir -p "$pamdir"
pam_pw='Pam-Secret-42!'
cat >"$pamdir/check-pw" <<EOS
#!/bin/bash
IFS= read -r -d '' pw
[ "\$pw" = '$pam_pw' ]
EOS
chmod 755 "$pamdir" "$pamdir/check-pw"
cat >"$pamdir/gatehouse" <<EOS
auth optional pam_faildelay.so delay=2000000
auth [success=1 default=ignore] pam_exec.so quiet expose_authtok $pamdir/check-pw
auth requisite pam_deny.so
auth required pam_permit.so
account required pam_permit.so
EOS
chmod 644 "$pamdir/gatehouse"

gh_data_init "pam_confdir = $pamdir" 'pam_service = gatehouse' 'pam_time = 1000' 'lockout_threshold = 0' \
	'penalty_failures = 1000' 'max_auth_tries = 100'
gh_setup_web01
gh_admin user add pat --role operator --auth pam --totp-secret "$(gh_random_secret)" >/dev/null 2>&1 ||
	gh_fail "user add pat"
gh_grant pat web01 "$TGT_LOGIN"
start_gatehoused

out=$(PYTHONPATH="$GH_SRC/tests/integration/attack" $PY - "$GH_PORT" "pat@$TGT_LOGIN@web01" "$pam_pw" <<'PY'
import statistics, sys, time
from rawssh import RawAuth

port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
times = {"right": [], "wrong": [], "unknown": []}
for i in range(5):
    for kind in ("right", "wrong", "unknown"):
        t = RawAuth.connect(port)
        t.kbdint(user if kind != "unknown" else "nobody-%d@web01" % i)
        assert t.wait()[0] == "prompts"
        t0 = time.monotonic()
        t.answer([pw if kind == "right" else "Wrong-Pam-pw-1!"])
        ev = t.wait(30)
        times[kind].append(time.monotonic() - t0)
        assert ev[0] == "prompts" and "code" in ev[2][0], ev
        t.close()
for k, v in times.items():
    print("median-ms", k, int(statistics.median(v) * 1000))
PY
) || gh_fail "the raw client failed: $out"
echo "$out" >&2
right=$(awk '$2 == "right" {print $3}' <<<"$out")
wrong=$(awk '$2 == "wrong" {print $3}' <<<"$out")
unknown=$(awk '$2 == "unknown" {print $3}' <<<"$out")
for v in "$right" "$wrong" "$unknown"; do
	[ "$v" -ge 950 ] || gh_fail "a password check answered in $v ms, under pam_time (right $right, wrong $wrong, unknown $unknown)"
done
d=$((right - wrong))
d=${d#-}
[ "$d" -le 300 ] || gh_fail "right ($right ms) and wrong ($wrong ms) PAM passwords differ by $d ms"
d=$((unknown - wrong))
d=${d#-}
[ "$d" -le 300 ] || gh_fail "unknown user ($unknown ms) and PAM user ($wrong ms) differ by $d ms"
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_auth_pam_timing: ok"
