"""DKIM signing (issue 17): what an authorized client sends from a hosted
domain leaves signed twice (RSA-2048 and Ed25519, relaxed/relaxed, From
oversigned), and an independent verifier (python3-dkim) accepts both
signatures on the message as a real receiving Postfix stored it, with
the keys the operator was told to publish (`hostmailctl domain dns`).
Also: a rotation keeps the old key until the new one is activated, and
nothing is signed for a From: domain the account does not host.

One Postfix (tests/integration/postfix_mx.py), one dnsmasq and one
sending hostmaild serve the whole module (per xdist worker)."""
import os
import re
import smtplib
import socket
import ssl
import uuid

import pytest

from conftest import Hostmail, setup_demo, sqlite_only, wait_for
from postfix_mx import needs_postfix, postfix_module
from test_outbound import DNS, DNSMASQ
from test_pop3 import pop_login

dkim = pytest.importorskip("dkim", reason="python3-dkim not installed (scripts/deps.sh)")

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"

pytestmark = [needs_postfix,
              pytest.mark.skipif(not os.path.exists(DNSMASQ), reason="dnsmasq not installed")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    mx = postfix_module(tmp_path_factory, name="dkim-postfix", domains=["remote.test"])
    root = tmp_path_factory.mktemp("dkim")
    dns = DNS(root).start("--mx-host=remote.test,mx.remote.test,10",
                          "--host-record=mx.remote.test,127.0.0.1")
    d = root / "sender"
    d.mkdir()
    h = Hostmail(d, extra=f"""
[queue]
retry_schedule = 1s, 2s

[delivery]
dns_servers = 127.0.0.1:{dns.port}
mx_port = {mx.port}
""")
    setup_demo(h)          # acme.test without keys (domain add --no-dkim) ...
    out = h.ctl("domain", "dkim", "acme.test").stdout  # ... gets them here, as an existing domain would
    assert re.search(r"^selector: hm1-ed25519 ed25519-sha256 active", out, re.M), out
    h.start()
    try:
        yield {"mx": mx, "h": h}
    finally:
        try:
            h.stop()
        finally:
            dns.stop()
            mx.stop()


def published(h, domain):
    """The TXT records `hostmailctl domain dns` tells the customer to
    publish: {owner name with dot: text with its strings joined}."""
    out = h.ctl("domain", "dns", domain).stdout
    recs = {}
    for line in out.splitlines():
        m = re.match(r'^(\S+) 3600 IN TXT ((?:"[^"]*" ?)+)$', line)
        if m:
            strings = re.findall(r'"([^"]*)"', m.group(2))
            assert all(len(s) <= 255 for s in strings), line
            recs[m.group(1)] = "".join(strings)
    return recs


def verify_all(msg, recs):
    """Each DKIM-Signature of msg verified on its own: [(a=, s=, ok)]."""
    def dnsfunc(name, timeout=5):
        return recs.get(name.decode(), "").encode()
    # a Maildir keeps LF line ends; on the wire they were CRLF
    msg = re.sub(rb"\r?\n", b"\r\n", msg)
    d = dkim.DKIM(msg)
    n = len(re.findall(rb"^DKIM-Signature:", msg, re.M | re.I))
    out = []
    for i in range(n):
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.ValidationError:
            ok = False
        out.append((d.signature_fields[b"a"].decode(), d.signature_fields[b"s"].decode(), ok))
    return out


def message(sender_from, rcpt, subject, body="Hello.\r\n"):
    return (f"From: Alice <{sender_from}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\nMessage-ID: <{uuid.uuid4()}@acme.test>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}").encode()


def submit(h, sender_from, rcpt, subject, body="Hello.\r\n"):
    """On 587: STARTTLS, AUTH as alice, the message."""
    data = message(sender_from, rcpt, subject, body)
    c = ssl.create_default_context(cafile=h.pki["ca"])
    with smtplib.SMTP("127.0.0.1", h.submission_port, local_hostname="client.test", timeout=15) as s:
        s.starttls(context=c)
        s.login(ALICE, ALICE_PW)
        s.sendmail(ALICE, [rcpt], data)


def subject():
    return "dkim-" + uuid.uuid4().hex[:12]


def test_submitted_mail_arrives_signed_twice_and_both_verify(world):
    h, mx = world["h"], world["mx"]
    subj = subject()
    body = "Line one.\r\ntrailing spaces   \r\n\r\n\r\n" + "x" * 900 + "\r\n"
    submit(h, ALICE, "someone@remote.test", subj, body)
    msg = mx.wait_message("remote.test", subj.encode())

    # Postfix put its own trace fields on top: relaxed-safe changes in transit
    assert msg.startswith(b"Return-Path:") and b"\nReceived: from " in msg
    sigs = re.findall(rb"^DKIM-Signature:.*?(?=^\S)", msg, re.M | re.S)
    assert len(sigs) == 2, msg[:3000]
    for s in sigs:
        flat = re.sub(rb"\s+", b"", s)
        assert b"c=relaxed/relaxed" in flat and b"d=acme.test" in flat
        hdrs = re.search(rb"(?:^|;)h=([^;]+)", flat).group(1).lower().split(b":")
        assert hdrs.count(b"from") == 2, hdrs          # From oversigned
        assert {b"to", b"subject", b"date", b"message-id"} <= set(hdrs)
        assert b"received" not in hdrs
    results = verify_all(msg, published(h, "acme.test"))
    assert sorted(a for a, _, _ in results) == ["ed25519-sha256", "rsa-sha256"]
    assert all(ok for _, _, ok in results), results

    # more relaxed-safe changes (header case and whitespace, refolding) still verify
    changed = msg.replace(f"Subject: {subj}".encode(), f"subject:   {subj}  ".encode())
    assert all(ok for _, _, ok in verify_all(changed, published(h, "acme.test")))
    # and the verifier is not a rubber stamp: a changed body fails both
    tampered = msg.replace(b"Line one.", b"Line 1.")
    assert not any(ok for _, _, ok in verify_all(tampered, published(h, "acme.test")))
    assert re.search(r"dkim signed d=acme\.test s=hm\d+-rsa,hm\d+-ed25519", h.logtext())


def test_rotation_signs_with_the_old_key_until_the_new_one_is_activated(world):
    h, mx = world["h"], world["mx"]
    h.ctl("domain", "add", "acme", "rot.test")
    h.ctl("mailbox", "add", "carol@rot.test", input="carol-secret\n")
    first = h.ctl("domain", "dkim", "rot.test").stdout
    assert re.search(r"^selector: hm1-rsa rsa-sha256 active", first, re.M)
    assert re.search(r"^selector: hm1-ed25519 ed25519-sha256 active", first, re.M)

    rotated = h.ctl("domain", "dkim", "rot.test", "--rotate").stdout
    assert re.search(r"^selector: hm2-rsa rsa-sha256 pending", rotated, re.M)
    assert "--activate hm2" in rotated
    recs = published(h, "rot.test")
    assert {"hm1-rsa._domainkey.rot.test.", "hm2-ed25519._domainkey.rot.test."} <= set(recs)

    # pending: still the old selectors
    subj = subject()
    submit(h, "alice@rot.test", "someone@remote.test", subj)
    msg = mx.wait_message("remote.test", subj.encode())
    res = verify_all(msg, recs)
    assert sorted(s for _, s, _ in res) == ["hm1-ed25519", "hm1-rsa"] and all(ok for *_, ok in res), res

    # the operator confirms the new records are published
    act = h.ctl("domain", "dkim", "rot.test", "--activate", "hm2").stdout
    assert re.search(r"^selector: hm1-rsa rsa-sha256 retired", act, re.M)
    assert re.search(r"^selector: hm2-ed25519 ed25519-sha256 active", act, re.M)
    subj = subject()
    submit(h, "alice@rot.test", "someone@remote.test", subj)
    msg = mx.wait_message("remote.test", subj.encode())
    res = verify_all(msg, published(h, "rot.test"))
    assert sorted(s for _, s, _ in res) == ["hm2-ed25519", "hm2-rsa"] and all(ok for *_, ok in res), res
    # a second rotation is refused while one is pending; activating it twice too
    h.ctl("domain", "dkim", "rot.test", "--rotate")
    r = h.ctl("domain", "dkim", "rot.test", "--rotate", check=False)
    assert r.returncode == 1 and "pending already" in r.stderr
    r = h.ctl("domain", "dkim", "rot.test", "--activate", "hm2", check=False)
    assert r.returncode == 1 and "no pending DKIM generation hm2" in r.stderr


def mailbox_message(h, address, needle):
    def find():
        got = [m for m in h.messages(address) if needle in m]
        return got[0] if got else None
    return wait_for(find, 20, f"a message with {needle!r} for {address}")


def test_signed_only_what_the_account_sends_from_its_own_domain(world):
    h = world["h"]
    # MX role (not authorized): From: a domain not hosted here, or even a
    # hosted one: delivered as it came, never signed
    subj, subj2 = subject(), subject()
    with smtplib.SMTP("127.0.0.1", h.smtp_port, timeout=15) as s:
        s.sendmail("x@remote.test", ["bob@acme.test"],
                   f"From: <x@elsewhere.example>\r\nSubject: {subj}\r\n\r\nhi\r\n".encode())
        s.sendmail("x@remote.test", ["bob@acme.test"],
                   f"From: <alice@acme.test>\r\nSubject: {subj2}\r\n\r\nhi\r\n".encode())
    assert b"DKIM-Signature" not in mailbox_message(h, "bob@acme.test", subj.encode())
    assert b"DKIM-Signature" not in mailbox_message(h, "bob@acme.test", subj2.encode())
    # authorized, From: a domain the account does not host: refused, so
    # nothing is ever signed for it
    with pytest.raises(smtplib.SMTPDataError) as e:
        submit(h, "someone@elsewhere.example", "someone@remote.test", subject())
    assert e.value.smtp_code == 550
    # authorized, its own domain, to a local mailbox: signed too
    subj3 = subject()
    submit(h, ALICE, "bob@acme.test", subj3)
    msg = mailbox_message(h, "bob@acme.test", subj3.encode())
    res = verify_all(msg, published(h, "acme.test"))
    assert len(res) == 2 and all(ok for *_, ok in res), res


def test_pop_before_smtp_mail_is_signed_too(world):
    h, mx = world["h"], world["mx"]
    src = "127.0.0.5"       # the grant is this address's alone
    pop_login(h, source=src).quit()
    subj = subject()
    with smtplib.SMTP("127.0.0.1", h.smtp_port, source_address=(src, 0), timeout=15) as s:
        s.sendmail(ALICE, ["someone@remote.test"], message(ALICE, "someone@remote.test", subj))
    res = verify_all(mx.wait_message("remote.test", subj.encode()), published(h, "acme.test"))
    assert len(res) == 2 and all(ok for *_, ok in res), res
    # another sender behind the granted address, to a hosted mailbox, with a
    # From: in acme.test: ordinary MX traffic, not the account's: unsigned
    subj = subject()
    with smtplib.SMTP("127.0.0.1", h.smtp_port, source_address=(src, 0), timeout=15) as s:
        s.sendmail("x@remote.test", ["bob@acme.test"], message(ALICE, "bob@acme.test", subj))
    assert b"DKIM-Signature" not in mailbox_message(h, "bob@acme.test", subj.encode())


def bdat_from(h, src, mail_from, rcpt, data):
    """One message in a single BDAT LAST chunk, on port 25 from address src."""
    s = socket.create_connection(("127.0.0.1", h.smtp_port), 15, source_address=(src, 0))
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                return int(line[:3])
    try:
        assert reply() == 220
        for cmd in ("EHLO client.test", f"MAIL FROM:<{mail_from}>", f"RCPT TO:<{rcpt}>"):
            s.sendall(cmd.encode() + b"\r\n")
            assert reply() == 250, cmd
        s.sendall(b"BDAT %d LAST\r\n" % len(data) + data)
        assert reply() == 250
        s.sendall(b"QUIT\r\n")
        reply()
    finally:
        f.close()
        s.close()


def test_bdat_message_without_final_crlf_is_signed_and_verifies(world):
    h, mx = world["h"], world["mx"]
    src = "127.0.0.6"
    pop_login(h, source=src).quit()
    subj = subject()
    data = (f"From: Alice <{ALICE}>\r\nTo: <someone@remote.test>\r\nSubject: {subj}\r\n\r\n"
            "the last line has no line end").encode()
    bdat_from(h, src, ALICE, "someone@remote.test", data)
    msg = mx.wait_message("remote.test", subj.encode())
    res = verify_all(msg, published(h, "acme.test"))
    assert len(res) == 2 and all(ok for *_, ok in res), res


def test_dns_records_in_zone_syntax(world):
    h = world["h"]
    out = h.ctl("domain", "dns", "acme.test").stdout
    assert re.search(r"^acme\.test\. 3600 IN MX 10 mx\.test\.example\.$", out, re.M)
    assert re.search(r'^acme\.test\. 3600 IN TXT "v=spf1 a:mx\.test\.example ~all"$', out, re.M)
    assert re.search(r'^_dmarc\.acme\.test\. 3600 IN TXT "v=DMARC1; p=none"$', out, re.M)
    # and the discovery records of mail programs (policy/client_dns.c)
    assert re.search(r"^_submission\._tcp\.acme\.test\. 3600 IN SRV \d+ 1 \d+ \S+\.$", out, re.M), out
    rsa = re.search(r'^hm\d+-rsa\._domainkey\.acme\.test\. 3600 IN TXT (.*)$', out, re.M).group(1)
    strings = re.findall(r'"([^"]*)"', rsa)
    assert len(strings) == 2 and len(strings[0]) == 255   # a 2048-bit key needs two strings
    assert "".join(strings).startswith("v=DKIM1; k=rsa; p=MIIB")
    assert re.search(r'^hm\d+-ed25519\._domainkey\.acme\.test\. 3600 IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$',
                     out, re.M)
    r = h.ctl("domain", "dns", "nowhere.test", check=False)
    assert r.returncode == 1 and "not hosted" in r.stderr


def test_existing_domain_gets_keys_on_first_dkim_call(hm):
    hm.ctl("account", "add", "old")
    hm.ctl("domain", "add", "old", "old.test", "--no-dkim")     # as a domain from before DKIM
    assert hm.sql("SELECT count(*) FROM dkim_keys") == [(0,)]
    assert "DKIM" not in hm.ctl("domain", "dns", "old.test").stdout
    out = hm.ctl("domain", "dkim", "old.test").stdout
    assert re.search(r"^selector: hm1-rsa rsa-sha256 active", out, re.M)
    assert "hm1-ed25519._domainkey.old.test." in hm.ctl("domain", "dns", "old.test").stdout
    # domain add makes them at once
    hm.ctl("domain", "add", "old", "new.test")
    assert hm.sql("SELECT count(*) FROM dkim_keys k JOIN domains d ON d.id = k.domain_id"
                  " WHERE d.name = 'new.test' AND k.state = 'active'") == [(2,)]


@sqlite_only()
def test_private_keys_only_for_the_daemons_user(hm):
    hm.ctl("account", "add", "old")
    hm.ctl("domain", "add", "old", "old.test")
    assert os.stat(os.path.join(hm.data_dir, "hostmail.db")).st_mode & 0o077 == 0
    assert hm.sql("SELECT count(*) FROM dkim_keys WHERE private_key LIKE '-----BEGIN PRIVATE KEY-----%'") == [(2,)]


def test_sign_no_queues_unsigned(tmp_path):
    h = Hostmail(tmp_path, extra="\n[dkim]\nsign = no\n")
    setup_demo(h)
    h.ctl("domain", "dkim", "acme.test")                 # keys exist, signing is off
    h.start()
    try:
        subj = subject()
        submit(h, ALICE, "bob@acme.test", subj)
        assert b"DKIM-Signature" not in mailbox_message(h, "bob@acme.test", subj.encode())
        assert "dkim signed" not in h.logtext()
    finally:
        h.stop()
