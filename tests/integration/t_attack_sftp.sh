#!/bin/bash
# Attack (issue 15, finding 5): SFTP operations that escaped the transfer
# log or were logged under another file's name (proxy/sftp.c,
# docs/file-transfer.md). A raw SFTP client (paramiko Transport, packets
# built by hand):
#
#  A. fills the inspector's pending table: 5000 LSTAT requests without
#     reading a single answer (the client's window toward it is small), then
#     an upload OPEN, a download OPEN and a REMOVE, then reads the answers
#     and writes, reads and closes the two handles. Before the fix requests
#     beyond 4096 went to the target untracked: no row, no event. Now the
#     bastion stops reading the operator while 4096 requests are outstanding
#     (logged), and every operation has its row and event.
#  B. reuses an outstanding request id: STAT id 1, OPEN id 5 of a harmless
#     file, OPEN id 5 of a secret file. Before the fix the secret file's
#     content hash was logged under the harmless name. Now the second OPEN
#     never reaches the target, the channel ends, and sftp.violation
#     (importance high) is audited.
. "$(dirname "$0")/lib-ssh.sh"

gh_data_init
gh_setup_web01
gh_user sf1
gh_grant sf1 web01 "$TGT_LOGIN" --rights upload,download
start_gatehoused

W=$GH_T/sftp-attack
mkdir -p "$W"
chmod 777 "$W"
head -c 3000 /dev/urandom >"$W/down.bin"
printf 'to be removed\n' >"$W/gone"
printf 'harmless\n' >"$W/harmless"
printf 'root:$y$j9T$secret-hash:19000:0:99999:7:::\n' >"$W/secret"
sha() { sha256sum <"$1" | cut -d' ' -f1; }
down_sha=$(sha "$W/down.bin")
secret_sha=$(sha "$W/secret")
FLOOD=5000

$PY - "$GH_PORT" "$GH_T" "$TGT_LOGIN" sf1 "$W" "$FLOOD" >"$GH_T/attack.out" 2>&1 <<'PYEOF' || gh_fail "raw SFTP client failed: $(cat "$GH_T/attack.out")"
import struct, subprocess, sys, time
import paramiko

port, tdir, login, user, w, flood = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
pw = open("%s/users/%s.pw" % (tdir, user)).read().strip()
secret = open("%s/users/%s.totp" % (tdir, user)).read().strip()
code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()

def fail(msg):
    print("sftp attack: " + msg, file=sys.stderr)
    sys.exit(1)

def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b

def pkt(t, payload):
    return struct.pack(">IB", len(payload) + 1, t) + payload

INIT, VERSION, OPEN, CLOSE, READ, WRITE, LSTAT, REMOVE, STAT = 1, 2, 3, 4, 5, 6, 7, 13, 17
STATUS, HANDLE, DATA, ATTRS = 101, 102, 103, 105
RD, WR, CREAT, TRUNC = 1, 2, 8, 16

