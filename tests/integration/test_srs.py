"""Forwarding to an outside address (issue 19; docs/routing.md), end to
end: a DKIM-signed message from an outside sender to an alias arrives at a
real receiving Postfix with an SRS0 envelope sender and its signature
still valid (python3-dkim verifies it); a bounce to that SRS address comes
back through hostmaild to the original sender; a forged one is refused;
and Postfix's own SRS daemon, postsrsd, run privately on the same secret
file, makes the same addresses and takes ours (a provider moving from
Postfix keeps its secret and its old bounces)."""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import urllib.parse
import uuid

import pytest

from conftest import Hostmail, RawSMTP, free_port, setup_demo, wait_port
from postfix_mx import needs_postfix, postfix_module
from test_outbound import DNS, DNSMASQ

dkim = pytest.importorskip("dkim", reason="python3-dkim not installed (scripts/deps.sh)")

pytestmark = [needs_postfix,
              pytest.mark.skipif(not os.path.exists(DNSMASQ), reason="dnsmasq not installed")]

CAROL = "carol@remote.test"          # the outside sender
DAVE = "dave@remote.test"            # where the alias forwards


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    mx = postfix_module(tmp_path_factory, name="srs-postfix", domains=["remote.test"])
    root = tmp_path_factory.mktemp("srs")
    # the outside sender's DKIM key (remote.test signs its own mail)
    key = subprocess.run(["openssl", "genrsa", "-traditional", "2048"], check=True, capture_output=True,
                         timeout=60).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=key, check=True,
                         capture_output=True, timeout=60).stdout
    import base64
    record = "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()
    dns = DNS(root).start("--mx-host=remote.test,mx.remote.test,10",
                          "--host-record=mx.remote.test,127.0.0.1")
    d = root / "hm"
    d.mkdir()
    h = Hostmail(d, extra=f"""
[queue]
retry_schedule = 1s, 2s

[delivery]
dns_servers = 127.0.0.1:{dns.port}
mx_port = {mx.port}
""")
    setup_demo(h)
    h.ctl("alias", "add", "fwd@acme.test", DAVE)
    h.start()
    try:
        yield {"mx": mx, "h": h, "key": key, "record": record}
    finally:
        try:
            h.stop()
        finally:
            dns.stop()
            mx.stop()


def signed_message(key, subject):
    msg = (f"From: Carol <{CAROL}>\r\nTo: <fwd@acme.test>\r\nSubject: {subject}\r\n"
           f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\nMessage-ID: <{uuid.uuid4()}@remote.test>\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
           f"Forward me, please.\r\nsecond line  \r\n").encode()
    sig = dkim.sign(msg, b"s1", b"remote.test", key, include_headers=[b"from", b"to", b"subject", b"date",
                                                                       b"message-id"])
    return sig + msg


def verifies(msg, record):
    msg = re.sub(rb"\r?\n", b"\r\n", msg)
    return dkim.verify(msg, dnsfunc=lambda name, timeout=5: record.encode()
                       if name.decode().startswith("s1._domainkey.remote.test") else b"")


def forward_one(world):
    """Carol's signed message to the alias, as delivered to Dave."""
    h, mx = world["h"], world["mx"]
    subject = "srs-" + uuid.uuid4().hex[:10]
    with smtplib.SMTP(h.host, h.smtp_port, local_hostname="mx.remote.test", timeout=20) as s:
        assert not s.sendmail(CAROL, ["fwd@acme.test"], signed_message(world["key"], subject))
    return mx.wait_message("remote.test", subject.encode()), subject


def test_forward_to_outside_has_srs_sender_and_dkim_still_valid(world):
    msg, _ = forward_one(world)
    rp = re.search(rb"^Return-Path: <([^>]*)>", msg, re.M).group(1).decode()
    assert re.fullmatch(r"SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=remote\.test=carol@mx\.test\.example", rp), rp
    assert b"Delivered-To: dave@remote.test" in msg and b"Delivered-To: fwd@acme.test" in msg
    assert verifies(msg, world["record"])
    # the verifier is no rubber stamp
    assert not verifies(msg.replace(b"Forward me", b"Forward it"), world["record"])


