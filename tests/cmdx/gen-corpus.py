#!/usr/bin/python3
"""Generate the command-extractor corpus from a real interactive bash.

Each case runs `bash --norc --noprofile -i` in a pty (pexpect), types keys with
human-like pauses, and records both directions with timestamps into
tests/cmdx/corpus/NAME.jsonl:

  line 1: {"name", "cols", "rows", "ps1", "expect": [{"cmd", "agree"}...],
           "fullscreen": N}
  then:   {"t": microseconds, "d": "i"|"o", "x": hex bytes}

"i" is operator input (keys sent to the shell), "o" is the shell's output.
"expect" is what the extractor must report, in order: the command text and
whether the typed keys alone reproduce it (false when tab completion, history
or search produced part of the line). Run from the repository root:

  /usr/bin/python3 tests/cmdx/gen-corpus.py [CASE...]
  /usr/bin/python3 tests/cmdx/gen-corpus.py --fuzz-seeds

The second form turns the recorded cases into seeds for the libFuzzer target
tests/fuzz/fuzz_cmdextract.c (its record format: one byte, 0x00-0x30 output
of that many bytes, 0x80-0xb0 input; the bytes follow).
"""
import json
import os
import shutil
import sys
import tempfile
import time

import pexpect

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
PS1_PLAIN = r"u@h:\w\$ "
PS1_COLOR = r"\[\e[1;32m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ "
PS1_TWO_LINE = r"[\u@\h \W]\n\$ "
UP, DOWN, LEFT, RIGHT = b"\x1b[A", b"\x1b[B", b"\x1b[D", b"\x1b[C"
HOME, END, DEL = b"\x1b[H", b"\x1b[F", b"\x1b[3~"
PASTE_ON, PASTE_OFF = b"\x1b[200~", b"\x1b[201~"


