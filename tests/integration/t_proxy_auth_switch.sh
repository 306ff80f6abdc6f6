#!/bin/bash
# Scenario: authentication state is bound to the user name. With paramiko (a
# second, independent client stack) driving the protocol by hand:
#  - alice proves her key (partial success), then the client switches to bob
#    for keyboard-interactive: bob must be asked for his password again; the
#    key of alice must not stand in for bob's first factor (Warpgate
#    CVE-2023-48712 was exactly this);
#  - fewer answers than prompts fail;
#  - and the honest path works: alice's key + code, then an exec channel.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
ssh-keygen -q -t ed25519 -N '' -C alice -f "$GH_T/alice_key" || gh_fail ssh-keygen
gh_user alice operator --pubkey "$GH_T/alice_key.pub"
gh_user bob
gh_user carl
gh_user alice2 operator --pubkey "$GH_T/alice_key.pub"
for u in alice bob carl alice2; do gh_grant $u web01 "$TGT_LOGIN"; done
start_gatehoused

$PY - "$GH_PORT" "$GH_T" "$TGT_LOGIN" <<'PYEOF' || gh_fail "paramiko scenario failed"
import subprocess, sys
import paramiko

port, tdir, login = int(sys.argv[1]), sys.argv[2], sys.argv[3]
known = open(tdir + "/known_hosts").read().split()[2]

def secret(u):
    return open("%s/users/%s.totp" % (tdir, u)).read().strip()

def password(u):
    return open("%s/users/%s.pw" % (tdir, u)).read().strip()

def code(u):
    return subprocess.run(["oathtool", "--totp", "-b", secret(u)], capture_output=True, text=True).stdout.strip()

def transport():
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=20)
    if t.get_remote_server_key().get_base64() != known:
        sys.exit("bastion host key differs from the pinned one")
    return t

def fail(msg):
    print("auth-switch: " + msg, file=sys.stderr)
    sys.exit(1)

key = paramiko.Ed25519Key.from_private_key_file(tdir + "/alice_key")

# 1. alice's key, then keyboard-interactive as bob with only bob's code.
t = transport()
rest = t.auth_publickey("alice@%s@web01" % login, key)
if t.is_authenticated():
    fail("a public key alone authenticated alice")
if "keyboard-interactive" not in rest:
    fail("no keyboard-interactive after alice's key: %r" % (rest,))
prompts = []
def as_bob(title, instructions, plist):
    prompts.extend(p for p, _ in plist)
    return [code("bob") if "code" in p.lower() else "not-bobs-password" for p, _ in plist]
try:
    t.auth_interactive("bob@%s@web01" % login, as_bob)
except paramiko.AuthenticationException:
    pass
if t.is_authenticated():
    fail("bob got in with alice's key and bob's code")
if not any("Password" in p for p in prompts):
    fail("after the user switch bob was not asked for a password: %r" % (prompts,))
t.close()

# 2. Fewer answers than prompts.
t = transport()
def too_few(title, instructions, plist):
    return [password("carl")][: max(0, len(plist) - 1)] if len(plist) > 1 else []
try:
    t.auth_interactive("carl@%s@web01" % login, too_few)
except paramiko.AuthenticationException:
    pass
if t.is_authenticated():
    fail("authenticated with fewer answers than prompts")
t.close()

# 3. The honest path: alice2's key, her code, one command.
t = transport()
t.auth_publickey("alice2@%s@web01" % login, key)
t.auth_interactive("alice2@%s@web01" % login, lambda title, ins, pl: [code("alice2") for _ in pl])
if not t.is_authenticated():
    fail("alice2 with key and code was refused")
ch = t.open_session()
ch.exec_command("echo PARAMIKO_OK; exit 9")
out = ch.makefile("rb").read().decode().strip()
status = ch.recv_exit_status()
t.close()
if out != "PARAMIKO_OK" or status != 9:
    fail("paramiko exec: output %r status %r" % (out, status))
PYEOF
gh_expect_audit 1 actor=bob 'type=auth*' 'result!=ok'
[ "$(gh_audit_count actor=bob type=auth.success)" = 0 ] || gh_fail "an auth.success for bob"
[ "$(gh_audit_count actor=carl type=auth.success)" = 0 ] || gh_fail "an auth.success for carl"
gh_expect_audit 1 actor=alice2 type=auth.success
echo "t_proxy_auth_switch: ok"
