"""IMAP for every mailbox (issue 20): a real Dovecot (Debian's
dovecot-imapd) started from what `hostmailctl dovecot-config` prints, on
the Maildirs and accounts of a real hostmaild, as customers meet it:
Python's imaplib and isync's mbsync log in with the mailbox password, read
what hostmail delivered, set flags and expunge; wrong passwords, suspended
accounts and passwords before TLS are refused; an IMAP login authorizes
relaying as a POP3 login does; POP3 and IMAP share one mailbox under
inbound mail without losing, duplicating or resurrecting a message.

One hostmaild and one Dovecot serve the whole module (a Dovecot takes a
second to start); each test uses its own mailboxes and client addresses."""
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import threading

import pytest

from acc_client import AccClient
from conftest import Hostmail, wait_for
from dovecot import Dovecot, have_dovecot

pytestmark = pytest.mark.skipif(not have_dovecot(), reason="Dovecot (dovecot-imapd) is not installed: scripts/deps.sh")

PASSWORDS = {"alice@acme.test": "alice-secret", "bob@acme.test": "bob-secret",
             "carol@acme.test": "carol-secret", "erin@acme.test": "erin-secret",
             "dan@gone.test": "dan-secret"}
ACME_PW = "acme-acc-secret"        # the account's own ACC login
HOST = "acme.mail.example.net"     # acme's host name ([hostnames] pattern), in the wildcard certificate


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    hm = Hostmail(tmp_path_factory.mktemp("imap"))
    dc = Dovecot(hm)
    hm.ctl("account", "add", "acme")
    hm.ctl("domain", "add", "acme", "acme.test")
    hm.ctl("account", "add", "gone")
    hm.ctl("domain", "add", "gone", "gone.test")
    for addr, pw in PASSWORDS.items():
        hm.ctl("mailbox", "add", addr, input=pw + "\n")
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    hm.start()
    dc.start()
    yield hm, dc
    dc.stop()
    hm.stop()
    dc.check_log()


class IMAP(imaplib.IMAP4):
    """imaplib from a chosen loopback address, with TLS from the start
    (IMAPS) when tls is given, verifying the certificate for sni."""

    def __init__(self, port, source="127.0.0.1", tls=None, sni=HOST):
        self._source, self._tls, self._sni = source, tls, sni
        super().__init__("127.0.0.1", port, timeout=15)

    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))
        return self._tls.wrap_socket(s, server_hostname=self._sni) if self._tls else s


def tls_ctx(hm):
    return ssl.create_default_context(cafile=hm.pki["ca"])


def imaps(srv, user, password=None, source="127.0.0.1"):
    hm, dc = srv
    c = IMAP(dc.imaps_port, source=source, tls=tls_ctx(hm))
    c.login(user, password or PASSWORDS[user.lower()])
    return c


def deliver(hm, rcpt, subjects):
    """Mail for rcpt through hostmail's MX listener, as the internet sends it."""
    with smtplib.SMTP("127.0.0.1", hm.smtp_port, timeout=15) as s:
        for subj in subjects:
            s.sendmail("someone@elsewhere.example", [rcpt],
                       f"From: someone@elsewhere.example\r\nTo: {rcpt}\r\nSubject: {subj}\r\n"
                       f"Message-ID: <{subj}@elsewhere.example>\r\n\r\nbody of {subj}\r\n")


def imap_subjects(c):
    """{sequence number: subject} of the selected mailbox."""
    typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = {}
    for item in data:
        if isinstance(item, tuple):
            seq = int(item[0].split()[0])
            out[seq] = item[1].decode().split(":", 1)[1].strip()
    return out


def pop_session(hm, user):
    p = poplib.POP3_SSL("127.0.0.1", hm.pop3s_port, context=tls_ctx(hm), timeout=15)
    p.user(user)
    p.pass_(PASSWORDS[user])
    return p


def pop_view(p):
    """{uidl: subject} over POP3 (TOP n 0: headers only)."""
    out = {}
    for line in p.uidl()[1]:
        n, uid = line.decode().split()
        head = b"\n".join(p.top(int(n), 0)[1]).decode()
        out[uid] = re.search(r"^Subject: (.*)$", head, re.M).group(1).strip()
    return out


