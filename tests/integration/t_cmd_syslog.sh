#!/bin/bash
# Scenario: the real-time export to the local syslog. gatehoused runs in its
# own mount namespace where /dev/log is a datagram socket of this test (the
# real /dev is not touched); a command is blocked, another alerted, and the
# socket must receive RFC 5424 messages at once: PRI for authpriv with the
# right severity, version 1, APP-NAME gatehouse, MSGID the event type or
# "command", the [gatehouse@32473 ...] structured data with escaped values,
# and the JSON object as the message.
. "$(dirname "$0")/lib-ssh.sh"

[ "$(id -u)" -eq 0 ] || { echo "t_cmd_syslog: skipped (needs root for a mount namespace)"; exit 0; }
command -v unshare >/dev/null || { echo "t_cmd_syslog: skipped (no unshare)"; exit 0; }

gh_data_init 'audit_syslog = yes'
gh_setup_web01
gh_user sy1
gh_grant sy1 web01 "$TGT_LOGIN"
gh_user sy2
gh_grant sy2 web01 "$TGT_LOGIN"

# The syslog socket: every datagram one line of $GH_T/syslog.out (newlines
# inside a datagram would show as a broken line).
SOCK=$GH_T/devlog
$PY - "$SOCK" "$GH_T/syslog.out" <<'PYEOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        d = s.recv(1 << 17)
        f.write(d.replace(b"\n", b"\\n") + b"\n")
PYEOF
gh_keep_pid $!
gh_wait_for 10 test -S "$SOCK" || gh_fail "no syslog socket"

# gatehoused in a private mount namespace: a tmpfs on /dev with the few
# devices it needs bound from the real /dev, and /dev/log bound to $SOCK.
mkdir -p "$GH_T/realdev"
cat >"$GH_T/ghd-ns.sh" <<NSEOF
#!/bin/bash
set -e
mount --make-rprivate /
mount --bind /dev "$GH_T/realdev"
mount -t tmpfs -o mode=755 none /dev
for d in null zero urandom random tty; do
	touch /dev/\$d
	mount --bind "$GH_T/realdev/\$d" /dev/\$d
done
mkdir -p /dev/pts /dev/shm
touch /dev/log
mount --bind "$SOCK" /dev/log
umount -l "$GH_T/realdev"
exec "$GHD" "\$@"
NSEOF
chmod 755 "$GH_T/ghd-ns.sh"
cat >"$GH_T/ghd-wrap.sh" <<WEOF
#!/bin/bash
exec unshare -m "$GH_T/ghd-ns.sh" "\$@"
WEOF
chmod 755 "$GH_T/ghd-wrap.sh"
GHD_REAL=$GHD
GHD=$GH_T/ghd-wrap.sh
start_gatehoused
GHD=$GHD_REAL

gh_admin cmdrule add --pattern 'touch .*NOPE' --action block >/dev/null || gh_fail "cmdrule add"
gh_admin cmdrule add --pattern 'LOUD' --action alert >/dev/null || gh_fail "cmdrule add"

gh_ssh_cmd "sy1@$TGT_LOGIN@web01" "touch $GH_T/NOPE"
gh_expect_eq "blocked exec" "$RC" 126
gh_ssh_cmd "sy2@$TGT_LOGIN@web01" 'echo LOUD "quote]back\slash"'
gh_expect_eq "alerted exec" "$RC" 0

gh_wait_for 10 grep -q 'command.alert' "$GH_T/syslog.out" || gh_fail "no syslog message: $(cat "$GH_T/syslog.out" 2>/dev/null)"
$PY - "$GH_T/syslog.out" <<'PYEOF' || gh_fail "syslog messages: $(cat "$GH_T/syslog.out")"
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
hdr = re.compile(r'^<(\d+)>1 (\S+) (\S+) gatehouse (\d+) (\S+) \[gatehouse@32473((?: [a-z_]+="(?:[^"\\\]]|\\["\\\]])*")*)\](?: (.*))?$')
msgs = []
for l in lines:
    m = hdr.match(l)
    assert m, "not RFC 5424: " + l
    pri, ts, host, pid, msgid, sd, msg = m.groups()
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", ts), ts
    params = dict((k, re.sub(r'\\(["\\\]])', r"\1", v)) for k, v in re.findall(r' ([a-z_]+)="((?:[^"\\\]]|\\["\\\]])*)"', sd))
    msgs.append((int(pri), msgid, params, json.loads(msg) if msg else None))
def find(msgid, **kw):
    for p, i, params, j in msgs:
        if i == msgid and all(params.get(k) == v for k, v in kw.items()):
            return p, params, j
    raise AssertionError(f"no {msgid} {kw} in {[(i, params) for _, i, params, _ in msgs]}")
# authpriv = 10: warning (4) for high importance and blocked/alerted commands.
p, params, j = find("command.block", type="command.block", result="blocked", importance="high", actor="sy1")
assert p == 10 * 8 + 4, p
assert j["detail"]["command"].endswith("/NOPE") and j["type"] == "command.block"
p, params, j = find("command.alert", type="command.alert", actor="sy2")
assert p == 84 and j["detail"]["command"] == 'echo LOUD "quote]back\\slash"', j
p, params, j = find("command", user="sy2", action="alerted", source="exec")
assert p == 84 and j["record"] == "command" and j["command"] == 'echo LOUD "quote]back\\slash"', j
assert params["session"] == j["session"] and params["kind"] == "command"
p, params, j = find("command", user="sy1", action="blocked")
assert p == 84
# Ordinary events at info/notice: session.start is info (6).
p, params, j = find("session.start", actor="sy1")
assert p == 10 * 8 + 6, p
PYEOF
echo "t_cmd_syslog: ok"
