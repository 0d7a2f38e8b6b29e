"""The POP3 service (RFC 1939, CAPA/RFC 2449, AUTH PLAIN/RFC 5034, STLS/RFC
2595, POP3S) and the POP-before-SMTP grant a login makes, as clients see
them: Python's poplib, curl, fetchmail, openssl s_client and a byte-level
client for exact bytes, pipelining and edge cases."""
import base64
import hashlib
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from datetime import datetime, timezone

import pytest

from conftest import message_files, wait_for

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
BOB, BOB_PW = "bob@acme.test", "bob-secret"
CERT_NAME = "mx.test.example"

def tls_ctx(hm):
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    return ctx


class POP3From(poplib.POP3):
    """poplib.POP3 connecting from a chosen local address."""

    def __init__(self, host, port, source=None, timeout=10):
        self._source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        src = (self._source, 0) if self._source else None
        return socket.create_connection((self.host, self.port), timeout, source_address=src)


def pop_login(hm, user=ALICE, password=ALICE_PW, source=None):
    """A poplib session over STLS, logged in."""
    p = POP3From("127.0.0.1", hm.pop3_port, source=source)
    p.stls(tls_ctx(hm))
    p.user(user)
    p.pass_(password)
    return p


def pop3s_login(hm, user=ALICE, password=ALICE_PW):
    p = poplib.POP3_SSL("127.0.0.1", hm.pop3s_port, context=tls_ctx(hm), timeout=10)
    p.user(user)
    p.pass_(password)
    return p


