#!/bin/bash
# Scenario: gatehouse-play on a recording made with the writer API
# (tests/helpers/mkrec) and a sessions row inserted with sqlite3: --info,
# --export raw round trip, asciicast timing and accepted by `asciinema cat`,
# --verify OK against the row, failing on a flipped byte and on a row with
# another head, zstdcat decodes, every run is an audit event.
. "$(dirname "$0")/lib.sh"
gh_setup
PLAY=$GH_BUILD/gatehouse-play
MKREC=$GH_BUILD/tests/helpers/mkrec
[ -x "$MKREC" ] || die "no $MKREC"
UUID=0b7e6c1a-0000-4000-8000-00000000aaaa
REC=$GH_DATA/recordings/$UUID.ghrec
mkdir -p "$GH_DATA/recordings"
read -r HEAD FRAMES < <("$MKREC" "$REC") || die "mkrec"
gh_sql "INSERT INTO sessions (uuid, user, source_addr, source_port, asset, login, start, end, end_reason, state, recording, rec_frames, rec_head)
	VALUES ('$UUID', 'alice', '127.0.0.1', 40001, 'web01', 'root', 1795000000, 1795000600, 'client closed', 'closed', 'recordings/$UUID.ghrec', $FRAMES, '$HEAD');" ||
	die "insert"

expect_ok "$PLAY" -d "$GH_DATA" 1 --info
expect_match "info user" "$OUT" '^User: +alice$'
expect_match "info asset" "$OUT" '^Asset: +web01$'
expect_match "info end reason" "$OUT" '^End reason: +client closed$'
expect_match "info shell channel" "$OUT" '^  1 shell pty 80x24 resizes 1 out 73 in 3 redacted 8 exit 0$'
expect_match "info exec channel" "$OUT" '^  2 exec out 10 in 0 command uptime$'

# Raw export: exactly the bytes written (by uuid as well as by id).
"$PLAY" -d "$GH_DATA" "$UUID" --export raw -o "$GH_TMP/raw.out" || die "export raw"
printf 'Welcome to web01\r\n$ ls\r\nfile-a  file-b\r\n$ \033[1;31mred\033[0m \xe4\xb8\xad\xe6\x96\x87\r\n$ exit\r\n' >"$GH_TMP/raw.want"
cmp "$GH_TMP/raw.out" "$GH_TMP/raw.want" || die "raw export differs"
"$PLAY" -d "$GH_DATA" 1 --channel 2 --export raw >"$GH_TMP/raw2.out" || die "export channel 2"
[ "$(cat "$GH_TMP/raw2.out")" = "up 3 days" ] || die "channel 2 export: $(cat "$GH_TMP/raw2.out")"

# asciicast: header, events 1.5 s apart (as written), input, resize.
"$PLAY" -d "$GH_DATA" 1 --export asciicast -o "$GH_TMP/cast" || die "export asciicast"
"$GH_PY" - "$GH_TMP/cast" <<'PY' || die "asciicast content"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
h = json.loads(lines[0])
assert h["version"] == 2 and h["width"] == 80 and h["height"] == 24 and h["title"] == "alice@web01", h
ev = [json.loads(l) for l in lines[1:]]
o = [e for e in ev if e[1] == "o"]
assert len(o) == 8, ev
for a, b in zip(o, o[1:]):
    assert abs((b[0] - a[0]) - 1.5) < 1e-6, (a, b)
assert [e[2] for e in ev if e[1] == "i"] == ["ls\r"], ev
assert [e[2] for e in ev if e[1] == "r"] == ["100x30"], ev
assert all(b[0] >= a[0] for a, b in zip(ev, ev[1:]))
PY
# --max-idle caps the pauses.
"$PLAY" -d "$GH_DATA" 1 --export asciicast --max-idle 0.5 -o "$GH_TMP/cast2" || die "max-idle"
"$GH_PY" -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
assert all(b[0] - a[0] <= 0.5 + 1e-6 for a, b in zip(ev, ev[1:])), ev
' "$GH_TMP/cast2" || die "max-idle not applied"
if command -v asciinema >/dev/null; then
	# asciinema cat reads keys from /dev/tty: give it a terminal.
	"$GH_PY" -c '
import fcntl, os, subprocess, sys, termios
m, s = os.openpty()
def pre():
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
p = subprocess.run(["asciinema", "cat", sys.argv[1]], stdin=s, stdout=subprocess.PIPE, preexec_fn=pre, timeout=30)
sys.stdout.buffer.write(p.stdout)
sys.exit(p.returncode)' "$GH_TMP/cast" >"$GH_TMP/cat.out" || die "asciinema cat refused the file"
	cmp "$GH_TMP/cat.out" "$GH_TMP/raw.want" || die "asciinema cat output differs"
else
	echo "t_play_basic: asciinema not installed, skipping asciinema cat" >&2
fi

# zstdcat decodes the record stream (it contains the output text).
zstdcat "$REC" 2>/dev/null | grep -aq "file-a  file-b" || die "zstdcat"

# --verify: OK against the row.
expect_ok "$PLAY" -d "$GH_DATA" 1 --verify
expect_contains "verify ok" "$OUT" "OK: $FRAMES frames, chain head $HEAD, matches the database"
# A row with another head: fails.
gh_sql "UPDATE sessions SET rec_head = '$(printf '%064d' 0)' WHERE id = 1" || die "update"
expect_fail 1 "$PLAY" -d "$GH_DATA" 1 --verify
expect_contains "verify head" "$OUT" "FAILED"
gh_sql "UPDATE sessions SET rec_head = '$HEAD' WHERE id = 1" || die "update"
# A flipped byte inside the data frame: fails at frame 0.
cp "$REC" "$GH_TMP/orig.ghrec"
"$GH_PY" -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[60] ^= 0x01; open(p, "wb").write(b)' "$REC"
expect_fail 1 "$PLAY" -d "$GH_DATA" 1 --verify
expect_contains "verify tampered" "$OUT" "FAILED: first bad frame 0"
cp "$GH_TMP/orig.ghrec" "$REC"
# A torn tail (file cut inside the frame, trailer gone): reported.
head -c 120 "$GH_TMP/orig.ghrec" >"$GH_TMP/torn.ghrec"
expect_ok "$PLAY" --verify "$GH_TMP/orig.ghrec"
gh_run "$PLAY" --verify "$GH_TMP/torn.ghrec"
expect_contains "torn" "$OUT" "torn"

# Every run above on the database is in the audit trail, by kind.
expect_eq "audit by type" "$(gh_sql "SELECT type || '=' || count(*) FROM audit WHERE object = 'session:1' AND type LIKE 'session.%' GROUP BY type ORDER BY type" | tr '\n' ' ')" \
	"session.export=4 session.info=1 session.verify=3 "
expect_eq "failed verifications" "$(gh_sql "SELECT count(*) FROM audit WHERE type = 'session.verify' AND result = 'fail' AND importance >= 2")" "2"
expect_eq "actor" "$(gh_sql "SELECT DISTINCT actor FROM audit WHERE type LIKE 'session.%'")" "$(id -un)"
expect_fail 1 "$PLAY" -d "$GH_DATA" 999 --info
echo "t_play_basic: ok"