class Session:
    def __init__(self, ps1, cols=80, rows=24):
        self.dir = tempfile.mkdtemp(prefix="cmdx-")
        for n in ("alpha_report.txt", "beta1.log", "beta2.log"):
            with open(os.path.join(self.dir, n), "w") as f:
                f.write("line one\nline two\n")
        env = {"TERM": "xterm-256color", "HOME": self.dir, "PS1": ps1, "LANG": "C.UTF-8",
               "PATH": "/usr/bin:/bin", "HISTFILE": "/dev/null", "USER": "u"}
        self.cols, self.rows = cols, rows
        self.t0 = time.monotonic()
        self.events = []
        self.p = pexpect.spawn("/bin/bash", ["--norc", "--noprofile", "-i"], env=env,
                               dimensions=(rows, cols), cwd=self.dir)
        self.pump(0.6)

    def now(self):
        return int((time.monotonic() - self.t0) * 1e6)

    def pump(self, quiet=0.15, limit=10.0):
        """Read output until the shell has been quiet for `quiet` seconds."""
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            try:
                b = self.p.read_nonblocking(65536, 0.02)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                break
            if b:
                self.events.append((self.now(), "o", b))
                last = time.monotonic()

    def key(self, b, quiet=0.05):
        self.events.append((self.now(), "i", b))
        self.p.send(b)
        self.pump(quiet)

    def type(self, s, quiet=0.03):
        for ch in s:
            self.key(ch.encode(), quiet)

    def enter(self, quiet=0.3):
        self.key(b"\r", quiet)

    def run(self, s):
        self.type(s)
        self.enter()

    def close(self):
        self.p.terminate(force=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def c(cmd, agree=True):
    return {"cmd": cmd, "agree": agree}


def case_plain(s):
    s.run("echo hello")
    s.run("ls -a > /dev/null")
    s.run("pwd")
    s.run("true && echo ok; false || echo no")
    return [c("echo hello"), c("ls -a > /dev/null"), c("pwd"), c("true && echo ok; false || echo no")]


def case_color_prompt(s):
    s.run("echo colored")
    s.run("cd /tmp")
    s.run("pwd")
    return [c("echo colored"), c("cd /tmp"), c("pwd")]


def case_two_line_prompt(s):
    s.run("echo first")
    s.run("echo second")
    return [c("echo first"), c("echo second")]


def case_tab_command(s):
    s.type("ech")
    s.key(b"\t", 0.2)
    s.type("hi")
    s.enter()
    return [c("echo hi", False)]


def case_tab_file(s):
    s.type("cat alp")
    s.key(b"\t", 0.2)
    s.enter()
    s.type("ls bet")
    s.key(b"\t", 0.2)
    s.key(b"\t", 0.3)  # second tab lists beta1.log beta2.log and redraws the line
    s.type("2")
    s.key(b"\t", 0.2)
    s.enter()
    return [c("cat alpha_report.txt", False), c("ls beta2.log", False)]


def case_history(s):
    s.run("echo one")
    s.run("echo two")
    s.key(UP, 0.1)
    s.key(UP, 0.1)
    s.enter()
    s.key(UP, 0.1)
    s.type(" more")
    s.enter()
    s.key(UP, 0.1)
    s.key(UP, 0.1)
    s.key(DOWN, 0.1)
    for _ in range(4):
        s.key(b"\x7f")
    s.type("less")
    s.enter()
    return [c("echo one"), c("echo two"), c("echo one", False), c("echo one more", False),
            c("echo one less", False)]


def case_ctrl_r(s):
    s.run("echo findme 42")
    s.run("true")
    s.key(b"\x12", 0.1)
    s.type("findm")
    s.enter()
    s.key(b"\x12", 0.1)
    s.type("findm")
    s.key(b"\x05", 0.1)  # Ctrl-E ends the search and keeps the line for editing
    s.type(" extra")
    s.enter()
    return [c("echo findme 42"), c("true"), c("echo findme 42", False), c("echo findme 42 extra", False)]


def case_editing(s):
    s.type("echo wrld")
    for _ in range(3):
        s.key(LEFT)
    s.type("o")
    s.enter()
    s.type("echo xhello")
    s.key(HOME)
    for _ in range(5):
        s.key(RIGHT)
    s.key(DEL)
    s.enter()
    s.type("echo keep drop")
    for _ in range(4):
        s.key(LEFT)
    s.key(b"\x0b")  # Ctrl-K kills to the end of the line
    s.key(END)
    s.type("it")
    s.enter()
    s.type("cho abc")
    s.key(b"\x01")  # Ctrl-A, then insert at the start
    s.type("e")
    s.key(b"\x0c", 0.2)  # Ctrl-L clears the screen and redraws the line
    s.enter()
    return [c("echo world"), c("echo hello"), c("echo keep it"), c("echo abc")]


def case_kill(s):
    s.type("rm -rf /tmp/nothing-here")
    s.key(b"\x15")  # Ctrl-U
    s.type("echo safe")
    s.enter()
    s.type("echo a b c")
    s.key(b"\x17")  # Ctrl-W twice
    s.key(b"\x17")
    s.type("d")
    s.enter()
    s.type("echo never run")
    s.key(b"\x03", 0.3)  # Ctrl-C abandons the line
    s.run("echo after")
    return [c("echo safe"), c("echo a d"), c("echo after")]


def case_paste(s):
    s.key(PASTE_ON + b"echo pasted text" + PASTE_OFF, 0.2)
    s.enter()
    s.key(PASTE_ON + b"echo p1\necho p2\n" + PASTE_OFF, 0.3)
    s.enter(0.5)
    # A terminal without bracketed paste sends the lines with their Enters
    # in one write, before the shell echoed anything.
    s.key(b"echo q1\recho q2\r", 0.5)
    return [c("echo pasted text"), c("echo p1\necho p2"), c("echo q1"), c("echo q2")]


def case_continuation(s):
    s.type("echo first \\")
    s.enter()
    s.type("second")
    s.enter()
    s.type("echo 'a")
    s.enter()
    s.type("b'")
    s.enter()
    return [c("echo first second"), c("echo 'a\nb'")]


def case_password(s):
    s.run("read -s -p 'Password: ' x")
    s.type("s3cr3t-pw", 0.03)
    s.enter()
    s.run("echo done")
    return [c("read -s -p 'Password: ' x"), c("echo done")]


def case_vim(s):
    s.run("vim -u NONE -N notes.txt")
    s.pump(0.5)
    s.type("ihello")
    s.key(b"\x1b", 0.1)
    s.type(":wq")
    s.enter(0.6)
    s.run("less notes.txt")
    s.pump(0.3)
    s.key(b"q", 0.4)
    s.run("echo back")
    return [c("vim -u NONE -N notes.txt"), c("less notes.txt"), c("echo back")]


def case_long_wrap(s):
    long1 = "echo " + "abcdefghij" * 12
    s.run(long1)
    exact = "echo " + "x" * (80 - len("u@h:~# ") - len("echo "))  # fills the row exactly
    s.run(exact)
    s.type("echo " + "y" * 90)
    for _ in range(10):
        s.key(b"\x7f")
    s.enter()
    return [c(long1), c(exact), c("echo " + "y" * 80)]


def case_utf8(s):
    s.run("echo héllo 日本")
    s.type("echo ñandú 中文x")
    s.key(b"\x7f")
    s.enter()
    return [c("echo héllo 日本"), c("echo ñandú 中文")]


def case_burst(s):
    s.type("seq 1 30000")
    s.enter(0.6)
    s.run("echo after burst")
    return [c("seq 1 30000"), c("echo after burst")]


def case_typeahead(s):
    s.type("sleep 1")
    s.enter(0.1)
    # typed while sleep runs: the terminal echoes it, bash reads it later
    s.type("echo typed ahead")
    s.enter(1.5)
    s.run("echo last")
    return [c("sleep 1"), c("echo typed ahead"), c("echo last")]


def case_narrow(s):
    long1 = "echo " + " ".join("w%02d" % i for i in range(30))
    s.run(long1)
    s.key(UP, 0.2)  # recall the wrapped command and edit its end
    s.key(b"\x7f")
    s.key(b"\x7f")
    s.type("99")
    s.enter()
    s.run("clear")
    s.run("echo top")
    return [c(long1), c(long1[:-2] + "99", False), c("clear"), c("echo top")]


CASES = [
    ("plain", PS1_PLAIN, case_plain),
    ("color_prompt", PS1_COLOR, case_color_prompt),
    ("two_line_prompt", PS1_TWO_LINE, case_two_line_prompt),
    ("tab_command", PS1_PLAIN, case_tab_command),
    ("tab_file", PS1_COLOR, case_tab_file),
    ("history", PS1_PLAIN, case_history),
    ("ctrl_r", PS1_PLAIN, case_ctrl_r),
    ("editing", PS1_COLOR, case_editing),
    ("kill", PS1_PLAIN, case_kill),
    ("paste", PS1_PLAIN, case_paste),
    ("continuation", PS1_PLAIN, case_continuation),
    ("password", PS1_PLAIN, case_password),
    ("vim_less", PS1_PLAIN, case_vim),
    ("long_wrap", PS1_PLAIN, case_long_wrap),
    ("utf8", PS1_COLOR, case_utf8),
    ("burst", PS1_PLAIN, case_burst),
    ("typeahead", PS1_PLAIN, case_typeahead),
    ("narrow", PS1_COLOR, case_narrow, 40, 12),
]


def fuzz_seeds():
    seeds = os.path.join(os.path.dirname(OUT), "..", "fuzz", "corpus", "fuzz_cmdextract")
    os.makedirs(seeds, exist_ok=True)
    for fn in sorted(os.listdir(OUT)):
        if not fn.endswith(".jsonl"):
            continue
        data = bytearray()
        with open(os.path.join(OUT, fn)) as f:
            next(f)
            for line in f:
                ev = json.loads(line)
                b = bytes.fromhex(ev["x"])
                for i in range(0, len(b), 48):
                    piece = b[i:i + 48]
                    data.append((0x80 if ev["d"] == "i" else 0x00) | len(piece))
                    data += piece
                if len(data) > 64 * 1024:
                    break
        with open(os.path.join(seeds, "seed-" + fn[:-6]), "wb") as f:
            f.write(data)


def main():
    if sys.argv[1:] == ["--fuzz-seeds"]:
        fuzz_seeds()
        return
    want = set(sys.argv[1:])
    os.makedirs(OUT, exist_ok=True)
    for name, ps1, fn, *size in CASES:
        if want and name not in want:
            continue
        s = Session(ps1, *size)
        try:
            expect = fn(s)
            s.pump(0.3)
        finally:
            s.close()
        fullscreen = 2 if name == "vim_less" else 0
        with open(os.path.join(OUT, name + ".jsonl"), "w") as f:
            f.write(json.dumps({"name": name, "cols": s.cols, "rows": s.rows, "ps1": ps1,
                                "expect": expect, "fullscreen": fullscreen}, ensure_ascii=False) + "\n")
            for t, d, b in s.events:
                f.write(json.dumps({"t": t, "d": d, "x": b.hex()}) + "\n")
        print("%-16s %3d events, %d commands" % (name, len(s.events), len(expect)))


if __name__ == "__main__":
    main()
