#!/bin/bash
# Attack (issue 15, finding 6): an operator's session prints what would take
# over the terminal of whoever replays it: a clipboard write (OSC 52), a
# window title (OSC 0, OSC 2), a hyperlink (OSC 8), a DCS query (DECRQSS,
# whose answer holds a 'q'), a cursor position report request (DSR 6n), a
# device attributes request (DA), bracketed paste and mouse reporting on, a
# C1 CSI, and an exec command that itself holds escapes. An auditor then
# replays it in the role shell (play), watches a live one (watch) and lists
# it (command list, session show, verify) over SSH with paramiko, keeping
# the raw bytes the bastion sends; and runs gatehouse-play locally in every
# mode (in a terminal, --follow, --info, --print-commands, --export raw and
# asciicast to a terminal, the output stream without a terminal to play in).
#
# Asserted: none of the dangerous sequences (nor the title or clipboard
# text) reaches the auditor, while colours and cursor positioning do; the
# display modes the recording changed are put back; a terminal's stale
# answer to a query (which holds a 'q') does not end play or watch; exports
# to a file keep the recorded bytes; every look is an audit event.
. "$(dirname "$0")/lib-ssh.sh"

AT=$GH_SRC/tests/integration/attack/auditor_term.py
PLAY=$GH_B/gatehouse-play

gh_data_init
gh_setup_web01
gh_user opa operator
gh_user opb operator
gh_user aud auditor
gh_grant opa web01 "$TGT_LOGIN"
gh_grant opb web01 "$TGT_LOGIN"
start_gatehoused

# What the operator prints (printf octal escapes, run by the target's shell).
ATTACK='\033]52;c;UFdORUQ=\007\033]0;PWNED-TITLE\007\033]2;PWNED-TITLE2\033\\'
ATTACK+='\033]8;;http://evil.example/\033\\LINK\033]8;;\033\\'
ATTACK+='\033P$q q\033\\\033[6n\033[c\033[>c\033[?2004h\033[?1000h\033[?1006h\033[?1h\033=\302\2336n'
ATTACK+='\033[21t\033[?25l'
SHOW='\033[31mRED\033[0m\033[5;10HPOS\033[K'
# The exec command itself carries escapes: a title and a clipboard write
# that reach whoever prints the command.
CMD=$'printf \'BEGIN'"$ATTACK$SHOW"$'\\n\'; sleep 3; printf \''"$ATTACK"$'END\\n\'; : \'\e]0;PWNED-CMD\a\e]52;c;UFdORUQ=\a\''

# One finished session, and one that is still running when it is watched.
gh_ssh_cmd "opa@$TGT_LOGIN@web01" "$CMD"
gh_expect_eq "operator session" "$RC" 0
grep -q "POS" "$GH_T/ssh.out" || gh_fail "the operator's command did not run: $ERR"
SID1=$(gh_sql "SELECT id FROM sessions WHERE user = 'opa'")
LIVECMD=$'printf \'BEGIN'"$ATTACK$SHOW"$'\\n\'; sleep 12; printf \''"$ATTACK"$'END\\n\''
gh_ssh "opb@$TGT_LOGIN@web01" "$LIVECMD" </dev/null >"$GH_T/opb.out" 2>"$GH_T/opb.err" &
gh_keep_pid $!
live_row() { [ -n "$(gh_sql "SELECT id FROM sessions WHERE user = 'opb' AND state = 'active'")" ]; }
gh_wait_for 30 live_row ||
	gh_fail "the live session did not start: $(cat "$GH_T/opb.err")"
SID2=$(gh_sql "SELECT id FROM sessions WHERE user = 'opb'")
gh_wait_for 20 grep -q BEGIN "$GH_T/opb.out" || gh_fail "the live session prints nothing"

# ---- the role shell, raw bytes ------------------------------------------
hostkey=$(awk '{print $3}' "$GH_T/known_hosts")
mkdir -p "$GH_T/term"
timeout 150 $PY "$AT" "$GH_PORT" aud "$(cat "$GH_T/users/aud.pw")" "$(cat "$GH_T/users/aud.totp")" "$hostkey" \
	"$GH_T/term" "play:$SID1" "watch:$SID2" "exec:cmdlist:command list" "exec:show:session show $SID1" \
	"exec:verify:verify $SID1" "exec:cmdjson:command list --json" "exec:audit:audit export" 2>"$GH_T/term.err" ||
	gh_fail "the auditor's client failed: $(cat "$GH_T/term.err")"

