#!/bin/bash
# Attack (issue 15, finding 7, last bullet): a tunnel to the target's own
# SSH port (ssh -J through the bastion: ciphertext the recording cannot
# read) written in another spelling of the loopback address. The bastion
# refused them, but logged plain forward.deny instead of tunnel.unrecorded.
# Now every destination is read as the target's resolver reads it and
# judged, labelled and opened in one canonical form (common/netaddr.c):
#
#  1. 0, 2130706433, 127.1, 0x7f.1, 017700000001, ::ffff:127.0.0.1, [::1],
#     127.0.0.1., localhost. on the target's SSH port: refused and audited
#     tunnel.unrecorded (high), each with the canonical destination and the
#     spelling the operator sent (paramiko direct-tcpip, raw host strings);
#  2. a grant listing 127.0.0.1:PORT allows the same destination in any
#     spelling (it is the same destination, and the target is asked for
#     127.0.0.1), the name localhost is another destination (not resolved
#     by the bastion);
#  3. grant add stores --forward-to in canonical form; OpenSSH's
#     ssh -W [::ffff:127.0.0.1]:SSHPORT then matches a grant written
#     0x7f.1:SSHPORT, labelled tunnel.unrecorded (ok);
#  4. hosts no resolver reads (a space, a scope id) are malformed.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
www=$GH_T/www
mkdir -p "$www"
echo "FORWARD-ADDR-MARKER-$$" >"$www/index.html"
http_port=$(gh_free_port)
$PY -m http.server --bind 127.0.0.1 --directory "$www" "$http_port" >"$GH_T/http.log" 2>&1 &
gh_keep_pid $!
gh_wait_for 10 gh_port_listening "$http_port" || gh_fail "http.server did not start"

gh_user fa1
gh_grant fa1 web01 "$TGT_LOGIN" --rights shell,forward --forward-to "127.0.0.1:$http_port"
gh_user fa2
gh_grant fa2 web01 "$TGT_LOGIN" --rights shell,forward --forward-to "0x7f.1:$WEB01_PORT"
gh_expect_eq "--forward-to stored in canonical form" \
	"$(gh_sql "SELECT forward_to FROM grants WHERE user_id = (SELECT id FROM users WHERE name = 'fa2')")" \
	"127.0.0.1:$WEB01_PORT"
start_gatehoused

SPELLINGS='0 2130706433 127.1 0x7f.1 017700000001 ::ffff:127.0.0.1 [::1] 127.0.0.1. localhost.'
$PY - "$GH_PORT" "$GH_T" "$TGT_LOGIN" fa1 "$WEB01_PORT" "$http_port" "$SPELLINGS" >"$GH_T/fwd.out" 2>&1 <<'PYEOF' || gh_fail "raw direct-tcpip client failed: $(cat "$GH_T/fwd.out")"
import subprocess, sys
import paramiko

port, tdir, login, user, ssh_port, http_port, spellings = (int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4],
                                                           int(sys.argv[5]), int(sys.argv[6]), sys.argv[7].split())
pw = open("%s/users/%s.pw" % (tdir, user)).read().strip()
secret = open("%s/users/%s.totp" % (tdir, user)).read().strip()
code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()
t = paramiko.Transport(("127.0.0.1", port))
t.start_client(timeout=20)
t.auth_interactive("%s@%s@web01" % (user, login),
                   lambda title, instr, plist: [code if "code" in p.lower() else pw for p, _ in plist])
if not t.is_authenticated():
    sys.exit("login failed")

def tunnel(host, p):
    try:
        return t.open_channel("direct-tcpip", (host, p), ("127.0.0.1", 40000), timeout=15)
    except paramiko.ChannelException:
        return None

# 1. the target's SSH port, every spelling: refused
for h in spellings:
    print("ssh %s %s" % (h, "OPEN" if tunnel(h, ssh_port) is not None else "refused"))