def test_imap_login_read_flag_expunge(srv):
    """imaplib over IMAPS with the certificate of acme's own host name: the
    mailbox password works (the address in any case), a message hostmail
    delivered is listed and read, a flag set stays, an expunged message is
    gone for POP3 too; a wrong password is refused."""
    hm, dc = srv
    deliver(hm, "alice@acme.test", ["hello-1", "hello-2"])
    hm.wait_messages("alice@acme.test", 2)
    c = imaps(srv, "Alice@ACME.test", "alice-secret")
    assert c.select("INBOX") == ("OK", [b"2"])
    # The two are delivered by the queue's workers in either order, so the
    # sequence numbers are found by subject.
    seq = {subj: n for n, subj in imap_subjects(c).items()}
    assert sorted(seq) == ["hello-1", "hello-2"] and sorted(seq.values()) == [1, 2]
    typ, data = c.fetch(str(seq["hello-1"]), "(BODY[])")
    assert b"body of hello-1" in data[0][1]
    assert b"Delivered-To: alice@acme.test" in data[0][1]
    c.store(str(seq["hello-1"]), "+FLAGS", "(\\Flagged)")
    c.store(str(seq["hello-2"]), "+FLAGS", "(\\Deleted)")
    c.expunge()
    c.logout()

    c = imaps(srv, "alice@acme.test")
    assert c.select("INBOX") == ("OK", [b"1"])
    assert b"\\Flagged" in c.fetch("1", "(FLAGS)")[1][0]
    c.logout()
    p = pop_session(hm, "alice@acme.test")
    assert list(pop_view(p).values()) == ["hello-1"]
    p.quit()

    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imaps(srv, "alice@acme.test", "alice-wrong")


def test_suspended_account_refused(srv):
    """A suspended account cannot log in to IMAP either, and is told why
    (only with the right password); resumed, it can again."""
    hm, dc = srv
    imaps(srv, "dan@gone.test").logout()
    hm.ctl("account", "suspend", "gone")
    with pytest.raises(imaplib.IMAP4.error, match="not in good standing"):
        imaps(srv, "dan@gone.test")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imaps(srv, "dan@gone.test", "dan-wrong")
    hm.ctl("account", "resume", "gone")
    imaps(srv, "dan@gone.test").logout()


def test_no_password_before_tls(srv):
    """On the STARTTLS port, from another address (Dovecot trusts a client
    on its own address), no login is offered or accepted before TLS; after
    STARTTLS with acme's host name the same password works."""
    hm, dc = srv
    c = IMAP(dc.imap_port, source="127.0.0.2")
    assert "LOGINDISABLED" in c.capabilities
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED|disallowed"):
        c.login("bob@acme.test", PASSWORDS["bob@acme.test"])
    with pytest.raises(imaplib.IMAP4.error):
        c.authenticate("PLAIN", lambda _: b"\0bob@acme.test\0" + PASSWORDS["bob@acme.test"].encode())
    c.starttls(ssl_context=tls_ctx(hm))   # verifies the default certificate for 127.0.0.1
    assert c.login("bob@acme.test", PASSWORDS["bob@acme.test"])[0] == "OK"
    c.logout()


def grants(hm):
    return [line.split() for line in hm.ctl("relay", "list").stdout.splitlines()]


def relay_try(hm, source):
    """RCPT of a remote recipient from source on the MX port: the code."""
    with smtplib.SMTP("127.0.0.1", hm.smtp_port, timeout=15, source_address=(source, 0)) as s:
        s.ehlo("client.example")
        s.mail("alice@acme.test")
        code, _ = s.rcpt("friend@remote.example")
        if code == 250:
            code, _ = s.data(b"From: alice@acme.test\r\nTo: friend@remote.example\r\nSubject: hi\r\n\r\nhi\r\n")
        return code


def test_imap_before_smtp(srv):
    """An IMAP login authorizes its address to relay without SMTP AUTH, as a
    POP3 login does: recorded in the same grants (`relay list`), for the
    mailbox's account, that address only; a failed login grants nothing."""
    hm, dc = srv
    assert relay_try(hm, "127.0.0.3") == 554
    with pytest.raises(imaplib.IMAP4.error):
        imaps(srv, "alice@acme.test", "alice-wrong", source="127.0.0.5")
    imaps(srv, "alice@acme.test", source="127.0.0.3").logout()
    g = wait_for(lambda: [x for x in grants(hm) if x[0] == "127.0.0.3"], what="the IMAP login's grant")
    assert g[0][1:3] == ["acme", "alice@acme.test"]
    assert relay_try(hm, "127.0.0.3") == 250
    assert relay_try(hm, "127.0.0.4") == 554
    assert not [x for x in grants(hm) if x[0] == "127.0.0.5"]