for f in play-$SID1 watch-$SID2; do
	b=$GH_T/term/$f.bin
	$PY "$AT" check "$b" || gh_fail "$f: dangerous sequences reached the auditor's terminal"
	grep -aqF $'\e[31mRED\e[0m' "$b" || gh_fail "$f: the colours did not reach the auditor"
	grep -aqF $'\e[5;10HPOS\e[K' "$b" || gh_fail "$f: the cursor positioning did not reach the auditor"
	grep -aqF 'LINK' "$b" || gh_fail "$f: the text of the hyperlink is lost"
	grep -aq 'END' "$b" || gh_fail "$f: the stream ended early (a stale answer to a query ended it?)"
	grep -aqF '[stopped]' "$b" && gh_fail "$f: the terminal's answer to a query stopped the stream"
	grep -aqF '[left the session' "$b" && gh_fail "$f: the terminal's answer to a query left the watch"
	# the cursor the recording hid is shown again before the shell's next line
	$PY - "$b" <<-'EOF' || gh_fail "$f: the cursor the recording hid was not put back"
		import sys
		d = open(sys.argv[1], "rb").read()
		assert d.rfind(b"\x1b[?25h") > d.rfind(b"\x1b[?25l") >= 0
	EOF
	grep -aqE 'terminal control sequences of the recording withheld' "$b" ||
		gh_fail "$f: the auditor is not told that sequences were withheld"
done
grep -aqF '[end of the recording]' "$GH_T/term/play-$SID1.bin" || gh_fail "play did not reach the end"
grep -aqF '[the session ended]' "$GH_T/term/watch-$SID2.bin" || gh_fail "watch did not follow to the end"
for f in cmdlist show verify cmdjson audit; do
	$PY "$AT" check "$GH_T/term/exec-$f.bin" text || gh_fail "role shell '$f': escapes reached the auditor"
done
grep -aq 'printf' "$GH_T/term/exec-cmdlist.bin" || gh_fail "command list does not show the command"
# JSON is plain ASCII (\uXXXX), the same data: the escapes are in it, exactly
$PY - "$GH_T/term/exec-cmdjson.bin" <<-'EOF' || gh_fail "command list --json does not hold the exact command"
	import json, sys
	rows = json.loads(open(sys.argv[1], "rb").read().decode().replace("\r\n", "\n"))
	assert any("\x1b]0;PWNED-CMD\x07" in r["command"] for r in rows), rows
EOF
grep -aq 'OK' "$GH_T/term/exec-verify.bin" || gh_fail "verify: $(cat "$GH_T/term/exec-verify.bin")"
gh_expect_audit 1 actor=aud type=shell.command "object=command:play*" result=started
gh_expect_audit 1 actor=aud type=shell.command "object=command:watch*" result=started

# ---- gatehouse-play, locally ---------------------------------------------
# in_pty OUT STDIN_TTY SECONDS KEYS ARGS...: gatehouse-play with its
# standard output on a pseudo-terminal (and its standard input too when
# STDIN_TTY is 1); everything it writes to the terminal goes to OUT. KEYS
# are typed after SECONDS (or nothing when empty).
in_pty() {
	local out=$1 tty_in=$2 secs=$3 keys=$4
	shift 4
	$PY - "$out" "$tty_in" "$secs" "$keys" "$@" <<-'EOF'
		import os, pty, subprocess, sys, time, select
		out, tty_in, secs, keys = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3]), sys.argv[4]
		m, s = pty.openpty()
		p = subprocess.Popen(sys.argv[5:], stdin=s if tty_in else subprocess.DEVNULL, stdout=s,
		                     stderr=subprocess.PIPE, close_fds=True)
		os.close(s)
		data = bytearray()
		start = time.monotonic()
		sent = False
		while True:
		    if keys and not sent and time.monotonic() - start > secs:
		        os.write(m, keys.encode())
		        sent = True
		    r, _, _ = select.select([m], [], [], 0.1)
		    if r:
		        try:
		            chunk = os.read(m, 65536)
		        except OSError:
		            break
		        if not chunk:
		            break
		        data.extend(chunk)
		    elif p.poll() is not None:
		        break
		    if time.monotonic() - start > 60:
		        p.kill()
		        sys.exit("gatehouse-play did not end")
		open(out, "wb").write(data)
		sys.exit(p.wait())
	EOF
}

P=(-d "$GH_DATA")
# Play in a terminal: drawn from the emulator's screen; q after 4 s.
in_pty "$GH_T/p-tty.bin" 1 4 q "$PLAY" "${P[@]}" "$SID1" || gh_fail "gatehouse-play in a terminal failed"
$PY "$AT" check "$GH_T/p-tty.bin" || gh_fail "gatehouse-play in a terminal: dangerous sequences"
# each cell is drawn with its attributes: the text shows once they are taken out
$PY - "$GH_T/p-tty.bin" <<-'EOF' || gh_fail "gatehouse-play in a terminal does not show the session"
	import re, sys
	text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", open(sys.argv[1], "rb").read())
	assert b"BEGIN" in text and b"RED" in text and b"POS" in text, text[-300:]
