"""Forwarding to an outside address (issue 19; docs/routing.md), end to
end: a DKIM-signed message from an outside sender to an alias arrives at a
real receiving Postfix with an SRS0 envelope sender and its signature
still valid (python3-dkim verifies it); a bounce to that SRS address comes
back through hostmaild to the original sender; a forged one is refused."""
import os
import re
import smtplib
import subprocess
import uuid

import pytest

from conftest import Hostmail, RawSMTP, setup_demo
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
    assert re.fullmatch(r"SRS0=[A-Za-z0-9_-]{4}=[A-Z2-7]{2}=remote\.test=carol@mx\.test\.example", rp), rp
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