def test_bounce_to_the_srs_address_reaches_the_original_sender(world):
    h, mx = world["h"], world["mx"]
    msg, subject = forward_one(world)
    srs = re.search(rb"^Return-Path: <([^>]*)>", msg, re.M).group(1).decode()
    bounce_subject = "bounce-" + subject
    c = RawSMTP(h.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO mx.remote.test")
        assert c.cmd("MAIL FROM:<>").code == 250
        # the SRS hash and stamp are case-insensitive: a relay may lower-case them
        r = c.cmd(f"RCPT TO:<{srs.lower()}>")
        assert r.code == 250, r
        assert c.cmd("DATA").code == 354
        r = c.cmd(f"From: MAILER-DAEMON@remote.test\r\nTo: <{srs}>\r\nSubject: {bounce_subject}\r\n\r\n"
                  f"Your message could not be delivered.\r\n.")
        assert r.code == 250, r
        c.cmd("QUIT")
    finally:
        c.close()
    back = mx.wait_message("remote.test", bounce_subject.encode())
    assert b"Delivered-To: carol@remote.test" in back
    assert re.search(rb"^Return-Path: <>", back, re.M)


def test_forged_srs_address_is_refused(world):
    h = world["h"]
    c = RawSMTP(h.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO mx.remote.test")
        assert c.cmd("MAIL FROM:<>").code == 250
        r = c.cmd("RCPT TO:<SRS0=abcd=ZZ=remote.test=carol@mx.test.example>")
        assert r.code == 550 and r.text.startswith("5.7.1"), r
        assert "SRS" in r.text
    finally:
        c.close()


POSTSRSD = shutil.which("postsrsd") or "/usr/sbin/postsrsd"


class PostSRSd:
    """postsrsd on loopback ports of its own, in the foreground (no -D):
    Postfix's tcp_table lookups, "get ADDRESS" -> "200 RESULT"."""

    def __init__(self, secret_file, domain):
        self.fwd, self.rev = free_port(), free_port()
        self.proc = subprocess.Popen([POSTSRSD, f"-s{secret_file}", f"-d{domain}", "-l127.0.0.1", "-4",
                                      f"-f{self.fwd}", f"-r{self.rev}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.fwd)
        wait_port(self.rev)

    def ask(self, port, address):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(f"get {urllib.parse.quote(address, safe='@=+')}\n".encode())
            line = s.makefile("rb").readline().decode().strip()
        code, _, value = line.partition(" ")
        return code, urllib.parse.unquote(value)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.mark.skipif(not os.path.exists(POSTSRSD), reason="postsrsd not installed (scripts/deps.sh)")
def test_postsrsd_and_hostmail_agree_on_the_same_secret(world):
    h = world["h"]
    srsd = PostSRSd(os.path.join(h.data_dir, "srs.secret"), "mx.test.example")
    try:
        msg, _ = forward_one(world)
        ours = re.search(rb"^Return-Path: <([^>]*)>", msg, re.M).group(1).decode()
        # postsrsd makes the very same address for the same sender today
        # (the hash's base64 with '+' and '/', as postsrsd 1.x writes it) ...
        code, theirs_carol = srsd.ask(srsd.fwd, CAROL)
        assert code == "200" and theirs_carol == ours
        # ... and reverses ours to the original sender ...
        assert srsd.ask(srsd.rev, ours) == ("200", CAROL)
        # ... and an SRS1 address of another hop agrees too
        code, srs1 = srsd.ask(srsd.fwd, "SRS0=abcd=AB=orig.example=user@hop.example")
        assert code == "200" and srs1.startswith("SRS1=")
        assert srsd.ask(srsd.rev, srs1) == ("200", "SRS0=abcd=AB=orig.example=user@hop.example")
        # its addresses for senders hostmail never saw are taken by hostmail
        # at RCPT (some with '+' or '/' in the hash, at these odds)
        c = RawSMTP(h.smtp_port)
        try:
            c.reply()
            c.cmd("EHLO mx.remote.test")
            assert c.cmd("MAIL FROM:<>").code == 250
            for k in range(20):
                code, theirs = srsd.ask(srsd.fwd, f"erin{k}@remote.test")
                assert code == "200" and theirs.startswith("SRS0=")
                r = c.cmd(f"RCPT TO:<{theirs}>")
                assert r.code == 250, (theirs, r)
            c.cmd("RSET")
        finally:
            c.close()
    finally:
        srsd.stop()
