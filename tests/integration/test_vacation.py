"""The autoresponder (issue 19, docs/vacation.md): RFC 3834 replies from a
mailbox, once per sender per period, never to <>, lists, bulk or
automatic mail, only inside its dates. The reply leaves through the normal
outbound queue: dnsmasq gives remote.test's MX, a second hostmaild on
loopback receives it, and the test reads it there as its user would."""
import datetime
import os
import smtplib

import pytest

from conftest import wait_for
from test_outbound import DNS, STANDARD_DNS, make_remote, make_sender

ALICE = "alice@acme.test"
SOMEONE, OTHER = "someone@remote.test", "other@remote.test"


@pytest.fixture
def world(tmp_path):
    dns = DNS(tmp_path).start(*STANDARD_DNS)
    remote = make_remote(tmp_path).start()
    h = make_sender(tmp_path, dns, remote.smtp_port)
    yield h, remote
    try:
        h.stop()
        remote.stop()
    finally:
        dns.stop()


def send(h, sender, data, rcpt=ALICE):
    with smtplib.SMTP("127.0.0.1", h.smtp_port, local_hostname="mx.remote.test", timeout=15) as s:
        s.sendmail(sender, [rcpt], data)


def msg(frm, msgid, to=ALICE, extra="", subject="Meeting"):
    return (f"From: Someone <{frm}>\r\nTo: Alice <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{msgid}>\r\n{extra}\r\nHello Alice.\r\n").encode()


def vacation_on(h, addr=ALICE, *args):
    h.ctl("mailbox", "vacation", addr, "on", "--subject", "Out of office",
          "--text", "I am away until Monday.\nYour mail will be read then.", *args)


def replies(remote, addr):
    return [m for m in remote.messages(addr) if b"Auto-Submitted: auto-replied" in m]


def test_reply_once_with_rfc3834_headers(world):
    h, remote = world
    vacation_on(h)
    h.start()
    send(h, SOMEONE, msg(SOMEONE, "m1@remote.test", extra="References: <m0@remote.test>\r\n"))
    wait_for(lambda: replies(remote, SOMEONE), 30, "the reply at the remote MX")
    r = replies(remote, SOMEONE)[0]
    head = r.split(b"\n\n", 1)[0].decode()
    assert "Return-Path: <>" in head, "envelope sender <> (RFC 3834 3.3)"
    assert "From: <alice@acme.test>" in head and "To: <someone@remote.test>" in head
    assert "Subject: Out of office" in head
    assert "In-Reply-To: <m1@remote.test>" in head
    assert "<m0@remote.test>" in head and head.count("<m1@remote.test>") == 2, head
    assert "I am away until Monday.\nYour mail will be read then." in r.decode()
    # the second message from the same sender within the period: no second reply
    send(h, SOMEONE, msg(SOMEONE, "m2@remote.test"))
    h.wait_log(r"vacation: no reply to <someone@remote\.test>: answered within the period")
    assert len(h.messages(ALICE)) == 2, "both delivered"
    h.ctl("queue", "flush")
    wait_for(lambda: not os.listdir(os.path.join(h.data_dir, "queue", "env")), 20, "an empty queue")
    assert len(replies(remote, SOMEONE)) == 1


@pytest.mark.parametrize("case,sender,extra,reason", [
    ("null", "", "", "null-sender"),
    ("list", SOMEONE, "List-Id: <team.lists.remote.test>\r\n", "list"),
    ("list-unsub", SOMEONE, "List-Unsubscribe: <mailto:leave@remote.test>\r\n", "list"),
    ("auto", SOMEONE, "Auto-Submitted: auto-generated\r\n", "auto-submitted"),
    ("bulk", SOMEONE, "Precedence: bulk\r\n", "precedence"),
    ("bcc", SOMEONE, "", "not-addressed"),
])
def test_never_replies_to(world, case, sender, extra, reason):
    h, remote = world
    vacation_on(h)
    h.start()
    to = "team@remote.test" if case == "bcc" else ALICE
    send(h, sender, msg(SOMEONE, f"{case}@remote.test", to=to, extra=extra))
    h.wait_log(rf"vacation: no reply to \S+: {reason}\n")
    # a message that is answered shows the way out works; the first never was
    send(h, OTHER, msg(OTHER, "ok@remote.test"))
    wait_for(lambda: replies(remote, OTHER), 30, "the reply to the ordinary message")
    assert replies(remote, SOMEONE) == []