def test_mbsync(srv, tmp_path):
    """isync's mbsync, a real IMAP client: it fetches what hostmail
    delivered with the mailbox password, then sends back a flag (seen) and
    a deletion, which POP3 then shows."""
    hm, dc = srv
    if not shutil.which("mbsync"):
        pytest.skip("mbsync (isync) is not installed: scripts/deps.sh")
    deliver(hm, "carol@acme.test", ["sync-keep", "sync-drop"])
    hm.wait_messages("carol@acme.test", 2)
    local = tmp_path / "mail"
    local.mkdir()
    rc = tmp_path / "mbsyncrc"
    rc.write_text(f"""IMAPAccount hm
Host localhost
Port {dc.imaps_port}
User carol@acme.test
Pass {PASSWORDS["carol@acme.test"]}
SSLType IMAPS
CertificateFile {hm.pki["ca"]}

IMAPStore hm-far
Account hm

MaildirStore hm-near
Path {local}/
Inbox {local}/INBOX

Channel hm
Far :hm-far:
Near :hm-near:
Patterns INBOX
Create Near
Expunge Both
SyncState *
""")

    def sync():
        r = subprocess.run(["mbsync", "-c", str(rc), "-a"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

    sync()
    files = {}
    for sub in ("new", "cur"):
        for name in os.listdir(local / "INBOX" / sub):
            text = (local / "INBOX" / sub / name).read_text()
            files[re.search(r"^Subject: (.*)$", text, re.M).group(1)] = local / "INBOX" / sub / name
    assert sorted(files) == ["sync-drop", "sync-keep"]
    # what a mail program does on the near side: read one, delete the other
    keep, drop = files["sync-keep"], files["sync-drop"]
    os.rename(keep, local / "INBOX" / "cur" / (keep.name.split(":")[0] + ":2,S"))
    os.rename(drop, local / "INBOX" / "cur" / (drop.name.split(":")[0] + ":2,T"))
    sync()
    c = imaps(srv, "carol@acme.test")
    c.select("INBOX")
    assert imap_subjects(c) == {1: "sync-keep"}
    assert b"\\Seen" in c.fetch("1", "(FLAGS)")[1][0]
    c.logout()
    p = pop_session(hm, "carol@acme.test")
    assert list(pop_view(p).values()) == ["sync-keep"]
    p.quit()


def test_pop3_and_imap_share_a_mailbox(srv):
    """POP3 (hostmail) and IMAP (Dovecot) on one Maildir while mail keeps
    arriving: a message deleted over POP3 leaves IMAP, one expunged over
    IMAP leaves POP3, flags set over IMAP survive POP3 sessions, POP3 UIDLs
    stay the same when Dovecot renames the files (the :2,FLAGS suffix), and
    in the end both see exactly the messages delivered and not deleted,
    each once."""
    hm, dc = srv
    addr = "erin@acme.test"
    deliver(hm, addr, [f"m{i}" for i in range(10)])
    hm.wait_messages(addr, 10)
    p = pop_session(hm, addr)
    uidls_before = pop_view(p)
    p.quit()

    late = [f"late{i}" for i in range(30)]
    sender = threading.Thread(target=deliver, args=(hm, addr, late))
    sender.start()
    deleted = set()
    try:
        p = pop_session(hm, addr)                  # POP3 lists the maildrop and stays open
        nums = {subj: n for n, subj in enumerate(pop_view(p).values(), 1)}
        # meanwhile IMAP flags every message (Dovecot renames the files) and
        # expunges m0, m1
        c = imaps(srv, addr)
        c.select("INBOX")
        c.store("1:*", "+FLAGS", "(\\Seen \\Flagged)")
        for seq, subj in imap_subjects(c).items():
            if subj in ("m0", "m1"):
                c.store(str(seq), "+FLAGS", "(\\Deleted)")
                deleted.add(subj)
        c.expunge()
        # the open POP3 session: the expunged message is gone, a renamed one
        # is still served; it deletes m2, m3
        with pytest.raises(poplib.error_proto, match="removed by another program"):
            p.retr(nums["m0"])
        assert b"body of m5" in b"\n".join(p.retr(nums["m5"])[1])
        for subj in ("m2", "m3"):
            p.dele(nums[subj])
            deleted.add(subj)
        p.quit()
        # IMAP's open session sees them go at its next command
        c.noop()
        assert not {"m2", "m3"} & set(imap_subjects(c).values())
        c.logout()
        # Dovecot renamed every file (flags); the unique names, POP3's UIDLs, stay
        p = pop_session(hm, addr)
        view = pop_view(p)
        p.quit()
        for uid, subj in uidls_before.items():
            if subj not in deleted:
                assert view.get(uid) == subj
    finally:
        sender.join()
    # every late message was accepted (250): once none waits in the queue,
    # each is in the Maildir (counting files could meet a rename midway)
    wait_for(lambda: addr not in hm.ctl("queue", "list").stdout, what=f"the queue to deliver to {addr}")

    expected = sorted({f"m{i}" for i in range(10)} - deleted | set(late))
    assert deleted == {"m0", "m1", "m2", "m3"}
    c = imaps(srv, addr)
    c.select("INBOX")
    imap_view = list(imap_subjects(c).values())
    flags = c.fetch("1:*", "(FLAGS)")[1]
    p = pop_session(hm, addr)
    pop = pop_view(p)
    p.quit()
    assert sorted(imap_view) == expected           # nothing lost, nothing twice
    assert sorted(pop.values()) == expected
    for uid, subj in uidls_before.items():         # UIDLs unchanged by Dovecot's renames
        if subj not in deleted:
            assert pop[uid] == subj
    # the flags IMAP set are still there after two POP3 sessions
    flagged = [f for f, s in zip(flags, imap_view) if s.startswith("m")]
    assert flagged and all(b"\\Seen" in f and b"\\Flagged" in f for f in flagged)
    c.logout()


def test_customer_sees_imap(srv):
    """`mailbox show` and the ACC's settings (the same facts) list IMAP's
    host and ports beside SMTP and POP3; the ACC's relay page shows an
    IMAP login's grant and says IMAP logins count."""
    hm, dc = srv
    shown = hm.ctl("mailbox", "show", "bob@acme.test").stdout
    assert f"imap_host: {HOST}\n" in shown
    assert f"imap_ports: {dc.imap_port} (STARTTLS); {dc.imaps_port} (SSL/TLS)\n" in shown
    acc = AccClient(hm)
    r = acc.login("acme", ACME_PW)
    assert r.status == 303, r
    assert acc.get("/mail").settings()["bob@acme.test"] == shown
    # the servers a mail program is given: IMAP first (recommended), then POP3
    assert f"incoming: IMAP {HOST} port {dc.imaps_port} SSL/TLS (recommended)\n" in shown
    assert f"incoming: IMAP {HOST} port {dc.imap_port} STARTTLS\n" in shown
    from test_autoconfig import autoconfig, servers
    _, found = servers(autoconfig(hm, "bob@acme.test").text)
    assert found[0][:4] == ("incomingServer", "imap", HOST, dc.imaps_port), found
    assert ("incomingServer", "pop3") in [f[:2] for f in found]
    imaps(srv, "bob@acme.test", source="127.0.0.6").logout()
    wait_for(lambda: [x for x in grants(hm) if x[0] == "127.0.0.6"], what="the IMAP login's grant")
    page = acc.get("/relay").text
    assert "POP3 or IMAP login" in page
    assert re.search(r"<b>127\.0\.0\.6</b> by bob@acme\.test", page)


def test_dovecot_config_refuses_without_imap(hm):
    """Without [imap] there is nothing for Dovecot to serve: an error that
    says what to set, exit 1, and nothing on standard output; an unknown
    option is wrong usage (2); the customer is not told about IMAP."""
    r = hm.ctl("dovecot-config", check=False)
    assert r.returncode == 1 and r.stdout == ""
    assert "IMAP is not enabled: set [imap] listen and/or listen_tls" in r.stderr
    assert hm.ctl("dovecot-config", "--bogus", check=False).returncode == 2
    hm.ctl("account", "add", "acme")
    hm.ctl("domain", "add", "acme", "acme.test")
    hm.ctl("mailbox", "add", "alice@acme.test", input="alice-secret\n")
    shown = hm.ctl("mailbox", "show", "alice@acme.test").stdout
    assert "pop3_ports:" in shown and "imap_" not in shown
