"""Mailbox quotas (issue 19, docs/quotas.md): a per-mailbox storage limit
kept in the Maildir++ maildirsize file. Real clients: smtplib for the MX
role and submission, poplib for DELE; the refusals are checked by their
codes (552 5.2.2 at RCPT with SIZE, after DATA without it, 452 4.2.2 with
quota_full = temporary), the file by its Maildir++ format."""
import os
import poplib
import re
import smtplib
import ssl

import pytest

from conftest import message_files, wait_for

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
BOB = "bob@acme.test"


def smtp(h):
    return smtplib.SMTP("127.0.0.1", h.smtp_port, local_hostname="client.test", timeout=15)


def message(size, subject="hello", to=ALICE, frm="someone@outside.test"):
    body = ("x" * 70 + "\r\n") * (size // 72 + 1)
    return (f"From: <{frm}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n" + body).encode()


def maildirsize(h, addr=ALICE):
    with open(os.path.join(h.maildir(addr), "maildirsize")) as f:
        return f.read()


def usage(text):
    """(quota line, bytes, count) of a maildirsize file, checked against the Maildir++ format."""
    lines = text.split("\n")
    assert lines[-1] == "", "maildirsize ends with a newline"
    assert re.fullmatch(r"(\d+S)?(,?\d+C)?", lines[0]), lines[0]
    b = c = 0
    for ln in lines[1:-1]:
        m = re.fullmatch(r"\s*(-?\d+)\s+(-?\d+)\s*", ln)
        assert m, f"usage line {ln!r}"
        b += int(m.group(1))
        c += int(m.group(2))
    return lines[0], b, c


def disk_usage(h, addr=ALICE):
    files = message_files(h, addr)
    return sum(os.path.getsize(p) for p in files), len(files)


def deliver(h, size, to=ALICE, subject="hello"):
    n = len(message_files(h, to))
    with smtp(h) as s:
        s.sendmail("someone@outside.test", [to], message(size, subject, to))
    wait_for(lambda: len(message_files(h, to)) > n, 20, "the delivery")
    # The message is linked into new/ before its line is appended to
    # maildirsize (as Dovecot does too): wait for the file to count it.
    wait_for(lambda: maildirsize_settled(h, to), 20, "maildirsize to count the delivery")


def maildirsize_settled(h, addr):
    try:
        text = maildirsize(h, addr)
    except FileNotFoundError:
        return True     # no quota file: nothing to wait for
    if not text.endswith("\n"):
        return False    # a line half written
    return usage(text)[2] == len(message_files(h, addr))


@pytest.fixture
def quota_server(make_server):
    def make(extra="", quota="10000"):
        h = make_server(extra)
        h.ctl("mailbox", "quota", ALICE, quota)
        return h
    return make


def test_maildirsize_format_and_rcpt_size(quota_server):
    h = quota_server()
    deliver(h, 3000)
    qline, b, c = usage(maildirsize(h))
    assert qline == "10000S"
    assert (b, c) == disk_usage(h), "maildirsize agrees with the Maildir"
    with smtp(h) as s:
        s.ehlo()
        assert s.mail("someone@outside.test", ["SIZE=20000"])[0] == 250
        code, text = s.rcpt(ALICE)
        assert (code, text[:5]) == (552, b"5.2.2"), text
        assert s.rcpt(BOB)[0] == 250, "another mailbox is not full"
        s.rset()
        assert s.mail("someone@outside.test", ["SIZE=2000"])[0] == 250
        assert s.rcpt(ALICE)[0] == 250, "a message that fits is taken"
    out = h.ctl("mailbox", "show", ALICE).stdout
    assert "quota_bytes: 10000\n" in out and f"quota_used_bytes: {b}\n" in out, out


def test_full_after_data_then_pop3_dele_frees(quota_server):
    h = quota_server()
    deliver(h, 6000)
    with smtp(h) as s:       # no SIZE: RCPT cannot tell, DATA can
        s.ehlo()
        s.mail("someone@outside.test")
        assert s.rcpt(ALICE)[0] == 250
        code, text = s.data(message(6000))
        assert (code, text[:5]) == (552, b"5.2.2"), text
    assert len(message_files(h, ALICE)) == 1
    p = poplib.POP3("127.0.0.1", h.pop3_port, timeout=10)
    p.stls(ssl.create_default_context(cafile=h.pki["ca"]))
    p.user(ALICE)
    p.pass_(ALICE_PW)
    p.dele(1)
    p.quit()
    _, b, c = usage(maildirsize(h))
    assert (b, c) == (0, 0), "DELE gave the space back in maildirsize"
    deliver(h, 6000)
    assert (usage(maildirsize(h))[1:]) == disk_usage(h)


def test_quota_full_temporary(quota_server):
    h = quota_server("[limits]\nquota_full = temporary\n")
    deliver(h, 6000)
    with smtp(h) as s:
        s.ehlo()
        s.mail("someone@outside.test", ["SIZE=9000"])
        code, text = s.rcpt(ALICE)
        assert (code, text[:5]) == (452, b"4.2.2"), text
        s.rset()
        s.mail("someone@outside.test")
        assert s.rcpt(ALICE)[0] == 250
        code, text = s.data(message(6000))
        assert (code, text[:5]) == (452, b"4.2.2"), text


def test_only_some_recipients_full_bounce_for_those(quota_server):
    h = quota_server()
    deliver(h, 6000)
    with smtp(h) as s:
        # smtplib declares SIZE: the full mailbox is refused at RCPT, the other takes it
        refused = s.sendmail(BOB, [ALICE, BOB], message(6000, "sized", BOB, BOB))
        assert refused == {ALICE: (552, b"5.2.2 Mailbox full")}
        s.ehlo()
        s.mail(BOB)          # without SIZE: both pass RCPT, DATA is taken for bob
        assert s.rcpt(ALICE)[0] == 250 and s.rcpt(BOB)[0] == 250
        assert s.data(message(6000, "to both", BOB, BOB))[0] == 250
    # bob has the message and, as its sender, the failure report for alice
    msgs = h.wait_messages(BOB, 3, timeout=20)
    assert len(msgs) == 3
    report = [m for m in msgs if b"multipart/report" in m]
    assert report and b"5.2.2" in report[0] and ALICE.encode() in report[0]
    assert len(message_files(h, ALICE)) == 1


def pop_delete_all(h):
    p = poplib.POP3("127.0.0.1", h.pop3_port, timeout=10)
    p.stls(ssl.create_default_context(cafile=h.pki["ca"]))
    p.user(ALICE)
    p.pass_(ALICE_PW)
    for n in range(1, len(p.list()[1]) + 1):
        p.dele(n)
    p.quit()


def warnings(h):
    return [m for m in h.messages(ALICE) if b"Subject: Your mailbox is" in m]


def test_warning_once_at_90_percent(quota_server):
    h = quota_server(quota="20000")
    deliver(h, 18300)           # about 92 %
    wait_for(lambda: warnings(h), 15, "the warning")
    w = warnings(h)
    assert len(w) == 1 and b"Auto-Submitted: auto-generated" in w[0] and b"alice@acme.test" in w[0]
    deliver(h, 300)             # still above 90 %: no second one
    h.wait_log(r"to=<alice@acme\.test>: delivered to maildir", count=2)
    assert len(warnings(h)) == 1
    assert usage(maildirsize(h))[1:] == disk_usage(h), "the warning is counted too"
    pop_delete_all(h)           # usage falls below: the next crossing warns again
    deliver(h, 18300)
    wait_for(lambda: warnings(h), 15, "the second warning")
    assert len(warnings(h)) == 1 and len(h.messages(ALICE)) == 2
    assert usage(maildirsize(h))[1:] == disk_usage(h)


def test_account_default_and_ctl(quota_server):
    h = quota_server(quota="default")
    h.ctl("account", "limits", "acme", "--mailbox-quota", "1M")
    out = h.ctl("mailbox", "show", BOB).stdout
    assert "quota_bytes: 1048576 (account default)\n" in out, out
    h.ctl("mailbox", "quota", BOB, "5K", "--messages", "1")
    out = h.ctl("mailbox", "show", BOB).stdout
    assert "quota_bytes: 5120\n" in out and "quota_messages: 1\n" in out, out
    deliver(h, 100, to=BOB)
    with smtp(h) as s:
        s.ehlo()
        s.mail("someone@outside.test")
        code, text = s.rcpt(BOB)
        assert (code, text[:5]) == (552, b"5.2.2"), "one message is the limit"
    r = h.ctl("mailbox", "quota", BOB, "lots", check=False)
    assert r.returncode != 0 and "SIZE" in r.stderr


def test_acc_shows_usage(quota_server):
    from acc_client import AccClient
    h = quota_server()
    h.ctl("account", "passwd", "acme", input="acme-acc-secret\n")
    deliver(h, 3000)
    c = AccClient(h)
    assert c.login("acme", "acme-acc-secret").status in (302, 303)
    page = c.get("/mail")
    assert page.status == 200
    used, _ = disk_usage(h)
    sect = page.text.split('<section class="mailbox"')
    alice = [s for s in sect if "<h2>alice@acme.test</h2>" in s][0]
    bob = [s for s in sect if "<h2>bob@acme.test</h2>" in s][0]
    pct = used * 100 // 10000
    assert f'class="limit">9.8 KiB</b> (<span class="percent">{pct}%</span>)' in alice, alice
    assert "in 1 message " in alice
    assert "Storage used: <b class=\"used\">0 bytes</b> in 0 messages (no limit)" in bob


def test_migrate_from_sqlite_keeps_quotas_and_autoresponders(tmp_path, pg_cluster, pg_dsn):
    from conftest import Hostmail, setup_demo
    from pg import store_config
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = setup_demo(Hostmail(tmp_path / "old", extra="\n[store]\nbackend = sqlite\n"))
    old.ctl("account", "limits", "acme", "--mailbox-quota", "1M")
    old.ctl("mailbox", "quota", ALICE, "5K", "--messages", "7")
    old.ctl("mailbox", "vacation", BOB, "on", "--subject", "Away", "--text", "Back soon.")
    new = Hostmail(tmp_path / "new", extra=store_config(pg_dsn))
    new.ctl("db", "init")
    new.ctl("db", "migrate-from-sqlite", old.data_dir)
    a = new.ctl("mailbox", "show", ALICE).stdout
    assert "quota_bytes: 5120\n" in a and "quota_messages: 7\n" in a, a
    b = new.ctl("mailbox", "show", BOB).stdout
    assert "quota_bytes: 1048576 (account default)\n" in b and "vacation: on\n" in b, b
    assert "subject: Away\n" in new.ctl("mailbox", "vacation", BOB, "show").stdout


def test_dovecot_reads_the_same_quota(tmp_path_factory):
    import imaplib
    import socket
    from conftest import Hostmail, setup_demo
    from dovecot import Dovecot, have_dovecot
    if not have_dovecot():
        pytest.skip("dovecot-imapd not installed")
    h = setup_demo(Hostmail(tmp_path_factory.mktemp("dq")))   # short: Dovecot's socket paths
    dc = Dovecot(h)
    h.ctl("mailbox", "quota", ALICE, "20000")
    h.start()
    dc.start()
    try:
        deliver(h, 3000)
        _, b, c = usage(maildirsize(h))
        ctx = ssl.create_default_context(cafile=h.pki["ca"])
        imap = imaplib.IMAP4_SSL("127.0.0.1", dc.imaps_port, ssl_context=ctx, timeout=15)
        imap.login(ALICE, ALICE_PW)
        typ, data = imap.getquotaroot("INBOX")
        assert typ == "OK", data
        text = " ".join(x.decode() if isinstance(x, bytes) else str(x) for part in data for x in part)
        m = re.search(r"STORAGE (\d+) (\d+)", text)
        assert m, text
        # IMAP counts kilobytes (rounded up): Dovecot read our maildirsize and the store's limit
        assert (int(m.group(1)), int(m.group(2))) == ((b + 1023) // 1024, (20000 + 1023) // 1024), text
        assert c == 1
        imap.logout()
    finally:
        dc.stop()
        h.stop()
    dc.check_log()
