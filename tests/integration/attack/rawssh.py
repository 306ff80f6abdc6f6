"""A raw SSH user-authentication client for attack scenarios.

paramiko is used as a toolkit, not as a client (tests/testing guide, "Raw-protocol
attacks"): Transport does the key exchange, then an AuthHandler of our own puts
every USERAUTH reply on a queue, and requests are built by hand with
paramiko.Message. That is enough to restart keyboard-interactive rounds, send
the wrong number of answers, switch user names, offer keys with bad signatures
and race many connections at one prompt -- things no well-behaved client does.

    t = RawAuth.connect(port)                 # key exchange done, ssh-userauth accepted
    t.kbdint("alice@root@web01")
    ev = t.wait()                              # ("prompts", instruction, [prompt...])
    t.answer(["Secret-pw1!"])                 # INFO_RESPONSE
    ev = t.wait()                              # ("prompts", ...) / ("failure", methods, partial) / ("success",)
    t.close()

Events: ("prompts", instruction, prompts), ("failure", [methods], partial),
("success",), ("pk_ok",), ("banner", text), ("closed",), ("timeout",).
Run with /usr/bin/python3 (Debian's paramiko 2.12).
"""
import queue
import socket
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
from paramiko.message import Message


class _Handler:
    """Stands in for paramiko's AuthHandler: every reply goes on a queue."""

    def __init__(self, q):
        self.q = q
        self.expect_pk_ok = False
        self._handler_table = {
            MSG_SERVICE_ACCEPT: _Handler._service_accept,
            MSG_USERAUTH_FAILURE: _Handler._failure,
            MSG_USERAUTH_SUCCESS: _Handler._success,
            MSG_USERAUTH_BANNER: _Handler._banner,
            MSG_USERAUTH_INFO_REQUEST: _Handler._info_request,
        }

    # paramiko's transport asks these of an auth handler
    def is_authenticated(self):
        return False

    def abort(self):
        self.q.put(("closed",))

    def _service_accept(self, m):
        self.q.put(("service_accept", m.get_text()))

    def _failure(self, m):
        self.q.put(("failure", m.get_list(), m.get_boolean()))

    def _success(self, m):
        self.q.put(("success",))

    def _banner(self, m):
        self.q.put(("banner", m.get_text()))

    def _info_request(self, m):
        # 60 is both USERAUTH_PK_OK and USERAUTH_INFO_REQUEST (RFC 4252/4256):
        # which one depends on the request it answers.
        if self.expect_pk_ok:
            self.expect_pk_ok = False
            self.q.put(("pk_ok",))
            return
        m.get_text()  # name
        instr = m.get_text()
        m.get_string()  # language
        n = m.get_int()
        prompts = []
        for _ in range(n):
            prompts.append(m.get_text())
            m.get_boolean()
        self.q.put(("prompts", instr, prompts))


class RawAuth:
    def __init__(self, transport, q, handler):
        self.t = transport
        self.q = q
        self.h = handler

    @classmethod
    def connect(cls, port, host="127.0.0.1", source=None, timeout=15):
        sock = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
        t = paramiko.Transport(sock)
        t.start_client(timeout=timeout)
        q = queue.Queue()
        h = _Handler(q)
        t.auth_handler = h
        m = Message()
        m.add_byte(cMSG_SERVICE_REQUEST)
        m.add_string("ssh-userauth")
        t._send_message(m)
        self = cls(t, q, h)
        ev = self.wait(timeout)
        if ev[0] != "service_accept":
            raise RuntimeError("no service accept: %r" % (ev,))
        return self

    def wait(self, timeout=15):
        """The next reply; ("closed",) once the transport is gone."""
        end = time.monotonic() + timeout
        while True:
            try:
                ev = self.q.get(timeout=0.1)
            except queue.Empty:
                if not self.t.is_active():
                    return ("closed",)
                if time.monotonic() >= end:
                    return ("timeout",)
                continue
            if ev[0] == "banner":
                continue
            return ev

    def _request(self, user, method):
        m = Message()
        m.add_byte(cMSG_USERAUTH_REQUEST)
        m.add_string(user)
        m.add_string("ssh-connection")
        m.add_string(method)
        return m

    def none(self, user):
        self.t._send_message(self._request(user, "none"))

    def kbdint(self, user):
        m = self._request(user, "keyboard-interactive")
        m.add_string("")  # language
        m.add_string("")  # submethods
        self.t._send_message(m)

    def answer(self, answers):
        m = Message()
        m.add_byte(cMSG_USERAUTH_INFO_RESPONSE)
        m.add_int(len(answers))
        for a in answers:
            m.add_string(a)
        self.t._send_message(m)

    def password(self, user, pw):
        m = self._request(user, "password")
        m.add_boolean(False)
        m.add_string(pw)
        self.t._send_message(m)

    def pubkey(self, user, key, sign=True, bad_signature=False, algo=None):
        """A publickey request: a bare offer (sign=False), a signed one, or
        one whose signature is made over the wrong data (bad_signature)."""
        algo = algo or key.get_name()
        m = self._request(user, "publickey")
        m.add_boolean(sign)
        m.add_string(algo)
        m.add_string(key.asbytes())
        if sign:
            blob = Message()
            blob.add_string(self.t.session_id)
            blob.add_byte(cMSG_USERAUTH_REQUEST)
            blob.add_string(user)
            blob.add_string("ssh-connection")
            blob.add_string("publickey")
            blob.add_boolean(True)
            blob.add_string(algo)
            blob.add_string(key.asbytes())
            data = blob.asbytes()
            if bad_signature:
                data = b"not the session " + data
            sig = key.sign_ssh_data(data, algo) if algo != key.get_name() else key.sign_ssh_data(data)
            m.add_string(sig)
        else:
            self.h.expect_pk_ok = True
        self.t._send_message(m)

    def login(self, user, password, code, new_password=None):
        """A whole keyboard-interactive login answering each prompt as a
        person would; returns the final event."""
        self.kbdint(user)
        while True:
            ev = self.wait()
            if ev[0] != "prompts":
                return ev
            ans = []
            for p in ev[2]:
                pl = p.lower()
                if "new password" in pl:
                    ans.append(new_password or "")
                elif "code" in pl:
                    ans.append(code() if callable(code) else code)
                else:
                    ans.append(password)
            self.answer(ans)

    def open_session_ok(self, timeout=5):
        try:
            ch = self.t.open_session(timeout=timeout)
            ch.close()
            return True
        except Exception:
            return False

    def close(self):
        try:
            self.t.close()
        except Exception:
            pass