class Reader:
    def __init__(self, ch):
        self.ch, self.buf = ch, b""
    def packet(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    p, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return p[0], p[1:]
            b = self.ch.recv(65536)
            if not b:
                return None, None
            self.buf += b
    def answers(self, ids):
        """Answers (type, body) by request id, until all ids answered."""
        got = {}
        while not ids <= set(got):
            t, body = self.packet()
            if t is None:
                fail("channel closed with %d answers missing" % len(ids - set(got)))
            got[struct.unpack(">I", body[:4])[0]] = (t, body[4:])
        return got

def handle_of(ans, rid):
    t, body = ans[rid]
    if t != HANDLE:
        fail("request %d: answer type %d, not a handle" % (rid, t))
    n = struct.unpack(">I", body[:4])[0]
    return body[4:4 + n]

# A small window toward the client: the bastion's answers stop after 64 KiB
# while the client does not read.
t = paramiko.Transport(("127.0.0.1", port), default_window_size=65536)
t.start_client(timeout=20)
t.auth_interactive("%s@%s@web01" % (user, login),
                   lambda title, instr, plist: [code if "code" in p.lower() else pw for p, _ in plist])
if not t.is_authenticated():
    fail("login failed")

# ---- A. the pending table ------------------------------------------------
ch = t.open_session()
ch.settimeout(60)
ch.invoke_subsystem("sftp")
rd = Reader(ch)
ch.sendall(pkt(INIT, struct.pack(">I", 3)))
typ, _ = rd.packet()
if typ != VERSION:
    fail("no VERSION (%r)" % typ)
burst = b"".join(pkt(LSTAT, struct.pack(">I", i) + s("/")) for i in range(1, flood + 1))
burst += pkt(OPEN, struct.pack(">I", 100001) + s(w + "/up.bin") + struct.pack(">II", WR | CREAT | TRUNC, 0))
burst += pkt(OPEN, struct.pack(">I", 100002) + s(w + "/down.bin") + struct.pack(">II", RD, 0))
burst += pkt(REMOVE, struct.pack(">I", 100003) + s(w + "/gone"))
ch.sendall(burst)
time.sleep(3)  # not reading: the answers pile up, the table fills
ans = rd.answers(set(range(1, flood + 1)) | {100001, 100002, 100003})
if ans[100003][0] != STATUS or struct.unpack(">I", ans[100003][1][:4])[0] != 0:
    fail("remove failed: %r" % (ans[100003],))
hu, hd = handle_of(ans, 100001), handle_of(ans, 100002)
ch.sendall(pkt(WRITE, struct.pack(">I", 100004) + s(hu) + struct.pack(">Q", 0) + s(b"uploaded through a full table\n")) +
           pkt(READ, struct.pack(">I", 100005) + s(hd) + struct.pack(">QI", 0, 65536)) +
           pkt(CLOSE, struct.pack(">I", 100006) + s(hu)) +
           pkt(CLOSE, struct.pack(">I", 100007) + s(hd)))
ans = rd.answers({100004, 100005, 100006, 100007})
if ans[100005][0] != DATA:
    fail("download: answer type %d" % ans[100005][0])
ch.close()

# ---- B. a reused request id -------------------------------------------------
ch = t.open_session()
ch.settimeout(30)
ch.invoke_subsystem("sftp")
rd = Reader(ch)
ch.sendall(pkt(INIT, struct.pack(">I", 3)))
typ, _ = rd.packet()
if typ != VERSION:
    fail("no VERSION (%r)" % typ)
ch.sendall(pkt(STAT, struct.pack(">I", 1) + s("/")) +
           pkt(OPEN, struct.pack(">I", 5) + s(w + "/harmless") + struct.pack(">II", RD, 0)) +
           pkt(OPEN, struct.pack(">I", 5) + s(w + "/secret") + struct.pack(">II", RD, 0)))
# What the unfixed bastion let through: three answers, two handles; read
# the one the target gave second (the secret) and close it.
handles = []
deadline = time.time() + 20
while len(handles) < 2 and time.time() < deadline:
    try:
        typ, body = rd.packet()
    except Exception:
        typ = None
    if typ is None:
        break
    if typ == HANDLE:
        n = struct.unpack(">I", body[4:8])[0]
        handles.append(body[8:8 + n])
if len(handles) == 2:
    print("B: the bastion relayed both OPENs with id 5")
    ch.sendall(pkt(READ, struct.pack(">I", 6) + s(handles[1]) + struct.pack(">QI", 0, 4096)) +
               pkt(CLOSE, struct.pack(">I", 7) + s(handles[1])) + pkt(CLOSE, struct.pack(">I", 8) + s(handles[0])))
    try:
        rd.answers({6, 7, 8})
    except SystemExit:
        pass
else:
    # the channel must end
    end = time.time() + 20
    while time.time() < end and not ch.closed and not ch.eof_received:
        time.sleep(0.1)
    if not (ch.closed or ch.eof_received):
        fail("B: the channel did not end after the reused id")
    print("B: channel ended, exit status %s" % (ch.recv_exit_status() if ch.exit_status_ready() else "-"))
ch.close()
t.close()
PYEOF
gh_wait_sessions_closed 20 || gh_fail "session rows still active"

# ---- A: every operation has its row and its event ----
q() { gh_sql "SELECT $1 FROM transfers WHERE user = 'sf1' AND $2"; }
gh_expect_eq "lstat rows (every request tracked)" "$(q "count(*)" "op = 'lstat'")" "$FLOOD"
gh_expect_eq "remove row" "$(q "status" "op = 'remove' AND path = '$W/gone'")" ok
gh_expect_eq "upload row" "$(q "bytes_written || ' ' || sha256 || ' ' || status" "op = 'upload' AND path = '$W/up.bin'")" \
	"30 $(printf 'uploaded through a full table\n' | sha256sum | cut -d' ' -f1) ok"
gh_expect_eq "download row" "$(q "bytes_read || ' ' || sha256 || ' ' || status" "op = 'download' AND path = '$W/down.bin'")" \
	"3000 $down_sha ok"
[ ! -e "$W/gone" ] || gh_fail "the remove did not happen"
gh_expect_audit 1 type=sftp.op actor=sf1 "object=$W/gone"
gh_expect_audit 1 type=sftp.transfer actor=sf1 "object=$W/up.bin"
gh_expect_audit 1 type=sftp.transfer actor=sf1 "object=$W/down.bin"
grep -q "SFTP requests await an answer: the operator is not read" "$GH_LOG" ||
	gh_fail "the pending table never filled (no hold in the log): the scenario did not test the limit"

# ---- B: the reused id ends the channel, audited; nothing misnamed ----
gh_expect_match "client saw the end" "$(cat "$GH_T/attack.out")" "B: channel ended"
gh_expect_audit 1 type=sftp.violation actor=sf1 importance=high "detail=*request id 5*$W/secret*"
gh_expect_eq "rows with the secret's content" "$(q "count(*)" "sha256 = '$secret_sha'")" 0
gh_expect_eq "rows naming the secret" "$(q "count(*)" "path = '$W/secret'")" 0

gh_daemon_alive || gh_fail "gatehoused died"
echo "t_attack_sftp: ok"
