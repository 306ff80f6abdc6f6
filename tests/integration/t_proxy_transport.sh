#!/bin/bash
# Scenario: the transport choices the bastion makes for performance
# (docs/performance.md), seen from real OpenSSH peers.
#  1. The target leg's cipher: the bastion is the client there and offers
#     AES-GCM first when the CPU has AES and carry-less multiply instructions,
#     chacha20-poly1305 first otherwise (read from the target sshd's DEBUG1 log).
#  2. The receive windows the bastion grants: libssh 0.10 alone never
#     re-opens a channel window beyond 1,280,000 bytes; the pump tops it up
#     to 4 MiB, so during an upload the client, and during a download the
#     target, sees a window adjust larger than libssh could ever send
#     (OpenSSH debug2 "rcvd adjust"). The download interleaves standard error,
#     which the top-up on the target's channel must relay intact.
#  3. Peers that do not play by the window (paramiko, raw messages):
#     extended data from the operator is dropped on arrival (4 MiB of it does
#     not close the window for the real data after it), and an operator that
#     sends far beyond the window is cut off (channel closed, audited) instead
#     of growing the bastion's memory (libssh buffers such data regardless).
#  4. A slow destination bounds what is in flight: an operator uploading into
#     a command that reads slowly gets only a few windows ahead of it. Before
#     the pump drained libssh's buffer per read, libssh re-opened the window
#     on every small read and the bastion held nearly the whole upload.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
GH_SSHD_EXTRA="LogLevel DEBUG2" gh_setup_web01
gh_user ulla
gh_user ulla2 # a second login within one TOTP step needs another account (replay refused)
gh_user ulla3
gh_grant ulla3 web01 "$TGT_LOGIN"
gh_user ulla4
gh_grant ulla4 web01 "$TGT_LOGIN"
gh_user ulla5
gh_grant ulla5 web01 "$TGT_LOGIN"
gh_grant ulla web01 "$TGT_LOGIN"
gh_grant ulla2 web01 "$TGT_LOGIN"
start_gatehoused

# ---- 1. target leg cipher
out=$(gh_ssh "ulla@$TGT_LOGIN@web01" 'echo ok' </dev/null 2>"$GH_T/c.err") || gh_fail "exec failed: $(cat "$GH_T/c.err")"
gh_expect_eq "exec output" "$out" ok
got=$(grep -o 'kex: client->server cipher: [^ ]*' "$TGT_DIR/sshd.log" | tail -n 1 | awk '{print $4}')
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
if [[ " $flags " == *" aes "* && " $flags " == *" pclmulqdq "* ]]; then
	want=aes128-gcm@openssh.com
else
	want=chacha20-poly1305@openssh.com
fi
gh_expect_eq "target leg cipher (cpu: $([ "$want" = aes128-gcm@openssh.com ] && echo AES-NI || echo no AES-NI))" "$got" "$want"

# ---- 2. receive window toward the operator
mb=16
head -c "$((mb * 1024 * 1024))" /dev/urandom >"$GH_T/up" || gh_fail "cannot write the test file"
GH_SSH_EXTRA=(-vv)
got=$(gh_ssh "ulla2@$TGT_LOGIN@web01" 'wc -c' <"$GH_T/up" 2>"$GH_T/w.err") || gh_fail "upload failed: $(grep -v debug "$GH_T/w.err")"
GH_SSH_EXTRA=()
gh_expect_eq "bytes uploaded" "$got" "$((mb * 1024 * 1024))"
max=$(grep -o 'rcvd adjust [0-9]*' "$GH_T/w.err" | awk '$3 > m {m = $3} END {print m + 0}')
n=$(grep -c 'rcvd adjust' "$GH_T/w.err")
echo "window adjusts received: $n, largest $max bytes"
[ "$max" -gt 1280000 ] || gh_fail "largest window adjust $max: the window was never opened beyond libssh's 1,280,000 bytes"

# Download: 64 blocks of 256 KiB on stdout, a line on stderr after each.
from=$(($(wc -l <"$TGT_DIR/sshd.log") + 1))
got=$(gh_ssh "ulla5@$TGT_LOGIN@web01" 'for i in $(seq 1 64); do head -c 262144 /dev/zero; echo "e$i" >&2; done' \
	</dev/null 2>"$GH_T/d.err" | wc -c) || gh_fail "download failed: $(cat "$GH_T/d.err")"
gh_expect_eq "bytes downloaded" "$got" "$((64 * 262144))"
gh_expect_eq "stderr of the download" "$(tr '\n' ' ' <"$GH_T/d.err")" "$(for i in $(seq 1 64); do printf 'e%d ' "$i"; done)"
max=$(tail -n "+$from" "$TGT_DIR/sshd.log" | grep -o 'rcvd adjust [0-9]*' | awk '$3 > m {m = $3} END {print m + 0}')
echo "target: largest window adjust from the bastion $max bytes"
[ "$max" -gt 1280000 ] || gh_fail "largest window adjust to the target $max: its window was never opened beyond 1,280,000 bytes"

