#!/usr/bin/python3
"""Stalled pre-authentication connections, for the pre-auth limit tests.

stall.py PORT COUNT FIRST LAST STATUS [--silent] [--count-closed]

Opens COUNT TCP connections to 127.0.0.1:PORT, bound round-robin to the
loopback sources 127.0.0.FIRST .. 127.0.0.LAST (all of 127/8 is loopback on
Linux, so per-source limits do not mask the global one). Each sends an SSH
banner line (or nothing with --silent) and then stays silent. A connection is
"held" when the server sent its own banner, "refused" when it was closed
without one. Writes "held H refused R" to STATUS once all are open (with
--count-closed: "held H refused R closed C", where C were held but closed
by the server before all were open, evicted for a newer connection or at
the grace time, and H counts those still open), then
waits (at most 120 s) until the server has closed every held connection and
prints one line: "held H refused R closed C min_life S max_life S" (the
lifetimes in seconds, from connect to the server's close).
"""
import os
import selectors
import socket
import sys
import time


def server_closed(s):
    """Whether the server closed s (what it sent meanwhile is dropped)."""
    s.setblocking(False)
    try:
        while True:
            if s.recv(65536) == b"":
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def main():
    port, count, first, last = (int(a) for a in sys.argv[1:5])
    status = sys.argv[5]
    silent = "--silent" in sys.argv[6:]
    count_closed = "--count-closed" in sys.argv[6:]
    held, refused = [], 0
    sources = ["127.0.0.%d" % i for i in range(first, last + 1)]
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[i % len(sources)], 0))
        s.settimeout(10)
        t0 = time.monotonic()
        try:
            s.connect(("127.0.0.1", port))
            if not silent:
                s.sendall(b"SSH-2.0-stall_0.1\r\n")
            data = b"" if silent else s.recv(256)
        except OSError:
            refused += 1
            s.close()
            continue
        if silent:
            held.append((s, t0))
        elif data.startswith(b"SSH-"):
            held.append((s, t0))
        else:
            refused += 1
            s.close()
    closed_early = ""
    if count_closed:
        time.sleep(0.5)  # an eviction of the last ones takes effect
        still = [(s, t0) for s, t0 in held if not server_closed(s)]
        closed_early = " closed %d" % (len(held) - len(still))
        held = still
    with open(status + ".tmp", "w") as f:
        f.write("held %d refused %d%s\n" % (len(held), refused, closed_early))
    os.rename(status + ".tmp", status)
    sel = selectors.DefaultSelector()
    for s, t0 in held:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, t0)
    lives = []
    deadline = time.monotonic() + 120
    while len(lives) < len(held) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if data == b"":
                lives.append(time.monotonic() - key.data)
                sel.unregister(key.fileobj)
                key.fileobj.close()
    print("held %d refused %d closed %d min_life %.1f max_life %.1f" %
          (len(held), refused, len(lives), min(lives, default=0), max(lives, default=0)))


if __name__ == "__main__":
    main()