# 2. the listed web server, other spellings of 127.0.0.1 (and a name)
for h in ["0x7f.1", "2130706433", "::ffff:127.0.0.1", "127.0.0.1.", "127.1", "localhost"]:
    ch = tunnel(h, http_port)
    if ch is None:
        print("http %s refused" % h)
        continue
    ch.settimeout(15)
    ch.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    got = b""
    while True:
        b = ch.recv(65536)
        if not b:
            break
        got += b
    ch.close()
    print("http %s %s" % (h, "MARKER" if b"FORWARD-ADDR-MARKER" in got else "no-marker"))
# 4. malformed
for h in ["127.0.0.1 junk", "fe80::1%lo"]:
    print("bad %s %s" % (h.replace(" ", "_"), "OPEN" if tunnel(h, http_port) is not None else "refused"))
t.close()
PYEOF
# has_line TEXT: the client printed exactly this line
has_line() { grep -qxF "$1" "$GH_T/fwd.out" || gh_fail "the client did not print '$1': $(cat "$GH_T/fwd.out")"; }

# ---- 1. refused, and each one labelled as what it is ----
for h in $SPELLINGS; do
	has_line "ssh $h refused"
done
a() { gh_sql "SELECT count(*) FROM audit WHERE type = '$1' AND actor = 'fa1' $2"; }
gh_expect_eq "tunnel.unrecorded for every spelling" "$(a tunnel.unrecorded "AND result = 'denied' AND importance = 'high'")" 9
for h in 0 2130706433 127.1 0x7f.1 017700000001 '[::ffff:127.0.0.1]' 127.0.0.1.; do
	gh_expect_eq "unrecorded $h" "$(a tunnel.unrecorded "AND instr(detail, '\"requested\":\"$h:$WEB01_PORT\"') > 0")" 1
done
gh_expect_eq "canonical 127.0.0.1" "$(a tunnel.unrecorded "AND object = '127.0.0.1:$WEB01_PORT'")" 6
gh_expect_eq "canonical 0.0.0.0" "$(a tunnel.unrecorded "AND object = '0.0.0.0:$WEB01_PORT'")" 1
gh_expect_eq "canonical ::1" "$(a tunnel.unrecorded "AND object = '[::1]:$WEB01_PORT'")" 1
gh_expect_eq "canonical localhost" "$(a tunnel.unrecorded "AND object = 'localhost:$WEB01_PORT'")" 1

# ---- 2. the same destination in other spellings is the listed one ----
for h in 0x7f.1 2130706433 ::ffff:127.0.0.1 127.0.0.1. 127.1; do
	has_line "http $h MARKER"
done
has_line "http localhost refused" # a name is another destination
gh_expect_eq "tunnel.open, canonical" "$(a tunnel.open "AND object = '127.0.0.1:$http_port'")" 5
gh_expect_eq "tunnel.open, spelling kept" "$(a tunnel.open "AND instr(detail, '\"requested\":\"0x7f.1:$http_port\"') > 0")" 1
gh_wait_sessions_closed 15 || gh_fail "session rows still active"
gh_expect_eq "tunnel rows name the canonical destination" \
	"$(gh_sql "SELECT count(*) FROM transfers WHERE user = 'fa1' AND protocol = 'tunnel' AND path = '127.0.0.1:$http_port'")" 5

# ---- 3. OpenSSH ssh -W, grant written 0x7f.1, request ::ffff:127.0.0.1 ----
GH_SSH_EXTRA=(-W "[::ffff:127.0.0.1]:$WEB01_PORT")
GH_SSH_TIMEOUT=30 gh_ssh_cmd "fa2@$TGT_LOGIN@web01"
GH_SSH_EXTRA=()
gh_expect_match "banner of the target through -W" "$OUT" "^SSH-2.0"
gh_expect_eq "unrecorded, allowed" \
	"$(gh_sql "SELECT count(*) FROM audit WHERE type = 'tunnel.unrecorded' AND actor = 'fa2' AND result = 'ok' AND object = '127.0.0.1:$WEB01_PORT'")" 1

# ---- 4. malformed hosts ----
has_line "bad 127.0.0.1_junk refused"
has_line "bad fe80::1%lo refused"
gh_expect_eq "malformed destinations" "$(a forward.deny "AND instr(detail, 'malformed destination') > 0")" 2

gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_forward_addr: ok"
