#!/bin/bash
# Scenario: first login through a real pty (pexpect driving OpenSSH's ssh):
# a temporary password must be changed on the spot (a weak one is refused
# with the reason shown, then a good one given twice), and a user without
# TOTP enrols on the spot (otpauth:// URI and a QR code shown, then a code
# confirms). Afterwards the new password and the new secret log in normally.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user yara
gh_grant yara web01 "$TGT_LOGIN"
temp_pw=$(gh_random_password)
new_pw=$(gh_random_password)
printf '%s\n' "$temp_pw" | gh_admin user passwd yara --password-stdin --temporary >"$GH_T/last.out" 2>&1 ||
	gh_fail "user passwd --temporary: $(cat "$GH_T/last.out")"
gh_admin user totp-reset yara >"$GH_T/last.out" 2>&1 || gh_fail "user totp-reset: $(cat "$GH_T/last.out")"
gh_expect_eq "temporary before" "$(gh_sql "SELECT pw_temporary FROM users WHERE name = 'yara'")" 1
start_gatehoused

cmd=$(GH_NO_ASKPASS=1 gh_ssh_cmdline "yara@$TGT_LOGIN@web01" -tt -o LogLevel=INFO -o NumberOfPasswordPrompts=3)
$PY - "$cmd" "$temp_pw" "$new_pw" "$GH_T/first-login.log" >"$GH_T/first-login.out" <<'PYEOF' ||
import re, subprocess, sys
import pexpect

cmd, temp_pw, new_pw, logpath = sys.argv[1:5]
log = open(logpath, "w")

def fail(msg):
    print("first-login: " + msg, file=sys.stderr)
    log.flush()
    sys.exit(1)

def spawn():
    c = pexpect.spawn("/bin/bash", ["-c", cmd], encoding="utf-8", codec_errors="replace",
                      timeout=40, dimensions=(60, 200))
    c.logfile_read = log
    return c

PATTERNS = [
    r"(?i)(retype|repeat|again|confirm)[^:\r\n]*:",   # 0 confirm new password
    r"(?i)new password[^:\r\n]*:",                      # 1 new password
    r"(?i)password:",                                   # 2 current / temporary password
    r"otpauth://totp/[^\s'\"]+",                        # 3 enrolment URI
    r"(?i)(verification|confirmation|authenticator|app|totp|one-time|6-digit) code[^:\r\n]*:",  # 4 TOTP code
    r"[#$] $",                                          # 5 shell prompt on the target
    pexpect.EOF,                                        # 6
    pexpect.TIMEOUT,                                    # 7
]
child = spawn()
# weak: 0 = not tried, 1 = sent as new password, 2 = sent as the retype too
# (so that the policy, not a mismatch, refuses it), 3 = refusal seen.
weak = 0
new_pw_sent = confirmed = restarted = False
secret = None
transcript = ""
refusal = None
for _ in range(40):
    i = child.expect(PATTERNS)
    transcript += (child.before or "") + (child.after if isinstance(child.after, str) else "")
    if weak == 2 and refusal is None:
        m = re.search(r"Password not changed: ([^\r\n]*)", transcript)
        if m:
            refusal = m.group(1)
            weak = 3
    if i == 0:
        if weak == 1:
            weak = 2
            child.sendline("weak")
        else:
            child.sendline(new_pw)
            confirmed = new_pw_sent
    elif i == 1:
        if weak == 0:
            weak = 1
            child.sendline("weak")
        else:
            new_pw_sent = True
            child.sendline(new_pw)
    elif i == 2:
        # The temporary password, unless a strong new one was already
        # confirmed (a server may ask to log in again after the change).
        child.sendline(new_pw if confirmed else temp_pw)
    elif i == 3:
        m = re.search(r"secret=([A-Z2-7]+)", child.after)
        if not m:
            fail("otpauth URI without a secret: " + child.after)
        secret = m.group(1)
    elif i == 4:
        if secret is None:
            fail("asked for a code before any enrolment URI was shown")
        code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()
        child.sendline(code)
    elif i == 5:
        break
    elif i == 6:
        if weak >= 2 and not restarted:
            # The server may end the connection after a refused new
            # password; then the reason must have been shown, and we retry.
            restarted = True
            child = spawn()
            continue
        fail("connection ended before a shell")
    else:
        fail("timed out waiting for a prompt")
else:
    fail("too many prompts")

if weak == 0:
    fail("never asked for a new password")
if refusal is None:
    fail("the weak password was not refused with a reason")
if not re.search(r"(?i)(at least|characters|length|short|upper|lower|digit|special)", refusal):
    fail("the refusal does not name the failed rule: " + refusal)
if secret is None:
    fail("no otpauth:// URI was shown")
# The QR code: Unicode half blocks, raw or escaped by ssh's log sanitiser.
if not re.search(r"[\u2580\u2584\u2588]{4}|(\\342\\226\\2[0-9]{2}){4}", transcript):
    fail("no QR code was drawn")
print("refusal: " + refusal, file=sys.stderr)
child.sendline("echo FIRST_LOGIN_$((40+2))")
child.expect(r"FIRST_LOGIN_42")
child.sendline("exit 0")
child.expect(pexpect.EOF)
print(secret)
PYEOF
	gh_fail "first login dialogue: $(tail -c 3000 "$GH_T/first-login.log")"

new_secret=$(tail -1 "$GH_T/first-login.out")
gh_expect_eq "temporary after" "$(gh_sql "SELECT pw_temporary FROM users WHERE name = 'yara'")" 0
[ "$(gh_sql "SELECT totp_secret IS NOT NULL FROM users WHERE name = 'yara'")" = 1 ] || gh_fail "no TOTP secret stored"
gh_expect_audit 1 actor=yara 'type=*pass*'
gh_expect_audit 1 actor=yara 'type=*totp*'

# The enrolment code was used in this time step: wait for the next one.
sleep $((31 - $(date +%s) % 30))
GH_PW=$new_pw GH_TOTP=$new_secret gh_ssh_cmd "yara@$TGT_LOGIN@web01" 'echo SECOND_LOGIN_OK'
gh_expect_eq "login with the new password and secret" "$OUT" SECOND_LOGIN_OK
echo "t_proxy_first_login: ok"