# ---- 3. peers that ignore the window
$PY - "$GH_PORT" "$GH_T" "$TGT_LOGIN" ulla3 <<'PYEOF' || gh_fail "paramiko flow-control scenario failed"
import subprocess, sys, time
import paramiko
from paramiko.common import cMSG_CHANNEL_DATA
from paramiko.message import Message

port, tdir, login, user = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
pw = open("%s/users/%s.pw" % (tdir, user)).read().strip()
secret = open("%s/users/%s.totp" % (tdir, user)).read().strip()
code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()

def fail(msg):
    print("flow: " + msg, file=sys.stderr)
    sys.exit(1)

t = paramiko.Transport(("127.0.0.1", port))
t.start_client(timeout=20)
t.auth_interactive("%s@%s@web01" % (user, login),
                   lambda title, instr, plist: [code if "code" in p.lower() else pw for p, _ in plist])
if not t.is_authenticated():
    fail("login failed")

# a. 4 MiB of extended data (within the window), then 1 MiB of data.
ch = t.open_session()
ch.settimeout(30)
ch.exec_command("wc -c")
ch.sendall_stderr(b"e" * (4 << 20))
ch.sendall(b"d" * (1 << 20))
ch.shutdown_write()
out = b""
while True:
    b = ch.recv(65536)
    if not b:
        break
    out += b
if out.strip() != b"1048576":
    fail("after extended data the target got %r, not 1048576 bytes" % out)
ch.close()

# b. A command that never reads stdin: the windows close along the path;
#    this client keeps sending 32 KiB packets without looking at the window.
ch = t.open_session()
ch.exec_command("sleep 60")
time.sleep(0.5)
sent = 0
try:
    while sent < (48 << 20) and not ch.closed and t.is_active():
        m = Message()
        m.add_byte(cMSG_CHANNEL_DATA)
        m.add_int(ch.remote_chanid)
        m.add_string(b"f" * 32768)
        t._send_user_message(m)
        sent += 32768
except Exception as e:
    print("send stopped: %r" % e)
deadline = time.time() + 20
while time.time() < deadline and not (ch.closed or ch.eof_received or ch.exit_status_ready()):
    time.sleep(0.1)
print("sent %d bytes beyond the window; channel closed=%s eof=%s" % (sent, ch.closed, ch.eof_received))
if not (ch.closed or ch.eof_received or ch.exit_status_ready()):
    fail("the bastion kept a channel open whose client ignored the window (%d bytes sent)" % sent)
t.close()
PYEOF
gh_wait_for 10 test "$(gh_sql "SELECT count(*) FROM audit WHERE type = 'channel.flow_violation' AND actor = 'ulla3'")" -ge 1 ||
	gh_fail "no channel.flow_violation audit event"
gh_sql "SELECT detail FROM audit WHERE type = 'channel.flow_violation'"

# ---- 4. a slow destination
# The target (same machine) reads about 1 MB/s and keeps its count in a file;
# the writer feeds ssh for 10 s as fast as it takes, then notes how far ahead
# of the target it got.
cat >"$GH_T/slow_reader.py" <<'PYEOF'
import os, sys, time
n = 0
while True:
    b = sys.stdin.buffer.read(65536)
    if not b:
        break
    n += len(b)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(n))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(0.05)
PYEOF
cat >"$GH_T/fast_writer.py" <<'PYEOF'
import os, sys, time
chunk = b"\0" * 65536
sent, end = 0, time.time() + 10
out = sys.stdout.buffer
while time.time() < end:
    out.write(chunk)
    out.flush()
    sent += len(chunk)
try:
    got = int(open(sys.argv[1]).read())
except (OSError, ValueError):
    got = 0
open(sys.argv[2], "w").write("%d %d\n" % (sent, got))
PYEOF
echo 0 >"$GH_T/consumed"
$PY "$GH_T/fast_writer.py" "$GH_T/consumed" "$GH_T/ahead" |
	gh_ssh "ulla4@$TGT_LOGIN@web01" "python3 $GH_T/slow_reader.py $GH_T/consumed" 2>"$GH_T/slow.err" ||
	gh_fail "slow upload failed: $(cat "$GH_T/slow.err")"
read -r sent got <"$GH_T/ahead"
echo "slow destination: the operator had sent $sent bytes when the target had read $got"
[ "$got" -gt 0 ] || gh_fail "the target read nothing"
[ $((sent - got)) -lt $((16 * 1024 * 1024)) ] ||
	gh_fail "$((sent - got)) bytes in flight behind a slow reader: the path buffers without bound"
echo "t_proxy_transport: ok"
