#!/bin/bash
# Scenario (issue 9): before authentication, protocol messages a client has
# no business sending get it nowhere. With paramiko driving the transport by
# hand, after the key exchange and before any authentication:
#  - a channel open (session and direct-tcpip) is refused;
#  - an unsolicited SSH_MSG_USERAUTH_SUCCESS (the libssh CVE-2018-10933
#    pattern) does not authenticate: a channel open after it is refused too;
#  - a keyboard-interactive INFO_RESPONSE sent without an INFO_REQUEST, and
#    answers that do not match the prompts, are refused;
# and the daemon records no successful authentication and no session.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user uns
gh_grant uns web01 "$TGT_LOGIN"
gh_user ctl
gh_grant ctl web01 "$TGT_LOGIN"
start_gatehoused

out=$(PW=$(gh_user_pw uns) CTL_PW=$(gh_user_pw ctl) CTL_CODE=$(gh_totp_now "$(gh_user_totp ctl)") $PY - "$GH_PORT" "uns@$TGT_LOGIN@web01" <<'PY'
import os, socket, sys, time
import paramiko
from paramiko.message import Message
from paramiko.common import cMSG_USERAUTH_SUCCESS, cMSG_USERAUTH_INFO_RESPONSE

port, login = int(sys.argv[1]), sys.argv[2]

def transport():
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=10)
    return t

def try_open(t, kind):
    try:
        if kind == "session":
            ch = t.open_session(timeout=5)
        else:
            ch = t.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 5555), timeout=5)
        ch.close()
        return "OPENED"
    except Exception as e:  # ChannelException, SSHException, EOFError
        return "REFUSED"

# 1. channel opens before any authentication
t = transport()
print("session-before-auth", try_open(t, "session"))
t.close()
t = transport()
print("direct-tcpip-before-auth", try_open(t, "direct-tcpip"))
t.close()

# 2. unsolicited USERAUTH_SUCCESS from the client, then a channel open
t = transport()
m = Message()
m.add_byte(cMSG_USERAUTH_SUCCESS)
t._send_user_message(m)
time.sleep(0.5)
print("session-after-fake-success", try_open(t, "session"))
t.close()

# 3. an INFO_RESPONSE nobody asked for, then one with the right password
#    but not matching the prompts (two answers to one prompt)
t = transport()
m = Message()
m.add_byte(cMSG_USERAUTH_INFO_RESPONSE)
m.add_int(1)
m.add_string(os.environ["PW"])
t._send_user_message(m)
time.sleep(0.5)
print("session-after-unsolicited-info-response", try_open(t, "session") if t.is_active() else "REFUSED")
t.close()
t = transport()
try:
    t.auth_interactive(login, lambda title, instr, prompts: [os.environ["PW"]] * (len(prompts) + 1))
    print("mismatched-answers ACCEPTED")
except paramiko.AuthenticationException:
    print("mismatched-answers REFUSED")
except paramiko.SSHException:
    print("mismatched-answers REFUSED")
t.close()

# control: the same probe after a real login opens a channel
t = transport()
def answer(title, instr, prompts):
    return [os.environ["CTL_CODE"] if "code" in p.lower() else os.environ["CTL_PW"] for p, echo in prompts]
while True:
    try:
        t.auth_interactive(login.replace("uns@", "ctl@", 1), answer)
        break
    except paramiko.AuthenticationException:
        print("control-login FAILED")
        sys.exit(0)
print("control-after-login", try_open(t, "session"))
t.close()
PY
) || gh_fail "the paramiko client failed: $out"
echo "$out" >&2
gh_expect_eq "channel open before auth" "$(grep '^session-before-auth' <<<"$out")" "session-before-auth REFUSED"
gh_expect_eq "direct-tcpip before auth" "$(grep '^direct-tcpip-before-auth' <<<"$out")" "direct-tcpip-before-auth REFUSED"
gh_expect_eq "fake USERAUTH_SUCCESS" "$(grep '^session-after-fake-success' <<<"$out")" "session-after-fake-success REFUSED"
gh_expect_eq "unsolicited INFO_RESPONSE" "$(grep '^session-after-unsolicited' <<<"$out")" \
	"session-after-unsolicited-info-response REFUSED"
gh_expect_eq "answers not matching the prompts" "$(grep '^mismatched' <<<"$out")" "mismatched-answers REFUSED"
gh_expect_eq "control: a channel after a real login" "$(grep '^control' <<<"$out")" "control-after-login OPENED"
gh_expect_eq "no successful authentication but the control" "$(gh_audit_count type=auth.success actor!=ctl)" 0
gh_expect_eq "no session row but the control's" "$(gh_sql "SELECT count(*) FROM sessions WHERE user != 'ctl'")" 0
gh_daemon_alive || gh_fail "gatehoused died"
echo "t_preauth_unsolicited: ok"