EOF
# --follow in a terminal (the live session, followed to its end)
in_pty "$GH_T/p-follow.bin" 1 3 q "$PLAY" "${P[@]}" "$SID2" --follow || gh_fail "gatehouse-play --follow failed"
$PY "$AT" check "$GH_T/p-follow.bin" || gh_fail "gatehouse-play --follow: dangerous sequences"
# The output stream to a terminal (no terminal to read keys from), and --export raw to a terminal.
in_pty "$GH_T/p-stream.bin" 0 0 '' "$PLAY" "${P[@]}" "$SID1" || gh_fail "gatehouse-play to a terminal failed"
in_pty "$GH_T/p-raw.bin" 0 0 '' "$PLAY" "${P[@]}" "$SID1" --export raw || gh_fail "--export raw to a terminal failed"
in_pty "$GH_T/p-rawf.bin" 0 0 '' "$PLAY" "${P[@]}" "$SID2" --follow --export raw ||
	gh_fail "--follow --export raw to a terminal failed"
for f in p-stream p-raw p-rawf; do
	$PY "$AT" check "$GH_T/$f.bin" || gh_fail "gatehouse-play ($f): dangerous sequences reached the terminal"
	grep -aqF $'\e[31mRED\e[0m' "$GH_T/$f.bin" || gh_fail "gatehouse-play ($f): colours lost"
	grep -aqF $'\e[5;10HPOS' "$GH_T/$f.bin" || gh_fail "gatehouse-play ($f): positioning lost"
done
# asciicast to a terminal: the same data, as plain ASCII
in_pty "$GH_T/p-cast.bin" 0 0 '' "$PLAY" "${P[@]}" "$SID1" --export asciicast || gh_fail "asciicast to a terminal failed"
$PY "$AT" check "$GH_T/p-cast.bin" text || gh_fail "asciicast to a terminal: escapes reached the terminal"
LC_ALL=C grep -aq $'[\x80-\xff]' "$GH_T/p-cast.bin" && gh_fail "asciicast to a terminal is not plain ASCII"
$PY - "$GH_T/p-cast.bin" <<-'EOF' || gh_fail "asciicast to a terminal does not hold the recorded bytes"
	import json, sys
	lines = open(sys.argv[1], "rb").read().decode().replace("\r\n", "\n").splitlines()
	out = "".join(json.loads(l)[2] for l in lines[1:] if l.strip() and json.loads(l)[1] == "o")
	assert "\x1b]52;c;UFdORUQ=\x07" in out and "\x9b6n" in out, out[:200]
EOF
# The text reports, to a terminal and to a file.
for mode in --info --print-commands --verify; do
	in_pty "$GH_T/p$mode.bin" 0 0 '' "$PLAY" "${P[@]}" "$SID1" "$mode" || gh_fail "gatehouse-play $mode failed"
	$PY "$AT" check "$GH_T/p$mode.bin" text || gh_fail "gatehouse-play $mode: escapes reached the terminal"
	"$PLAY" "${P[@]}" "$SID1" "$mode" -o "$GH_T/f$mode.txt" || gh_fail "gatehouse-play $mode -o failed"
	$PY "$AT" check "$GH_T/f$mode.txt" text || gh_fail "gatehouse-play $mode -o: escapes in the report"
done
# the command is there, its escapes visible
grep -aqF 'command printf' "$GH_T/p--info.bin" || gh_fail "--info does not show the exec command"
grep -aqF '^[]0;PWNED-CMD^G' "$GH_T/f--info.txt" || gh_fail "--info does not show the command's escapes as ^["
grep -aqF '^[]0;PWNED-CMD^G' "$GH_T/f--print-commands.txt" || gh_fail "--print-commands does not show ^["
# An export to a file is data for other players: the bytes as recorded.
"$PLAY" "${P[@]}" "$SID1" --export raw -o "$GH_T/raw.out" || gh_fail "--export raw -o failed"
grep -aqF $'\e]52;c;UFdORUQ=\a' "$GH_T/raw.out" || gh_fail "--export raw -o did not keep the recorded bytes"
# shellcheck disable=SC2059 # the operator's format, as the target's shell ran it
cmp -s "$GH_T/raw.out" <(printf "BEGIN$ATTACK$SHOW\\n${ATTACK}END\\n") ||
	gh_fail "--export raw -o differs from what the operator's command printed"
gh_expect_audit 3 type=session.info "object=session:$SID1" result=ok
gh_expect_audit 1 type=session.export "object=session:$SID1" result=ok
gh_expect_audit 2 type=session.play "object=session:$SID1" result=ok
echo "t_attack_auditor_escape: ok"