def test_dates_and_off(world):
    h, remote = world
    today = datetime.datetime.now(datetime.timezone.utc).date()
    tomorrow, yesterday = today + datetime.timedelta(days=1), today - datetime.timedelta(days=1)
    vacation_on(h, ALICE, "--start", str(tomorrow))
    h.start()
    send(h, SOMEONE, msg(SOMEONE, "early@remote.test"))
    h.wait_log(r"to=<alice@acme\.test>: delivered to maildir")
    vacation_on(h, ALICE, "--start", str(yesterday), "--end", str(yesterday))
    send(h, SOMEONE, msg(SOMEONE, "late@remote.test"))
    h.wait_log(r"to=<alice@acme\.test>: delivered to maildir", count=2)
    h.ctl("mailbox", "vacation", ALICE, "off")
    send(h, SOMEONE, msg(SOMEONE, "off@remote.test"))
    h.wait_log(r"to=<alice@acme\.test>: delivered to maildir", count=3)
    assert "vacation:" not in h.logtext()
    # in force today: answered
    vacation_on(h, ALICE, "--start", str(today), "--end", str(today))
    send(h, SOMEONE, msg(SOMEONE, "now@remote.test"))
    wait_for(lambda: replies(remote, SOMEONE), 30, "the reply")
    out = h.ctl("mailbox", "vacation", ALICE, "show").stdout
    assert f"start: {today}\n" in out and "vacation: on\n" in out
    bad = h.ctl("mailbox", "vacation", ALICE, "on", "--text", "x", "--start", "2026-13-01", check=False)
    assert bad.returncode == 1


def test_reply_is_dkim_signed(world):
    h, remote = world
    h.ctl("domain", "add", "acme", "signed.test")       # with DKIM keys
    h.ctl("mailbox", "add", "carol@signed.test", input="carol-secret\n")
    vacation_on(h, "carol@signed.test")
    h.start()
    send(h, SOMEONE, msg(SOMEONE, "s1@remote.test", to="carol@signed.test"), rcpt="carol@signed.test")
    wait_for(lambda: replies(remote, SOMEONE), 30, "the reply")
    r = replies(remote, SOMEONE)[0]
    assert b"DKIM-Signature:" in r and b"d=signed.test" in r


def test_acc_sets_the_autoresponder(world):
    from acc_client import AccClient
    h, remote = world
    h.ctl("account", "passwd", "acme", input="acme-acc-secret\n")
    h.start()
    c = AccClient(h)
    assert c.login("acme", "acme-acc-secret").status in (302, 303)
    mail = c.get("/mail")
    assert "Autoresponder: <b>off</b>" in mail.text
    form = c.get("/mail/vacation?address=alice@acme.test")
    assert form.status == 200 and 'name="text"' in form.text
    r = c.post("/mail/vacation", {"csrf": form.csrf(), "address": ALICE, "enabled": "on",
                                  "subject": "Away", "text": "Back soon.\r\nAlice", "start": "", "end": ""})
    assert r.status == 303, r
    assert "Autoresponder: <b>on</b>" in c.get("/mail").text
    shown = h.ctl("mailbox", "vacation", ALICE, "show").stdout
    assert "vacation: on\nsubject: Away\n" in shown and "Back soon." in shown
    # a bad date is refused with the store's reason, nothing changed
    r = c.post("/mail/vacation", {"csrf": form.csrf(), "address": ALICE, "enabled": "on",
                                  "text": "x", "start": "2026-02-30"})
    assert r.status == 303
    assert "was not changed" in c.get("/mail").text
    assert "subject: Away\n" in h.ctl("mailbox", "vacation", ALICE, "show").stdout
    # another account's mailbox is not ours to change
    r = c.post("/mail/vacation", {"csrf": form.csrf(), "address": "someone@remote.test", "text": "x"})
    assert r.status == 404
    send(h, SOMEONE, msg(SOMEONE, "acc@remote.test"))
    wait_for(lambda: replies(remote, SOMEONE), 30, "the reply")
    assert b"Subject: Away" in replies(remote, SOMEONE)[0]