class RawPOP:
    """A byte-level POP3 client (optionally over TLS or from a chosen source)."""

    def __init__(self, hm, port=None, tls=False, source=None, timeout=10):
        self.hm = hm
        src = (source, 0) if source else None
        s = socket.create_connection(("127.0.0.1", port or hm.pop3_port), timeout=timeout,
                                     source_address=src)
        if tls:
            s = tls_ctx(hm).wrap_socket(s, server_hostname=CERT_NAME)
        self.sock = s
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; partial {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.line()

    def until_dot(self):
        """The raw bytes of a multi-line body, through the final CRLF.CRLF."""
        while True:
            if self.buf.startswith(b".\r\n"):
                data, self.buf = b".\r\n", self.buf[3:]
                return data
            i = self.buf.find(b"\r\n.\r\n")
            if i >= 0:
                data, self.buf = self.buf[:i + 5], self.buf[i + 5:]
                return data
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed inside a multi-line reply")
            self.buf += chunk

    def lines(self):
        data = self.until_dot()
        return data[:-3].decode().split("\r\n")[:-1] if data != b".\r\n" else []

    def stls(self):
        r = self.cmd("STLS")
        assert r.startswith("+OK"), r
        assert self.buf == b""
        self.sock = tls_ctx(self.hm).wrap_socket(self.sock, server_hostname=CERT_NAME)

    def login(self, user=ALICE, password=ALICE_PW):
        assert self.cmd("USER " + user).startswith("+OK")
        r = self.cmd("PASS " + password)
        assert r.startswith("+OK"), r
        return r

    def closed(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False
        return data == b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def greeted(hm, **kw):
    c = RawPOP(hm, **kw)
    g = c.line()
    assert g.startswith("+OK"), g
    return c


# Test mail comes from its own address: a POP3 login from 127.0.0.1 authorizes
# 127.0.0.1 to relay, and then the SMTP server checks its senders' affiliation.
MX_CLIENT = "127.0.0.20"


def deliver(hm, to=ALICE, subject="test", body="Hello.\r\n", n_expected=None):
    msg = (f"From: Sender <sender@example.org>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
           f"Message-Id: <{subject.replace(' ', '.')}.{time.time()}@example.org>\r\n\r\n{body}")
    before = len(hm.messages(to))
    with smtplib.SMTP("127.0.0.1", hm.smtp_port, local_hostname="client.test", timeout=10,
                      source_address=(MX_CLIENT, 0)) as s:
        s.sendmail("sender@example.org", [to], msg.encode())
    got = hm.wait_messages(to, n_expected or before + 1)
    assert len(got) >= (n_expected or before + 1)
    return msg.encode()


def drop(hm, address, name, content, sub="new"):
    """Put a message file straight into the Maildir (as another delivery agent would)."""
    d = os.path.join(hm.maildir(address), sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(content)


def crlf_size(content):
    return len(content) + content.count(b"\n")


def wname(i, content, host="drop"):
    return f"{1600000000 + i}.M{i % 1000000}P1Q{i}.{host},S={len(content)},W={crlf_size(content)}"


def expected_wire(stored):
    """What RETR sends for a stored (LF) message: CRLF, dot-stuffed, terminated."""
    out = []
    lines = stored.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for l in lines:
        out.append((b"." + l) if l.startswith(b".") else l)
    return b"".join(l + b"\r\n" for l in out) + b".\r\n"


def relay_rows(hm):
    r = hm.ctl("relay", "list")
    return [l.split() for l in r.stdout.splitlines() if l.strip()]


# --- greeting, CAPA, TLS and the clear-text rule ------------------------------

def test_greeting_and_capa_before_and_after_stls(server):
    c = greeted(server)
    assert c.cmd("CAPA").startswith("+OK")
    caps = c.lines()
    for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
        assert cap in caps, caps
    # no password mechanisms offered in the clear
    assert "USER" not in caps and not any(x.startswith("SASL") for x in caps)
    c.stls()
    assert c.cmd("CAPA").startswith("+OK")
    caps = c.lines()
    assert "USER" in caps and "SASL PLAIN" in caps and "STLS" not in caps, caps
    assert c.cmd("STLS").startswith("-ERR")   # TLS already active
    c.close()


def test_cleartext_login_refused(server):
    c = greeted(server)
    r = c.cmd(f"USER {ALICE}")
    assert r.startswith("-ERR") and "STLS" in r, r
    assert c.cmd(f"PASS {ALICE_PW}").startswith("-ERR")
    auth = base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode()
    r = c.cmd(f"AUTH PLAIN {auth}")
    assert r.startswith("-ERR") and "STLS" in r, r
    assert c.cmd("STAT").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")
    assert c.closed()
    # nothing was granted by the refused attempts
    assert relay_rows(server) == []


def test_cleartext_login_when_allowed(make_server):
    hm = make_server("[pop3]\nallow_plaintext_auth = yes\n")
    c = greeted(hm)
    assert c.cmd("CAPA").startswith("+OK")
    assert "USER" in c.lines()
    c.login()
    assert c.cmd("STAT") == "+OK 0 0"
    assert c.cmd("QUIT").startswith("+OK")


def test_stls_discards_pipelined_plaintext(server):
    c = greeted(server)
    # "USER" injected behind STLS must not survive into the TLS session
    c.send(f"STLS\r\nUSER {ALICE}\r\n")
    assert c.line().startswith("+OK")
    c.buf = b""
    c.sock = tls_ctx(server).wrap_socket(c.sock, server_hostname=CERT_NAME)
    r = c.cmd(f"PASS {ALICE_PW}")
    assert r.startswith("-ERR") and "USER" in r, r
    assert "discarding" in server.logtext()
    c.close()


def test_pop3s_implicit_tls(server):
    deliver(server)
    p = pop3s_login(server)
    assert p.stat()[0] == 1
    resp, lines, _ = p.retr(1)
    assert b"Hello." in lines
    p.quit()


def test_poplib_stls_every_command(server):
    deliver(server, subject="one", body="first body\r\n")
    deliver(server, subject="two", body="second body\r\nline 2\r\nline 3\r\n")
    p = pop_login(server)
    n, size = p.stat()
    assert n == 2
    resp, listing, _ = p.list()
    sizes = {int(a): int(b) for a, b in (l.split() for l in listing)}
    assert sum(sizes.values()) == size and set(sizes) == {1, 2}
    assert p.list(2).split()[1:] == [b"2", str(sizes[2]).encode()]
    resp, uidls, _ = p.uidl()
    assert len(uidls) == 2
    assert p.uidl(1).split()[2] == uidls[0].split()[1]
    resp, lines, octets = p.retr(2)
    assert resp.startswith(b"+OK")
    assert lines[-3:] == [b"second body", b"line 2", b"line 3"]
    # the RETR size is the LIST size (poplib counts line + CRLF, before unstuffing)
    assert octets == sizes[2]
    resp, lines, _ = p.top(2, 1)
    assert lines[-1] == b"second body" and b"line 2" not in lines
    resp, lines, _ = p.top(2, 0)
    assert lines[-1] == b"" and b"second body" not in lines
    assert p.noop().startswith(b"+OK")
    assert p.dele(1).startswith(b"+OK")
    assert p.stat() == (1, sizes[2])
    assert p.rset().startswith(b"+OK")
    assert p.stat() == (2, size)
    assert p.capa()
    assert p.quit().startswith(b"+OK")


def test_auth_plain(server):
    c = greeted(server, port=server.pop3s_port, tls=True)
    assert c.cmd("AUTH").startswith("+OK")
    assert c.lines() == ["PLAIN"]
    assert c.cmd("AUTH CRAM-MD5").startswith("-ERR")
    assert c.cmd("AUTH PLAIN").startswith("+ ")
    assert c.cmd("*").startswith("-ERR")
    assert c.cmd("AUTH PLAIN").startswith("+ ")
    assert c.cmd("not base64!").startswith("-ERR")
    # authorization identity of another mailbox: refused
    other = base64.b64encode(f"{BOB}\0{ALICE}\0{ALICE_PW}".encode()).decode()
    assert c.cmd(f"AUTH PLAIN {other}").startswith("-ERR")
    good = base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode()
    assert c.cmd("AUTH PLAIN").startswith("+ ")
    r = c.cmd(good)
    assert r.startswith("+OK"), r
    assert c.cmd("STAT") == "+OK 0 0"
    assert c.cmd("QUIT").startswith("+OK")
    # and with an initial response
    c = greeted(server, port=server.pop3s_port, tls=True)
    assert c.cmd(f"AUTH PLAIN {good}").startswith("+OK")
    c.close()


def test_commands_in_wrong_state_and_bad_syntax(server):
    deliver(server)
    c = greeted(server, port=server.pop3s_port, tls=True)
    for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 0", "UIDL"):
        r = c.cmd(cmd)
        assert r.startswith("-ERR"), (cmd, r)
    assert c.cmd("PASS x").startswith("-ERR")          # PASS before USER
    assert c.cmd("APOP alice x").startswith("-ERR")    # not offered
    assert c.cmd("HELO x").startswith("-ERR")
    c.login()
    for cmd in ("USER x", "PASS x", "STLS", "AUTH PLAIN"):
        assert c.cmd(cmd).startswith("-ERR"), cmd
    for cmd in ("RETR", "RETR x", "RETR 0", "RETR 2", "LIST 2", "UIDL 99", "TOP 1", "DELE",
                "STAT 1", "TOP 1 -1"):
        assert c.cmd(cmd).startswith("-ERR"), cmd
    assert c.cmd("LIST 1").startswith("+OK 1 ")
    assert c.cmd("QUIT").startswith("+OK")


def test_too_many_errors_disconnects(server):
    c = greeted(server)
    for i in range(19):
        assert c.cmd("BOGUS").startswith("-ERR")
    assert c.cmd("BOGUS").startswith("-ERR")
    assert c.line().startswith("-ERR too many errors")
    assert c.closed()


def test_overlong_line(server):
    c = greeted(server)
    c.send("NOOP" + "x" * 5000 + "\r\n")
    assert c.line().startswith("-ERR")
    assert c.cmd("CAPA").startswith("+OK")
    c.lines()
    c.close()


def test_pipelining(server):
    deliver(server)
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.send(f"USER {ALICE}\r\nPASS {ALICE_PW}\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nNOOP\r\nQUIT\r\n")
    assert c.line().startswith("+OK")
    assert c.line().startswith("+OK Logged in")
    assert c.line().startswith("+OK 1 ")
    assert c.line().startswith("+OK")
    assert len(c.lines()) == 1
    assert c.line().startswith("+OK")
    assert len(c.lines()) == 1
    assert c.line().startswith("+OK")
    assert b"Hello." in c.until_dot()
    assert c.line() == "+OK"
    assert c.line().startswith("+OK")
    assert c.closed()


# --- message content -------------------------------------------------------------

def test_retr_exact_bytes_crlf_and_dot_stuffing(server):
    body = ("Normal line.\r\n"
            ".A line that starts with a dot\r\n"
            "..two dots\r\n"
            ".\r\n"           # a line of one dot inside the message (sent stuffed)
            "x.\r\n"
            "Last line.\r\n")
    sent = deliver(server, subject="dots", body=body)
    stored = server.messages(ALICE)[0]
    assert b"\r" not in stored
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    size = int(c.cmd("LIST 1").split()[2])
    r = c.cmd("RETR 1")
    assert r == f"+OK {size} octets", r
    wire = c.until_dot()
    assert wire == expected_wire(stored)
    # unstuffed and without the terminator, it is the stored message in CRLF form,
    # ending with the message exactly as the client sent it; LIST said its size
    unstuffed = re.sub(rb"(?m)^\.", b"", wire[:-3].replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    assert len(unstuffed) == size
    assert unstuffed.endswith(sent)
    c.cmd("QUIT")


def test_retr_message_without_final_newline_and_without_w(server):
    content = b"Subject: raw\n\nno newline at the end"
    drop(server, ALICE, "1600000000.M1P1Q1.elsewhere", content)   # no S=/W=: measured
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    assert c.cmd("LIST 1") == f"+OK 1 {crlf_size(content)}"
    assert c.cmd("RETR 1").startswith("+OK")
    assert c.until_dot() == b"Subject: raw\r\n\r\nno newline at the end\r\n.\r\n"
    c.cmd("QUIT")


def test_top(server):
    content = b"From: a@example.org\nSubject: top\n\nb1\n.b2\nb3\n"
    drop(server, ALICE, wname(1, content), content)
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    assert c.cmd("TOP 1 0").startswith("+OK")
    assert c.until_dot() == b"From: a@example.org\r\nSubject: top\r\n\r\n.\r\n"
    assert c.cmd("TOP 1 2").startswith("+OK")
    assert c.until_dot() == b"From: a@example.org\r\nSubject: top\r\n\r\nb1\r\n..b2\r\n.\r\n"
    assert c.cmd("TOP 1 99").startswith("+OK")
    assert c.until_dot() == expected_wire(content)
    c.cmd("QUIT")


def test_large_message_streams_without_buffering(server):
    line = b"0123456789" * 7 + b"\n"
    content = b"Subject: big\n\n" + line * (30 * 1024 * 1024 // len(line))
    drop(server, ALICE, wname(1, content), content)
    pid = server.proc.pid

    def rss():
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) * 1024

    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    before = rss()
    c.send("RETR 1\r\n")
    time.sleep(1.5)          # deliberate: not reading; the server must wait, not buffer 30 MiB
    grown = rss() - before
    assert grown < 12 * 1024 * 1024, f"RSS grew by {grown} bytes while the client did not read"
    assert c.line().startswith("+OK")
    wire = c.until_dot()
    assert len(wire) == len(content) + content.count(b"\n") + 3
    assert hashlib.sha256(wire).digest() == hashlib.sha256(expected_wire(content)).digest()
    assert c.cmd("NOOP") == "+OK"
    c.cmd("QUIT")


def test_stat_list_many_messages(server):
    n = 10000
    sizes = []
    for i in range(n):
        content = b"Subject: m%d\n\n%s\n" % (i, b"x" * (i % 50))
        drop(server, ALICE, wname(i, content), content)
        sizes.append(len(content) + content.count(b"\n"))
    # sizes come from the names (W=): the files are not opened at login. Ten
    # of the messages are dangling links; they are listed all the same.
    cur = os.path.join(server.maildir(ALICE), "cur")
    for i in range(n, n + 10):
        os.symlink("/nonexistent", os.path.join(cur, f"{1600000000 + i}.M{i}P1Q{i}.ghost,S=5,W=6:2,"))
        sizes.append(6)
    c = greeted(server, port=server.pop3s_port, tls=True)
    t = time.time()
    c.login()
    assert c.cmd("STAT") == f"+OK {n + 10} {sum(sizes)}"
    assert c.cmd("LIST").startswith(f"+OK {n + 10} messages")
    listing = c.lines()
    assert listing == [f"{i + 1} {s}" for i, s in enumerate(sizes)]
    assert c.cmd("UIDL").startswith("+OK")
    uidls = c.lines()
    assert len(set(u.split()[1] for u in uidls)) == n + 10
    print(f"login + STAT + LIST + UIDL of {n} messages: {time.time() - t:.2f} s")
    assert c.cmd("LIST 2999") == f"+OK 2999 {sizes[2998]}"
    # the dangling one cannot be read: an -ERR, and the session goes on
    r = c.cmd(f"RETR {n + 1}")
    assert r.startswith("-ERR") and "[SYS/TEMP]" not in r, r
    assert c.cmd(f"RETR {n}").startswith("+OK")
    assert b"Subject: m9999" in c.until_dot()
    c.cmd("QUIT")
    # everything moved from new/ to cur/ with the ":2," info
    assert os.listdir(os.path.join(server.maildir(ALICE), "new")) == []
    assert all(f.endswith(":2,") for f in os.listdir(os.path.join(server.maildir(ALICE), "cur")))


def test_message_removed_or_renamed_by_another_program(server):
    for i in range(3):
        deliver(server, subject=f"r{i}", body=f"body {i}\r\n")
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    uidls = [l.split()[1] for l in (c.cmd("UIDL") and c.lines())]
    cur = os.path.join(server.maildir(ALICE), "cur")
    files = {f.split(":")[0]: f for f in os.listdir(cur)}
    # another program (a second mail client, an operator) removes message 1 ...
    os.unlink(os.path.join(cur, files[uidls[0]]))
    r = c.cmd("RETR 1")
    assert r.startswith("-ERR") and "removed" in r, r
    assert c.cmd("NOOP") == "+OK"                      # the session goes on
    # ... and marks message 2 as read (mutt renames it to ...:2,S)
    os.rename(os.path.join(cur, files[uidls[1]]), os.path.join(cur, uidls[1] + ":2,S"))
    assert c.cmd("RETR 2").startswith("+OK")
    assert b"body 1" in c.until_dot()
    assert c.cmd("TOP 2 0").startswith("+OK")
    c.until_dot()
    assert c.cmd("UIDL 2") == f"+OK 2 {uidls[1]}"
    assert c.cmd("DELE 1").startswith("+OK")
    assert c.cmd("DELE 2").startswith("+OK")
    r = c.cmd("QUIT")
    assert r.startswith("+OK") and "1 messages left" in r, r
    # the renamed message was deleted under its new name
    left = os.listdir(cur)
    assert [f.split(":")[0] for f in left] == [uidls[2]], left
    assert "renamed by another program" in server.logtext()


# --- Maildir semantics -------------------------------------------------------------

def test_dele_takes_effect_at_quit_only(server):
    for i in range(3):
        deliver(server, subject=f"m{i}")
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    assert c.cmd("DELE 2").startswith("+OK")
    assert c.cmd("DELE 2").startswith("-ERR")         # already deleted
    assert c.cmd("RETR 2").startswith("-ERR")
    assert c.cmd("LIST 2").startswith("-ERR")
    assert c.cmd("TOP 2 0").startswith("-ERR")
    assert c.cmd("STAT").startswith("+OK 2 ")
    assert c.cmd("LIST").startswith("+OK 2 messages")
    assert [l.split()[0] for l in c.lines()] == ["1", "3"]   # numbers do not shift
    c.close()                                           # gone without QUIT: no UPDATE
    server.wait_sessions_done("pop3")
    assert len(message_files(server, ALICE)) == 3

    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    assert c.cmd("STAT").startswith("+OK 3 ")
    assert c.cmd("DELE 1").startswith("+OK")
    assert c.cmd("RSET").startswith("+OK maildrop has 3 messages")
    assert c.cmd("DELE 1").startswith("+OK")
    assert c.cmd("DELE 3").startswith("+OK")
    r = c.cmd("QUIT")
    assert r.startswith("+OK") and "1 messages left" in r, r
    assert c.closed()
    files = message_files(server, ALICE)
    assert len(files) == 1
    with open(files[0], "rb") as f:
        assert b"Subject: m1" in f.read()


def test_uidl_stable_across_sessions_and_restart(server):
    for i in range(3):
        deliver(server, subject=f"u{i}")
    p = pop_login(server)
    first = p.uidl()[1]
    p.quit()
    p = pop_login(server)
    assert p.uidl()[1] == first
    p.dele(1)
    p.quit()
    server.stop()
    server.start()
    p = pop_login(server)
    after = p.uidl()[1]
    p.quit()
    # the same ids, message 1 gone, the rest renumbered
    assert [u.split()[1] for u in after] == [u.split()[1] for u in first[1:]]
    for u in first:
        uid = u.split()[1]
        assert 1 <= len(uid) <= 70 and all(0x21 <= b <= 0x7e for b in uid)


def test_new_mail_appears_in_next_session(server):
    deliver(server, subject="before")
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    assert c.cmd("STAT").startswith("+OK 1 ")
    deliver(server, subject="during")
    assert c.cmd("STAT").startswith("+OK 1 ")
    assert c.cmd("LIST").startswith("+OK 1 ")
    c.lines()
    assert c.cmd("QUIT").startswith("+OK")
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    assert c.cmd("STAT").startswith("+OK 2 ")
    c.cmd("QUIT")


def test_in_use(server):
    first = pop_login(server)
    p = POP3From("127.0.0.1", server.pop3_port)
    p.stls(tls_ctx(server))
    p.user(ALICE)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(ALICE_PW)
    assert b"[IN-USE]" in e.value.args[0]
    # another mailbox is not affected
    other = pop_login(server, BOB, BOB_PW)
    other.quit()
    first.quit()
    p.user(ALICE)
    assert p.pass_(ALICE_PW).startswith(b"+OK")
    p.quit()


def test_lock_released_when_client_vanishes(server):
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    c.close()
    server.wait_sessions_done("pop3")
    p = pop_login(server)
    p.quit()


# --- failures, throttling, suspension, timeout ---------------------------------

def test_wrong_password_delay_log_and_throttle(server):
    src = "127.0.0.5"
    c = greeted(server, port=server.pop3s_port, tls=True, source=src)
    for i in range(5):
        assert c.cmd(f"USER {ALICE}").startswith("+OK")
        t = time.time()
        r = c.cmd("PASS wrong-password")
        assert r.startswith("-ERR [AUTH]"), r
        assert time.time() - t >= 0.9     # failures are answered late
    # blocked now, even with the right password
    assert c.cmd(f"USER {ALICE}").startswith("+OK")
    r = c.cmd(f"PASS {ALICE_PW}")
    assert r.startswith("-ERR") and "try again" in r, r
    c.close()
    log = server.logtext()
    assert log.count(f"pop3 authentication failed: ip={src} user={ALICE}") == 5
    # another address is not blocked
    p = pop_login(server)
    p.quit()
    # the block is shared with SMTP AUTH
    with smtplib.SMTP("127.0.0.1", server.smtp_port, local_hostname="c.test", timeout=10,
                      source_address=(src, 0)) as s:
        s.starttls(context=tls_ctx(server))
        s.ehlo("c.test")
        with pytest.raises(smtplib.SMTPException) as e:
            s.login(ALICE, ALICE_PW)
        assert getattr(e.value, "smtp_code", None) == 454
    # only the successful login was granted
    assert [r[0] for r in relay_rows(server)] == ["127.0.0.1"]


def test_parallel_guesses_get_no_more_verdicts_than_the_limit(server):
    src = "127.0.0.7"
    conns = [greeted(server, port=server.pop3s_port, tls=True, source=src) for _ in range(12)]
    for c in conns:
        c.send(f"USER {ALICE}\r\nPASS wrong-password\r\n")
    replies = []
    for c in conns:
        assert c.line().startswith("+OK")
        replies.append(c.line())
        c.close()
    failed = [r for r in replies if r.startswith("-ERR [AUTH]")]
    refused = [r for r in replies if "try again" in r]
    assert len(failed) <= 5 and len(failed) + len(refused) == 12, replies
    # and the right password is refused from there now
    c = greeted(server, port=server.pop3s_port, tls=True, source=src)
    assert c.cmd(f"USER {ALICE}").startswith("+OK")
    assert "try again" in c.cmd(f"PASS {ALICE_PW}")
    c.close()


def test_unknown_user_fails_like_wrong_password(server):
    c = greeted(server, port=server.pop3s_port, tls=True, source="127.0.0.6")
    assert c.cmd("USER nobody@acme.test").startswith("+OK")
    assert c.cmd("PASS whatever").startswith("-ERR [AUTH]")
    c.close()
    assert "pop3 authentication failed: ip=127.0.0.6 user=nobody@acme.test" in server.logtext()


def test_suspended_account(server):
    server.ctl("account", "suspend", "acme")
    c = greeted(server, port=server.pop3s_port, tls=True)
    assert c.cmd(f"USER {ALICE}").startswith("+OK")
    r = c.cmd(f"PASS {ALICE_PW}")
    assert r == "-ERR [AUTH] account not in good standing", r
    # a wrong password does not learn about the suspension
    assert c.cmd(f"USER {ALICE}").startswith("+OK")
    r = c.cmd("PASS wrong")
    assert r.startswith("-ERR [AUTH]") and "good standing" not in r
    c.close()
    assert relay_rows(server) == []
    server.ctl("account", "resume", "acme")
    p = pop_login(server)
    p.quit()


def test_idle_timeout(make_server):
    hm = make_server("[pop3]\ntimeout = 5\n")    # 5 s: a loaded machine may stall the client a while
    c = greeted(hm, port=hm.pop3s_port, tls=True)
    c.login()
    t = time.time()
    assert c.closed(timeout=10)          # closed without a reply (RFC 1939)
    assert 1.5 <= time.time() - t < 8
    assert "idle timeout" in hm.logtext()
    # no UPDATE happened and the lock is free again
    p = pop3s_login(hm)
    p.quit()
    # the same after STLS
    c = greeted(hm)
    c.stls()
    c.login()
    assert c.closed(timeout=10)
    p = pop3s_login(hm)
    p.quit()


def test_slow_retr_is_not_idle(make_server):
    hm = make_server("[pop3]\ntimeout = 5\n")    # 5 s: a loaded machine may stall the client a while
    line = b"y" * 99 + b"\n"
    content = b"Subject: slow\n\n" + line * (6 * 1024 * 1024 // len(line))
    drop(hm, ALICE, wname(1, content), content)
    c = greeted(hm, port=hm.pop3s_port, tls=True)
    c.login()
    assert c.cmd("RETR 1").startswith("+OK")
    got, t = len(c.buf), time.time()
    c.buf = b""
    tail = b""
    while not tail.endswith(b"\r\n.\r\n"):
        chunk = c.sock.recv(256 * 1024)
        assert chunk, "closed during a slow RETR"
        got += len(chunk)
        tail = (tail + chunk)[-5:]
        time.sleep(0.05)           # deliberate: about 5 s in all, longer than the idle timeout
    assert time.time() - t > 2.5
    assert got == crlf_size(content) + 3
    assert c.cmd("NOOP") == "+OK"
    c.cmd("QUIT")


def test_40mib_retr_over_stls_to_a_slow_reader(make_server):
    """The largest message (40 MiB) over STLS to a client reading slowly, for
    much longer than the idle timeout; exact bytes, then the session goes on
    (a command pipelined behind the RETR, and one sent after it)."""
    hm = make_server("[pop3]\ntimeout = 5\n")    # 5 s: a loaded machine may stall the client a while
    line = b"z" * 76 + b"\n"
    content = b"Subject: forty\n\n" + line * (40 * 1024 * 1024 // len(line))
    drop(hm, ALICE, wname(1, content), content)
    raw = socket.socket()
    # a small receive buffer: what the client has not read waits on the server
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", hm.pop3_port))
    c = RawPOP.__new__(RawPOP)
    c.hm, c.sock, c.buf = hm, raw, b""
    assert c.line().startswith("+OK")
    c.stls()
    c.login()
    c.send("RETR 1\r\nNOOP\r\n")
    assert c.line() == f"+OK {crlf_size(content)} octets"
    h, t = hashlib.sha256(), time.time()
    data, c.buf = c.buf, b""
    end = b"\r\n.\r\n"
    got = 0
    while True:
        i = data.find(end)
        if i >= 0:
            h.update(data[:i + 5])
            got += i + 5
            c.buf = data[i + 5:]
            break
        keep = data[-4:]
        h.update(data[:-4] if len(data) > 4 else b"")
        got += max(len(data) - 4, 0)
        chunk = c.sock.recv(1 << 16)
        assert chunk, f"closed during a slow RETR after {got} bytes"
        data = (keep if len(data) > 4 else data) + chunk
        # deliberate: a slow reader, slower than the idle timeout. The last
        # 8 MiB are read at full speed: the server may have written them to
        # its socket buffer (up to 4 MiB) long ago, and from then on it
        # rightly counts the session idle; a loaded machine reading them
        # slowly would reach the timeout before the NOOP below.
        if got < len(content) - 8 * 1024 * 1024:
            time.sleep(0.004)
    elapsed = time.time() - t
    print(f"40 MiB RETR over STLS to a slow reader: {elapsed:.1f} s")
    assert elapsed > 6                  # slower than the idle timeout, or the test proves nothing
    assert got == crlf_size(content) + 3
    assert h.digest() == hashlib.sha256(expected_wire(content)).digest()
    assert c.line() == "+OK"            # the pipelined NOOP
    assert c.cmd("NOOP") == "+OK"
    assert c.cmd("QUIT").startswith("+OK")


def test_pipelined_commands_over_stls(server):
    content = b"Subject: pipe\n\n.dot line\nend\n"
    for i in range(5):
        drop(server, ALICE, wname(i, content), content)
    c = greeted(server)
    c.stls()
    c.login()
    cmds = []
    for i in range(400):
        k = i % 5 + 1
        cmds += [f"LIST {k}", f"UIDL {k}", "STAT", f"RETR {k}", "NOOP"]
    c.send("".join(x + "\r\n" for x in cmds) + "QUIT\r\n")
    for x in cmds:
        r = c.line()
        assert r.startswith("+OK"), (x, r)
        if x.startswith("RETR"):
            assert c.until_dot() == expected_wire(content)
    assert c.line().startswith("+OK")
    assert c.closed()


def wait_login(hm, timeout=10.0):
    """Log in as soon as the mailbox is free again (the lock of a vanished
    session goes when the server notices)."""
    def login():
        try:
            return pop3s_login(hm)
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0]:
                raise
            return None
    return wait_for(login, timeout, "the mailbox's lock to go")


def test_lock_released_on_every_kind_of_disconnect(server):
    line = b"w" * 99 + b"\n"
    content = b"Subject: big\n\n" + line * (8 * 1024 * 1024 // len(line))
    drop(server, ALICE, wname(1, content), content)
    # gone in the middle of a RETR
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    c.send("RETR 1\r\n")
    assert c.line().startswith("+OK")
    c.sock.recv(65536)
    c.close()
    wait_login(server).quit()
    # gone while the password is being checked (USER, PASS, close at once)
    for _ in range(3):
        c = greeted(server, port=server.pop3s_port, tls=True)
        c.send(f"USER {ALICE}\r\nPASS {ALICE_PW}\r\n")
        c.close()
    wait_login(server).quit()
    # gone right after QUIT was sent, with deletions pending: they happen
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    c.send("DELE 1\r\nQUIT\r\n")
    c.close()
    p = wait_login(server)
    assert p.stat()[0] == 0
    p.quit()
    # a TCP reset in the AUTHORIZATION state after STLS
    c = greeted(server)
    c.stls()
    c.login()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    wait_login(server).quit()


def test_connection_limits_apply_to_pop3(make_server):
    hm = make_server("[limits]\nmax_connections_per_ip = 2\n")
    src = "127.0.0.8"          # not the address the start-up probe came from
    a = greeted(hm, source=src)
    b = greeted(hm, port=hm.pop3s_port, tls=True, source=src)
    c = RawPOP(hm, source=src)
    r = c.line()
    assert r.startswith("-ERR [SYS/TEMP]") and "too many connections from your address" in r, r
    assert c.closed()
    # another address is not affected; a freed slot is usable again
    greeted(hm, source="127.0.0.4").close()
    a.cmd("QUIT")
    assert a.closed()
    d = greeted(hm, source=src)
    d.close()
    b.close()
    assert f"pop3: ip={src} refused: too many connections from this address" in hm.logtext()


def test_pop3s_tls_handshake_deadline(make_server):
    hm = make_server("[smtp]\ntls_handshake_timeout = 1\n")
    s = socket.create_connection(("127.0.0.1", hm.pop3s_port), timeout=10)
    s.settimeout(10)
    t = time.time()
    assert s.recv(100) == b""           # no handshake: closed by the server
    assert time.time() - t < 8
    s.close()
    assert "TLS handshake timeout" in hm.logtext()
    # after a handshake, the (longer) idle timeout applies
    c = greeted(hm, port=hm.pop3s_port, tls=True)
    time.sleep(1.5)                     # deliberate: past the 1 s handshake deadline, nothing happens
    assert c.cmd("CAPA").startswith("+OK")
    c.lines()
    c.close()


def test_pipelined_replies_larger_than_the_output_buffer(server):
    for i in range(300):
        content = b"Subject: p%d\n\nbody\n" % i
        drop(server, ALICE, wname(i, content), content)
    c = greeted(server, port=server.pop3s_port, tls=True)
    c.login()
    c.send("LIST\r\n" * 200 + "NOOP\r\nQUIT\r\n")
    for i in range(200):
        assert c.line().startswith("+OK 300 messages")
        assert len(c.lines()) == 300
    assert c.line() == "+OK"
    assert c.line().startswith("+OK")
    assert c.closed()


def test_timeout_config_default_and_bad_value(hm):
    with open(hm.config, "a") as f:
        f.write("[pop3]\ntimeout = soon\n")
    r = hm.ctl("relay", "list", check=False)
    assert r.returncode == 1 and "timeout" in r.stderr


# --- real clients ------------------------------------------------------------------

def test_curl_pop3_stls_and_pop3s(server):
    deliver(server, subject="curl", body="curl body\r\n")
    base = ["curl", "-sS", "--max-time", "20", "--cacert", server.pki["ca"], "-u", f"{ALICE}:{ALICE_PW}"]
    r = subprocess.run(base + ["--ssl-reqd", f"pop3://127.0.0.1:{server.pop3_port}/"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert re.match(rb"1 \d+\r?\n", r.stdout), r.stdout
    r = subprocess.run(base + ["--ssl-reqd", f"pop3://127.0.0.1:{server.pop3_port}/1"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"Subject: curl" in r.stdout and b"curl body" in r.stdout
    r = subprocess.run(base + [f"pop3s://127.0.0.1:{server.pop3s_port}/1"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"curl body" in r.stdout
    # UIDL and DELE as custom requests
    r = subprocess.run(base + ["-X", "UIDL", f"pop3s://127.0.0.1:{server.pop3s_port}/"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0 and re.match(rb"1 \S+", r.stdout), (r.stdout, r.stderr)
    r = subprocess.run(base + ["-X", "DELE", "-I", f"pop3s://127.0.0.1:{server.pop3s_port}/1"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert server.messages(ALICE) == []
    # without --ssl-reqd curl may not log in over the clear: the server refuses
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", f"{ALICE}:{ALICE_PW}",
                        f"pop3://127.0.0.1:{server.pop3_port}/"], capture_output=True, timeout=30)
    assert r.returncode != 0


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail not installed (scripts/deps.sh)")
@pytest.mark.parametrize("mode", ["stls", "pop3s"])
def test_fetchmail(server, tmp_path, mode):
    for i in range(2):
        deliver(server, subject=f"fetch{i}", body=f"fetchmail body {i}\r\n")
    out = tmp_path / "fetched.mbox"
    home = tmp_path / "fmhome"
    home.mkdir()
    port = server.pop3_port if mode == "stls" else server.pop3s_port
    tls = "sslproto tls1.2+" if mode == "stls" else "ssl"
    rc = tmp_path / "fetchmailrc"
    # polled by "localhost", a name in the certificate, checked against the test CA
    rc.write_text(f"""set no syslog
poll localhost protocol pop3 port {port}
  user "{ALICE}" password "{ALICE_PW}" is "nobody" here
  {tls} sslcertck sslcertfile "{server.pki['ca']}"
  mda "/bin/sh -c 'cat >> {out}'"
""")
    rc.chmod(0o600)
    env = dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home))
    r = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nodetach"], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    data = out.read_bytes()
    assert b"fetchmail body 0" in data and b"fetchmail body 1" in data
    assert server.messages(ALICE) == []           # fetched and deleted
    if mode == "stls":
        assert "STLS" in r.stdout + r.stderr


def test_openssl_s_client_starttls_pop3(server):
    deliver(server)
    r = subprocess.run(["openssl", "s_client", "-starttls", "pop3", "-connect", f"127.0.0.1:{server.pop3_port}",
                        "-CAfile", server.pki["ca"], "-verify_return_error", "-verify_hostname", CERT_NAME,
                        "-quiet", "-crlf"],
                       input=f"USER {ALICE}\nPASS {ALICE_PW}\nSTAT\nUIDL\nQUIT\n".encode(),
                       capture_output=True, timeout=30)
    out = r.stdout.decode()
    assert "+OK Logged in" in out, out + r.stderr.decode()
    assert re.search(r"\+OK 1 \d+", out), out
    assert "signing off" in out


# --- POP-before-SMTP: the grant ---------------------------------------------------

def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_login_grants_relay_and_relay_list(server):
    assert relay_rows(server) == []
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    rows = relay_rows(server)
    assert len(rows) == 1
    ip, account, mailbox, expiry = rows[0]
    assert (ip, account, mailbox) == ("127.0.0.2", "acme", ALICE)
    exp = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert abs(exp - (time.time() + 90 * 60)) < 120
    assert "relay authorized (POP-before-SMTP)" in server.logtext()
    # a later login extends, not duplicates; another IP gets its own row
    p = pop3s_login(server, BOB, BOB_PW)
    p.quit()
    rows = relay_rows(server)
    assert sorted((r[0], r[2]) for r in rows) == [("127.0.0.1", BOB), ("127.0.0.2", ALICE)]


def test_relay_revoke(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    assert server.ctl("relay", "revoke", "127.0.0.2").returncode == 0
    assert relay_rows(server) == []
    r = server.ctl("relay", "revoke", "127.0.0.2", check=False)
    assert r.returncode == 1 and "no relay authorization for 127.0.0.2" in r.stderr
    r = server.ctl("relay", "revoke", "not-an-ip", check=False)
    assert r.returncode == 1 and "not an IP address" in r.stderr
    r = server.ctl("relay", "revoke", check=False)
    assert r.returncode == 2


def test_grant_survives_restart(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    before = relay_rows(server)
    server.stop()
    assert relay_rows(server) == before
    server.start()
    time.sleep(1.5)            # deliberate: past the purge 1 s after start (no log line when it purges nothing); an unexpired grant stays
    assert relay_rows(server) == before


def test_expired_grants_purged(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    server.sql("INSERT INTO relay_auth (ip, account_id, mailbox, expires)"
               " SELECT ?, id, ?, ? FROM accounts WHERE name = 'acme'", ("127.0.0.9", BOB, int(time.time()) - 60))
    # never listed once expired
    assert [r[0] for r in relay_rows(server)] == ["127.0.0.2"]
    server.stop()
    server.start()
    server.wait_log("purged 1 expired POP-before-SMTP authorization", timeout=10)
    ips = [r[0] for r in server.sql("SELECT ip FROM relay_auth")]
    assert ips == ["127.0.0.2"]


def test_short_configured_lifetime_expires_and_is_purged(make_server):
    hm = make_server("[relay]\npop_before_smtp_minutes = 3s\n")
    t = time.time()
    p = pop_login(hm, source="127.0.0.2")
    p.quit()
    rows = relay_rows(hm)
    assert [r[0] for r in rows] == ["127.0.0.2"]
    exp = datetime.strptime(rows[0][3], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert t - 1 <= exp <= time.time() + 4
    assert relay_attempt(hm, "127.0.0.2")[1][0] == 250
    # once the time is over: no relaying, not listed, and purged from the store
    time.sleep(max(0.0, exp + 1 - time.time()))   # deliberate: the grant's lifetime runs out on the clock
    mail, rcpt = relay_attempt(hm, "127.0.0.2")
    assert rcpt[0] == 554 and rcpt[1].startswith(b"5.7.1"), rcpt
    assert relay_rows(hm) == []
    hm.wait_log("purged 1 expired POP-before-SMTP authorization", timeout=15)
    assert hm.sql("SELECT count(*) FROM relay_auth")[0][0] == 0


def test_pop_before_smtp_minutes_syntax(hm):
    for good in ("0", "90", "100000", "30s", "2h"):
        hm.write_config()
        with open(hm.config, "a") as f:
            f.write(f"[relay]\npop_before_smtp_minutes = {good}\n")
        assert hm.ctl("relay", "list", check=False).returncode == 0, good
    for bad in ("-1", "100001", "soon", "1x", "70d"):
        hm.write_config()
        with open(hm.config, "a") as f:
            f.write(f"[relay]\npop_before_smtp_minutes = {bad}\n")
        r = hm.ctl("relay", "list", check=False)
        assert r.returncode == 1 and "pop_before_smtp_minutes" in r.stderr, (bad, r.stderr)


def test_no_grant_when_disabled(make_server):
    hm = make_server("[relay]\npop_before_smtp_minutes = 0\n")
    p = pop_login(hm, source="127.0.0.2")
    p.quit()
    assert relay_rows(hm) == []


def test_suspension_ends_grants(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    assert relay_rows(server)
    server.ctl("account", "suspend", "acme")
    assert relay_rows(server) == []


def test_password_change_and_mailbox_removal_end_grants(server):
    """A grant ends with the login that made it: the mailbox's new password
    (a leaked one stops relaying) or its removal; other mailboxes' stay."""
    for user, pw, ip in ((ALICE, ALICE_PW, "127.0.0.2"), (BOB, BOB_PW, "127.0.0.3")):
        p = pop_login(server, user=user, password=pw, source=ip)
        p.quit()
    assert len(relay_rows(server)) == 2
    server.ctl("mailbox", "passwd", ALICE, input="a-new-secret\n")
    assert relay_attempt(server, "127.0.0.2")[1][0] == 554
    assert relay_attempt(server, "127.0.0.3", sender=BOB)[1][0] == 250
    server.ctl("mailbox", "remove", BOB)
    assert relay_rows(server) == []
    assert relay_attempt(server, "127.0.0.3", sender=BOB)[1][0] == 554


# --- POP-before-SMTP: the SMTP side -------------------------------------------------

def smtp_from(hm, source):
    s = smtplib.SMTP("127.0.0.1", hm.smtp_port, local_hostname="client.test", timeout=10,
                     source_address=(source, 0))
    s.ehlo("client.test")
    return s


def relay_attempt(hm, source, sender=ALICE, rcpt="friend@remote.example"):
    """(MAIL reply code, RCPT reply (code, text)) from source, without AUTH."""
    with smtp_from(hm, source) as s:
        mail = s.mail(sender)
        if mail[0] != 250:
            return mail[0], (None, b"")
        return mail[0], s.rcpt(rcpt)


def test_relay_denied_without_pop_login(server):
    mail, rcpt = relay_attempt(server, "127.0.0.2")
    assert rcpt[0] == 554 and rcpt[1].startswith(b"5.7.1"), rcpt


def test_pop_before_smtp_authorizes_only_that_ip(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    mail, rcpt = relay_attempt(server, "127.0.0.2")
    assert mail == 250 and rcpt[0] == 250, rcpt
    mail, rcpt = relay_attempt(server, "127.0.0.3")
    assert rcpt[0] == 554 and rcpt[1].startswith(b"5.7.1"), rcpt


def test_pop_before_smtp_sender_affiliation(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    with smtp_from(server, "127.0.0.2") as s:
        code, text = s.mail("someone@foreign.example")
        if code == 250:
            code, text = s.rcpt("friend@remote.example")
        assert code == 553 and text.startswith(b"5.7.1"), (code, text)


def test_pop_before_smtp_ip_still_receives_mx_mail_from_foreign_senders(server):
    """The grant authorizes an IP, which a mail server or other users may
    share: mail from a foreign sender to a hosted mailbox is accepted as on
    any MX, relaying it is refused (553 5.7.1, naming the account), and the
    next transaction with the account's own sender relays again."""
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    before = len(server.messages(BOB))
    with smtp_from(server, "127.0.0.2") as s:
        assert s.mail("news@foreign.example")[0] == 250
        code, text = s.rcpt("friend@remote.example")
        assert code == 553 and text.startswith(b"5.7.1") and b"acme" in text, (code, text)
        assert s.rcpt(BOB)[0] == 250
        code, _ = s.data(b"From: News <news@foreign.example>\r\nTo: bob@acme.test\r\n"
                         b"Subject: newsletter\r\n\r\nhello\r\n")
        assert code == 250
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt("friend@remote.example")[0] == 250
        s.rset()
    server.wait_messages(BOB, before + 1)
    assert b"Subject: newsletter" in server.messages(BOB)[-1]
    assert "POP-before-SMTP authorization not used for this transaction" in server.logtext()


def test_pop_before_smtp_header_from_and_recipient_budget(make_server):
    """A POP-before-SMTP session obeys the rules of an authenticated one: the
    header From: in the account's domains, and the account's hourly budget."""
    hm = make_server("[limits]\nrecipients_per_hour = 2\n")
    p = pop_login(hm, source="127.0.0.2")
    p.quit()
    with smtp_from(hm, "127.0.0.2") as s:
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt("friend@remote.example")[0] == 250
        code, text = s.data(b"From: Carol <carol@foreign.example>\r\nTo: friend@remote.example\r\n"
                            b"Subject: spoof\r\n\r\nbody\r\n")
        assert code == 550 and text.startswith(b"5.7.1"), (code, text)
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt("one@remote.example")[0] == 250
        assert s.rcpt("two@remote.example")[0] == 250
        code, _ = s.data(b"From: Alice <alice@acme.test>\r\nTo: one@remote.example\r\n"
                         b"Subject: ok\r\n\r\nbody\r\n")
        assert code == 250
        assert s.mail(ALICE)[0] == 250
        code, text = s.rcpt("three@remote.example")
        assert code == 450 and text.startswith(b"4.7.1") and b"acme" in text, (code, text)


def test_pop_before_smtp_survives_restart(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    server.stop()
    server.start()
    mail, rcpt = relay_attempt(server, "127.0.0.2")
    assert rcpt[0] == 250, rcpt


def test_pop_before_smtp_expiry_and_revoke(server):
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    assert relay_attempt(server, "127.0.0.2")[1][0] == 250
    # expiry: the grant's time is over (minutes are too long to wait for in a test)
    server.sql("UPDATE relay_auth SET expires = ?", (int(time.time()) - 1,))
    mail, rcpt = relay_attempt(server, "127.0.0.2")
    assert rcpt[0] == 554 and rcpt[1].startswith(b"5.7.1"), rcpt
    # a new login authorizes again; revoke ends it at once
    p = pop_login(server, source="127.0.0.2")
    p.quit()
    assert relay_attempt(server, "127.0.0.2")[1][0] == 250
    server.ctl("relay", "revoke", "127.0.0.2")
    assert relay_attempt(server, "127.0.0.2")[1][0] == 554
