"""An auditor's terminal, as bytes: log in to the role shell with paramiko
(keyboard-interactive: password, then the TOTP code), and keep every byte
the bastion sends, exactly as a terminal would receive it.

Used by t_attack_auditor_escape.sh:

  auditor_term.py PORT USER PASSWORD TOTP_SECRET HOSTKEY_B64 OUTDIR ACTION...

ACTION is one of
  play:SID      in a pty shell, "play SID"; once BEGIN is on the screen the
                "terminal" sends what a terminal answers to queries (stale
                answers: a DECRQSS answer holding a 'q', DA, a cursor
                report), then waits for the end. Writes OUTDIR/play-SID.bin.
  watch:SID     the same with "watch SID --from start" (watch-SID.bin).
  exec:NAME:CMD an exec channel running CMD; stdout then stderr to
                OUTDIR/exec-NAME.bin.
Every wait is bounded; the exit status is 1 when one is exceeded.

  auditor_term.py check FILE [text]

lists what in FILE a terminal would act on beyond positioning and colour
(string controls, queries, input modes, C1, BEL) and the attack's payload
words (titles, clipboard, link target); with "text", any ESC at all (the
words may show there, as text). Exit status 1 when something is found.
"""
import os
import re
import socket
import subprocess
import sys
import time

import paramiko

# What a terminal sends back when asked: DECRQSS for the cursor style
# (its answer ends in " q"), DA, a cursor position report.
STALE_ANSWERS = b"\x1bP1$r2 q\x1b\\" + b"\x1b[?64;1;2c" + b"\x1b[12;40R"
PROMPT = b"gatehouse("


def login(port, user, password, secret, hostkey_b64):
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    t = paramiko.Transport(sock)
    t.start_client(timeout=20)
    if t.get_remote_server_key().get_base64() != hostkey_b64:
        raise SystemExit("auditor_term: the bastion's host key differs")

    def answer(title, instructions, prompts):
        out = []
        for text, _echo in prompts:
            if "Password" in text:
                out.append(password)
            elif "Verification code" in text:
                out.append(subprocess.check_output(["oathtool", "--totp", "-b", secret], text=True).strip())
            else:
                raise SystemExit("auditor_term: unexpected prompt %r" % text)
        return out

    t.auth_interactive(user, answer)
    if not t.is_authenticated():
        raise SystemExit("auditor_term: login failed")
    return t


def read_until(chan, buf, needles, limit, start=0):
    """Read into buf until one of needles is in buf[start:]."""
    deadline = time.monotonic() + limit
    while not any(n in buf[start:] for n in needles):
        if time.monotonic() > deadline:
            raise TimeoutError("waiting for %r; have %r" % (needles, bytes(buf[-400:])))
        if chan.recv_ready():
            buf.extend(chan.recv(65536))
        elif chan.exit_status_ready() or chan.closed:
            raise EOFError("channel closed while waiting for %r; have %r" % (needles, bytes(buf[-400:])))
        else:
            time.sleep(0.02)


def stream(chan, command, begin, ends):
    """Run a streaming command at the prompt; answer like a terminal once
    begin shows; return what came until the next prompt after an end."""
    buf = bytearray()
    chan.send(command.encode() + b"\r")
    read_until(chan, buf, [begin], 60)
    chan.send(STALE_ANSWERS)
    read_until(chan, buf, ends, 60)
    end_at = min(buf.find(e) for e in ends if e in buf)
    read_until(chan, buf, [PROMPT], 20, end_at)
    return bytes(buf)


def run_exec(t, cmd):
    chan = t.open_session()
    chan.exec_command(cmd)
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + 60
    while not (chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready()):
        if time.monotonic() > deadline:
            raise TimeoutError("exec %r" % cmd)
        if chan.recv_ready():
            out.extend(chan.recv(65536))
        elif chan.recv_stderr_ready():
            err.extend(chan.recv_stderr(65536))
        else:
            time.sleep(0.02)
    chan.close()
    return bytes(out) + bytes(err)


# DEC private modes that only change the display (recorder/vtsan.c).
DISPLAY_MODES = {b"6", b"7", b"25", b"47", b"1047", b"1049"}


def dangerous(data, text):
    bad = []
    if text and b"\x1b" in data:
        bad.append("ESC in text output at %d" % data.find(b"\x1b"))
    for m in re.finditer(rb"\xc2[\x80-\x9f]", data):
        bad.append("C1 control %r" % m.group(0))
    for c in (b"\x07", b"\x05"):
        if c in data:
            bad.append("control %r" % c)
    for m in re.finditer(rb"\x1b[\]P_^X]", data):
        bad.append("control string %r" % data[m.start():m.start() + 20])
    for m in re.finditer(rb"\x1b[=>Zc%# ]", data):
        bad.append("escape %r" % m.group(0))
    for m in re.finditer(rb"\x1b\[([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])", data):
        params, inter, final = m.groups()
        seq = m.group(0)
        if inter or final in b"nctpqxyiu" and seq != b"\x1b[u" or params[:1] in (b">", b"=", b"<"):
            bad.append("sequence %r" % seq)
        elif final in b"hl":
            modes = params[1:] if params[:1] == b"?" else params
            allowed = DISPLAY_MODES if params[:1] == b"?" else {b"4"}
            if any(p not in allowed for p in modes.split(b";")):
                bad.append("mode %r" % seq)
    # On a screen, the title, clipboard and link targets must not show at
    # all; text (a command listed) shows them, as visible text.
    for word in () if text else (b"PWNED", b"UFdORUQ", b"evil.example"):
        if word in data:
            bad.append("payload %r" % word)
    return bad


def check(path, text):
    data = open(path, "rb").read()
    bad = dangerous(data, text)
    for b in bad:
        print("%s: %s" % (path, b), file=sys.stderr)
    return 1 if bad else 0


def main():
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "text"))
    port, user, password, secret, hostkey, outdir = sys.argv[1:7]
    t = login(int(port), user, password, secret, hostkey)
    shell = None
    for action in sys.argv[7:]:
        kind, rest = action.split(":", 1)
        if kind in ("play", "watch"):
            if shell is None:
                shell = t.open_session()
                shell.get_pty(term="xterm", width=100, height=30)
                shell.invoke_shell()
                read_until(shell, bytearray(), [PROMPT], 30)
            if kind == "play":
                data = stream(shell, "play %s" % rest, b"BEGIN", [b"[end of the recording]", b"[stopped]"])
            else:
                data = stream(shell, "watch %s --from start" % rest, b"BEGIN",
                              [b"[the session ended]", b"[left the session"])
            name = "%s-%s.bin" % (kind, rest)
        else:
            name, cmd = rest.split(":", 1)
            data = run_exec(t, cmd)
            name = "exec-%s.bin" % name
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    if shell is not None:
        shell.send(b"exit\r")
        shell.close()
    t.close()


if __name__ == "__main__":
    try:
        main()
    except (TimeoutError, EOFError) as e:
        print("auditor_term: %s" % e, file=sys.stderr)
        sys.exit(1)
