#!/usr/bin/python3
"""Password-hash flood: make the bastion hash passwords as fast as it answers.

hashflood.py PORT USER SECONDS OUT SOURCES [--conns N]

SOURCES is a comma-separated list of loopback addresses (127/8); from each,
N connections (default 1) run in parallel for SECONDS. Each connection
drives keyboard-interactive by hand (paramiko's Transport as a toolkit, not
as a client): request a round, answer "Password:" with a wrong password,
and as soon as the server answers (the next prompt or a failure: the hash
is done by then) start a new round, without ever answering the
verification code. A connection the server ends is replaced. USER should be
unknown to the bastion (the dummy hash: no account locks).

OUT gets one JSON object: per source the number of answered password checks
("hashes") and the times (seconds from the start) of each, plus totals.
"""
import json
import os
import queue
import socket
import sys
import threading
import time

import paramiko
from paramiko.common import (
    MSG_SERVICE_ACCEPT,
    MSG_USERAUTH_BANNER,
    MSG_USERAUTH_FAILURE,
    MSG_USERAUTH_INFO_REQUEST,
    MSG_USERAUTH_SUCCESS,
    cMSG_SERVICE_REQUEST,
    cMSG_USERAUTH_INFO_RESPONSE,
    cMSG_USERAUTH_REQUEST,
)


class Catcher:
    """Stands in for paramiko's auth handler: every userauth reply goes to a queue."""

    def __init__(self):
        self.q = queue.Queue()
        # paramiko calls handler(auth_handler, message) for these types.
        self._handler_table = {}
        for ptype in (MSG_SERVICE_ACCEPT, MSG_USERAUTH_BANNER, MSG_USERAUTH_FAILURE, MSG_USERAUTH_INFO_REQUEST,
                      MSG_USERAUTH_SUCCESS):
            self._handler_table[ptype] = self._queue_as(ptype)

    def _queue_as(self, ptype):
        return lambda handler, m: self.q.put((ptype, m))

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply")
            ptype, m = self.q.get(timeout=left)
            if ptype != MSG_USERAUTH_BANNER:
                return ptype, m


def info_prompts(m):
    m.get_text()  # name
    m.get_text()  # instruction
    m.get_string()  # language
    return [(m.get_text(), m.get_boolean()) for _ in range(m.get_int())]


class Flood:
    def __init__(self, port, user, seconds):
        self.port, self.user = port, user
        self.t0 = time.monotonic()
        self.deadline = self.t0 + seconds
        self.lock = threading.Lock()
        self.hashes = {}
        self.connections = 0

    def record(self, src):
        with self.lock:
            self.hashes.setdefault(src, []).append(round(time.monotonic() - self.t0, 3))

    def round_trip(self, t, c, src):
        """One round: request, answer the password prompt, wait for the verdict."""
        m = paramiko.Message()
        m.add_byte(cMSG_USERAUTH_REQUEST)
        m.add_string(self.user)
        m.add_string("ssh-connection")
        m.add_string("keyboard-interactive")
        m.add_string("")
        m.add_string("")
        t._send_message(m)
        ptype, reply = c.wait(60)
        if ptype != MSG_USERAUTH_INFO_REQUEST:
            return  # a failure for the round abandoned before: ask again
        prompts = info_prompts(reply)
        if not prompts or "Password" not in prompts[0][0]:
            return
        m = paramiko.Message()
        m.add_byte(cMSG_USERAUTH_INFO_RESPONSE)
        m.add_int(len(prompts))
        for _ in prompts:
            m.add_string("Wrong-guess-1!")
        t._send_message(m)
        ptype, reply = c.wait(120)
        if ptype in (MSG_USERAUTH_INFO_REQUEST, MSG_USERAUTH_FAILURE) and time.monotonic() < self.deadline:
            self.record(src)

    def worker(self, src):
        while time.monotonic() < self.deadline:
            s = socket.socket()
            t = None
            try:
                s.bind((src, 0))
                s.settimeout(20)
                s.connect(("127.0.0.1", self.port))
                t = paramiko.Transport(s)
                t.start_client(timeout=20)
                with self.lock:
                    self.connections += 1
                c = Catcher()
                t.auth_handler = c
                m = paramiko.Message()
                m.add_byte(cMSG_SERVICE_REQUEST)
                m.add_string("ssh-userauth")
                t._send_message(m)
                if c.wait(20)[0] != MSG_SERVICE_ACCEPT:
                    raise OSError("no service accept")
                while time.monotonic() < self.deadline and t.is_active():
                    self.round_trip(t, c, src)
            except (OSError, EOFError, queue.Empty, TimeoutError, paramiko.SSHException):
                time.sleep(0.2)
            finally:
                if t is not None:
                    t.close()
                s.close()


def main():
    port, user, seconds, out = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
    sources = sys.argv[5].split(",")
    conns = int(sys.argv[sys.argv.index("--conns") + 1]) if "--conns" in sys.argv else 1
    flood = Flood(port, user, seconds)
    threads = [threading.Thread(target=flood.worker, args=(src,), daemon=True) for src in sources
               for _ in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=seconds + 150)
    per = {src: {"hashes": len(flood.hashes.get(src, [])), "times": flood.hashes.get(src, [])} for src in sources}
    result = {"seconds": seconds, "connections": flood.connections, "sources": per,
              "total": sum(v["hashes"] for v in per.values())}
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
