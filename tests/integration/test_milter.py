"""Milters (issue 18): inbound mail passes through the filters of
[milter] inbound before the reply to its end of data. The reference
filter is a real rspamd (tests/integration/rspamd.py: its proxy worker
in milter mode, started privately on loopback); a second, different real
filter (opendkim, verify mode) runs in the same chain. Small Python
milters (milter_fake.py) play the broken and hostile filters: closing in
the middle of the body, answering garbage, sleeping past the timeout.
What is checked is what a user sees: the SMTP reply, the message in the
mailbox (its headers), the queue."""
import base64
import email
import os
import shutil
import subprocess
import time

import pytest

from conftest import RawSMTP, free_port, queue_files, wait_for, wait_port
from milter_fake import FakeMilter, packet, z
from rspamd import (GREYLIST_HEADER, GTUBE_ADD_HEADER, GTUBE_REJECT, GTUBE_REWRITE_SUBJECT, Rspamd,
                    have_redis, have_rspamd)

ALICE = "alice@acme.test"
HOST = "mx.test.example"      # conftest's [server] hostname: our authserv-id

needs_rspamd = pytest.mark.skipif(not have_rspamd() or not have_redis(),
                                  reason="rspamd/redis-server not installed (scripts/deps.sh)")


def milter_conf(inbound, default_action="tempfail", timeout="60s", extra=""):
    """[milter] for inbound; the timeout is generous (a loaded machine, a
    cold rspamd): only the hostile-filter tests wait it out."""
    return (f"\n[milter]\ninbound = {inbound}\ndefault_action = {default_action}\n"
            f"timeout = {timeout}\n{extra}")


def message(body="Hello Alice,\r\nlunch at noon?\r\n", subject="lunch", extra_headers=""):
    return (f"From: Carol <carol@sender.test>\r\nTo: Alice <{ALICE}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{time.time_ns()}@sender.test>\r\nDate: Sat, 05 Dec 2026 12:00:00 +0000\r\n"
            f"{extra_headers}\r\n{body}")


def send(h, msg, rcpt=ALICE, sender="carol@sender.test"):
    """(code, text) of the reply to the end of data."""
    s = RawSMTP(h.smtp_port, timeout=60)
    try:
        assert s.reply().code == 220
        assert s.cmd("EHLO client.sender.test").code == 250
        assert s.cmd(f"MAIL FROM:<{sender}>").code == 250
        assert s.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert s.cmd("DATA").code == 354
        data = msg.replace("\r\n.", "\r\n..")
        r = s.cmd(data.encode() + b".")
        s.cmd("QUIT")
        return r.code, r.text
    finally:
        s.close()


def delivered(h, n=1):
    msgs = h.wait_messages(ALICE, n, timeout=30)
    assert len(msgs) >= n, f"{len(msgs)} message(s) in the mailbox, wanted {n}"
    return [email.message_from_bytes(m) for m in msgs]


def nothing_queued(h):
    assert queue_files(h, "env") == [] and queue_files(h, "tmp") == []
    assert h.messages(ALICE) == []


@pytest.fixture(scope="module")
def rspamd(tmp_path_factory):
    if not have_rspamd() or not have_redis():
        pytest.skip("rspamd/redis-server not installed (scripts/deps.sh)")
    r = Rspamd(tmp_path_factory.mktemp("milter"), greylist=True).start()
    yield r
    r.stop()


# ---- rspamd, the reference filter ----

@needs_rspamd
def test_rspamd_refuses_gtube_with_its_5xx(rspamd, make_server):
    h = make_server(milter_conf(rspamd.spec))
    code, text = send(h, message(body=f"buy now\r\n{GTUBE_REJECT}\r\n"))
    assert code // 100 == 5, (code, text)
    assert "Gtube" in text or "GTUBE" in text or "spam" in text.lower(), text
    time.sleep(0.5)
    nothing_queued(h)
    h.wait_log(r"milter refused filter=inet:127\.0\.0\.1:\d+ reply=")


@needs_rspamd
def test_rspamd_accepts_clean_mail_with_its_headers(rspamd, make_server):
    h = make_server(milter_conf(rspamd.spec))
    code, text = send(h, message())
    assert code == 250, text
    m = delivered(h)[0]
    assert m.get_payload() == "Hello Alice,\nlunch at noon?\n" or "lunch at noon?" in m.get_payload()
    assert m["X-Spamd-Result"] or m["X-Spam-Status"], m.keys()
    ars = m.get_all("Authentication-Results")
    assert ars and len(ars) == 1, ars
    assert ars[0].strip().startswith(HOST + ";"), ars[0]


@needs_rspamd
def test_rspamd_greylist_is_a_4xx(rspamd, make_server):
    h = make_server(milter_conf(rspamd.spec))
    # a sender of its own: rspamd then greylists this triplet (IP, sender,
    # recipient) whatever the score, and no other test uses it
    code, text = send(h, message(body="grey\r\n", extra_headers=f"{GREYLIST_HEADER}: please\r\n"),
                      sender=f"grey{time.time_ns()}@sender.test")
    assert code // 100 == 4, (code, text)
    time.sleep(0.5)
    nothing_queued(h)


@needs_rspamd
@pytest.mark.parametrize("action", ["headers", "subject", "refuse"])
def test_rspamd_spam_action(rspamd, make_server, action):
    h = make_server(milter_conf(rspamd.spec, extra=f"spam_action = {action}\nspam_subject = [SPAM]\n"))
    code, text = send(h, message(subject="cheap watches", body=f"{GTUBE_ADD_HEADER}\r\n"))
    if action == "refuse":
        assert code == 550 and "spam" in text.lower(), (code, text)
        time.sleep(0.5)
        nothing_queued(h)
        return
    assert code == 250, text
    m = delivered(h)[0]
    assert (m["X-Spam"] or "").lower() == "yes", m.items()
    if action == "subject":
        assert m["Subject"] == "[SPAM] cheap watches"
    else:
        assert m["Subject"] == "cheap watches"


@needs_rspamd
def test_rspamd_rewritten_subject_counts_as_spam(rspamd, make_server):
    h = make_server(milter_conf(rspamd.spec, extra="spam_action = subject\n"))
    code, text = send(h, message(subject="offer", body=f"{GTUBE_REWRITE_SUBJECT}\r\n"))
    assert code == 250, text
    assert delivered(h)[0]["Subject"] == "[SPAM] offer"


@needs_rspamd
@pytest.mark.parametrize("default_action", ["tempfail", "accept"])
def test_rspamd_stopped_default_action(tmp_path, make_server, default_action):
    r = Rspamd(tmp_path, greylist=False)     # never started: its port is closed
    h = make_server(milter_conf(r.spec, default_action=default_action))
    msg = message(body="kept intact\r\n")
    code, text = send(h, msg)
    if default_action == "tempfail":
        assert code == 451 and text.startswith("4.7.1"), (code, text)
        time.sleep(0.5)
        nothing_queued(h)
    else:
        assert code == 250, text
        raw = h.wait_messages(ALICE, 1)[0]
        assert raw.endswith(b"\r\n\r\nkept intact\r\n") or raw.endswith(b"\n\nkept intact\n")
        assert b"Authentication-Results" not in raw
    h.wait_log(r"milter filter=inet:127\.0\.0\.1:%d failed why=.*connect.* action=%s" % (r.port, default_action))


@needs_rspamd
def test_forged_authentication_results_removed(rspamd, make_server):
    h = make_server(milter_conf(rspamd.spec))
    forged = (f"Authentication-Results: {HOST}; dkim=pass header.d=bank.example; dmarc=pass\r\n"
              f"Authentication-Results: elsewhere.example; spf=pass smtp.mailfrom=sender.test\r\n")
    code, text = send(h, message(extra_headers=forged))
    assert code == 250, text
    m = delivered(h)[0]
    ars = m.get_all("Authentication-Results")
    ours = [a for a in ars if a.strip().lower().startswith(HOST)]
    assert len(ours) == 1, ars
    assert "bank.example" not in ours[0]
    assert any(a.strip().startswith("elsewhere.example") for a in ars), ars


# ---- the protocol, with small filters of our own ----

@pytest.fixture
def fake():
    made = []

    def make(**kw):
        f = FakeMilter(**kw)
        made.append(f)
        return f
    yield make
    for f in made:
        f.stop()


def test_filter_edits_are_applied(fake, make_server):
    """Every modification a filter may ask for at the end of the message,
    as the mailboxes then hold it; the filter was told the envelope and
    macros, and never saw the forged Authentication-Results."""
    f = fake(eom=[
        packet(b"h", z("X-Fake", "seen")),
        packet(b"i", b"\0\0\0\0" + z("X-Top", "first")),
        packet(b"m", b"\0\0\0\1" + z("X-Change-Me", "changed")),
        packet(b"m", b"\0\0\0\1" + z("X-Remove-Me", "")),
        packet(b"h", z("Authentication-Results", "fake.example; dkim=pass header.d=sender.test")),
        packet(b"+", z("<bob@acme.test>")),
        packet(b"b", b"replaced body\n"),
    ])
    h = make_server(milter_conf(f.spec))
    forged = f"Authentication-Results: {HOST.upper()}; dkim=pass header.d=bank.example\r\n"
    code, text = send(h, message(extra_headers="X-Change-Me: original\r\nX-Remove-Me: yes\r\n" + forged))
    assert code == 250, text
    for rcpt in (ALICE, "bob@acme.test"):
        raw = h.wait_messages(rcpt, 1, timeout=30)[0]
        m = email.message_from_bytes(raw)
        assert m["X-Fake"] == "seen" and m["X-Change-Me"] == "changed" and m["X-Remove-Me"] is None
        assert m.get_payload() == "replaced body\r\n" or m.get_payload() == "replaced body\n"
        assert m.get_all("Authentication-Results") == [f"{HOST};\r\n\tdkim=pass header.d=sender.test"] or \
            [a.replace("\r\n", "\n") for a in m.get_all("Authentication-Results")] == \
            [f"{HOST};\n\tdkim=pass header.d=sender.test"], m.get_all("Authentication-Results")
        keys = [k.lower() for k in m.keys()]
        assert keys.index("x-top") < keys.index("received") < keys.index("from")
    macros = f.macros()
    assert macros["j"] == HOST and macros["{client_addr}"] == "127.0.0.1"
    assert macros["{mail_addr}"] == "carol@sender.test" and macros["{rcpt_addr}"] == ALICE
    assert len(macros["i"]) == 20
    names = [n.lower() for n, _ in f.headers()]
    assert "authentication-results" not in names and "x-change-me" in names
    h.wait_log(r"milter applied headers=changed body=replaced rcpt_added=1")


@pytest.mark.parametrize("final,code,enh,delivered_n", [
    (b"y" + z("554 5.7.1 fake says no"), 554, "5.7.1 fake says no", 0),
    (b"y" + z("421 4.7.0 fake is busy"), 421, "4.7.0 fake is busy", 0),
    (b"r", 550, "5.7.1", 0),
    (b"t", 451, "4.7.1", 0),
    (b"d", 250, "2.0.0", 0),
])
def test_filter_verdicts(fake, make_server, final, code, enh, delivered_n):
    f = fake(final=final)
    h = make_server(milter_conf(f.spec))
    c, text = send(h, message())
    assert c == code and text.startswith(enh), (c, text)
    time.sleep(0.5)
    nothing_queued(h)


def test_two_filters_in_order(fake, make_server):
    """The first filter's continue lets the second decide."""
    import urllib.request
    a = fake(eom=[packet(b"h", z("X-First", "1"))])
    b = fake(final=b"y" + z("550 5.7.0 second says no"))
    mport = free_port()
    h = make_server(milter_conf(f"{a.spec}, {b.spec}") + f"\n[listen]\nmetrics = 127.0.0.1:{mport}\n")
    code, text = send(h, message())
    assert code == 550 and "second says no" in text
    assert any(cmd == b"E" for cmd, _ in a.seen) and any(cmd == b"E" for cmd, _ in b.seen)
    with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
        body = r.read().decode()
    assert 'hostmail_milter_results_total{result="continue"} 1' in body
    assert 'hostmail_milter_results_total{result="reject"} 1' in body


def _other_session_served(h):
    """A second client gets through a whole transaction while the first
    waits on its filter."""
    s = RawSMTP(h.smtp_port, timeout=10)
    try:
        assert s.reply().code == 220
        assert s.cmd("EHLO other.test").code == 250
        assert s.cmd("MAIL FROM:<dave@sender.test>").code == 250
        assert s.cmd(f"RCPT TO:<{ALICE}>").code == 250
        assert s.cmd("RSET").code == 250
        assert s.cmd("QUIT").code == 221
    finally:
        s.close()


def test_slow_filter_never_stalls_other_sessions(fake, make_server):
    """While one client waits on its filter (which answers only when the
    test lets it), another client is served a whole transaction; then the
    first gets its 250."""
    import threading
    f = fake(mode="hold")
    h = make_server(milter_conf(f.spec, timeout="120s"))
    result = {}
    t = threading.Thread(target=lambda: result.update(r=send(h, message())))
    t.start()
    try:
        wait_for(lambda: any(cmd == b"E" for cmd, _ in f.seen), 30, "the end of the message at the filter")
        _other_session_served(h)
        assert "r" not in result             # still waiting on its filter
    finally:
        f.release()
        t.join(60)
    assert result["r"][0] == 250, result
    assert len(delivered(h)) == 1


@pytest.mark.parametrize("mode", ["close_mid_body", "garbage", "sleep"])
@pytest.mark.parametrize("default_action", ["tempfail", "accept"])
def test_hostile_filter(fake, make_server, mode, default_action):
    """A filter that closes in the middle of the body, answers garbage or
    sleeps past the timeout: default_action decides, the message is
    either refused with 451 4.7.1 or delivered intact, and the log names
    the filter."""
    f = fake(mode=mode, sleep=60)
    h = make_server(milter_conf(f.spec, default_action=default_action, timeout="3s"))
    body = "".join(f"line {i} of a body long enough to take a few packets\r\n" for i in range(3000))
    code, text = send(h, message(body=body))
    if default_action == "tempfail":
        assert code == 451 and text.startswith("4.7.1"), (code, text)
        time.sleep(0.5)
        nothing_queued(h)
    else:
        assert code == 250, text
        raw = h.wait_messages(ALICE, 1)[0].replace(b"\r\n", b"\n")
        assert raw.endswith(b"\n\n" + body.replace("\r\n", "\n").encode())
    h.wait_log(r"milter filter=inet:127\.0\.0\.1:%d failed why=.* action=%s" % (f.port, default_action))


# ---- a second, different real filter: opendkim (verify mode) ----

class OpenDKIM:
    """A private opendkim in verify mode on a loopback port; the public
    keys come from a file (TestPublicKeys: opendkim's testing hook), so no
    DNS is asked."""

    def __init__(self, root):
        self.dir = os.path.join(str(root), "opendkim")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.keys = os.path.join(self.dir, "keys.txt")
        self.conf = os.path.join(self.dir, "opendkim.conf")
        self.proc = None

    @property
    def spec(self):
        return f"inet:127.0.0.1:{self.port}"

    def add_key(self, selector, domain, p):
        with open(self.keys, "a") as f:
            f.write(f"{selector}._domainkey.{domain} v=DKIM1; k=rsa; p={p}\n")

    def start(self):
        open(self.keys, "a").close()
        with open(self.conf, "w") as f:
            f.write(f"""# a private opendkim for hostmail's tests (test_milter.py)
Mode v
Socket inet:{self.port}@127.0.0.1
PidFile {self.dir}/opendkim.pid
Background no
Syslog no
AuthservID opendkim.test
AlwaysAddARHeader yes
InternalHosts 192.0.2.1/32
TestPublicKeys {self.keys}
""")
        self.proc = subprocess.Popen(["opendkim", "-f", "-x", self.conf],
                                     stdout=open(os.path.join(self.dir, "opendkim.log"), "ab"),
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, timeout=20)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _rsa_key(d):
    """(private key PEM, public key base64 for p=) made with openssl."""
    key = os.path.join(d, "dkim.key")
    subprocess.run(["openssl", "genrsa", "-out", key, "1024"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    with open(key, "rb") as f:
        return f.read(), base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def opendkim(tmp_path_factory):
    if not shutil.which("opendkim"):
        pytest.skip("opendkim not installed (scripts/deps.sh)")
    pytest.importorskip("dkim", reason="python3-dkim not installed (scripts/deps.sh)")
    root = tmp_path_factory.mktemp("opendkim")
    priv, pub = _rsa_key(str(root))
    o = OpenDKIM(root)
    o.add_key("s1", "sender.test", pub)
    o.priv = priv
    yield o.start()
    o.stop()


def _signed(priv, body="signed and sealed\r\n"):
    import dkim
    msg = message(body=body).encode()
    sig = dkim.sign(msg, b"s1", b"sender.test", priv, include_headers=[b"from", b"to", b"subject", b"date"])
    return (sig + msg).decode()


@needs_rspamd
def test_opendkim_after_rspamd_one_authentication_results(rspamd, opendkim, make_server):
    """rspamd and opendkim in one chain: one Authentication-Results naming
    this server, with opendkim's DKIM verdict (pass for a good signature,
    fail for a body changed on the way) beside rspamd's results."""
    h = make_server(milter_conf(f"{rspamd.spec}, {opendkim.spec}"))
    good = _signed(opendkim.priv)
    bad = _signed(opendkim.priv).replace("signed and sealed", "signed and altered")
    for msg in (good, bad):
        code, text = send(h, msg)
        assert code == 250, text
    msgs = delivered(h, 2)
    verdicts = []
    for m in msgs:
        ars = m.get_all("Authentication-Results")
        assert len(ars) == 1, ars
        ar = " ".join(ars[0].split())
        assert ar.startswith(HOST + ";") and "opendkim.test" not in ar, ar
        assert m["X-Spamd-Result"], m.keys()         # rspamd ran too
        verdicts.append(ar)
    assert any("dkim=pass (1024-bit key" in a and "header.d=sender.test" in a for a in verdicts), verdicts
    assert any("dkim=fail" in a and "header.d=sender.test" in a for a in verdicts), verdicts


def test_filter_quarantine_holds_the_message(fake, make_server):
    """SMFIR_QUARANTINE: the client gets its 250, the message is queued
    on hold with the filter's reason (hostmailctl queue list), delivered
    only once released."""
    f = fake(eom=[packet(b"q", z("looks odd"))])
    h = make_server(milter_conf(f.spec))
    code, text = send(h, message(body="held back\r\n"))
    assert code == 250, text
    qid = text.split()[-1]
    wait_for(lambda: qid in h.ctl("queue", "list").stdout, 20, "the message in the queue list")
    line = [ln for ln in h.ctl("queue", "list").stdout.splitlines() if ln.startswith(qid)][0]
    assert f'held="milter {f.spec}: looks odd"' in line, line
    time.sleep(1)
    assert h.messages(ALICE) == []
    h.ctl("queue", "release", qid)
    raw = h.wait_messages(ALICE, 1)[0]
    assert raw.replace(b"\r\n", b"\n").endswith(b"\n\nheld back\n")
    h.wait_log(rf"{qid}: milter applied .* hold=yes")


@needs_rspamd
def test_domain_spam_choice_overrides_the_provider(rspamd, make_server):
    """The provider delivers spam with headers; acme.test chose refuse."""
    h = make_server(milter_conf(rspamd.spec, extra="spam_action = headers\n"))
    h.ctl("domain", "spam", "acme.test", "refuse")
    code, text = send(h, message(subject="deal", body=f"{GTUBE_ADD_HEADER}\r\n"))
    assert code == 550 and "spam" in text.lower(), (code, text)
    h.ctl("domain", "spam", "acme.test", "subject")
    code, text = send(h, message(subject="deal", body=f"{GTUBE_ADD_HEADER}\r\n"))
    assert code == 250, text
    assert delivered(h)[0]["Subject"] == "[SPAM] deal"


def test_outbound_filter_edits_come_before_dkim_signing(fake, tmp_path):
    """[milter] outbound sees what an authorized client sends; its edits
    (here a new body) are in the message before hostmail signs it, so both
    signatures verify over the filtered message."""
    pytest.importorskip("dkim", reason="python3-dkim not installed (scripts/deps.sh)")
    from conftest import Hostmail
    from test_dkim import published, submit, verify_all
    f = fake(eom=[packet(b"b", b"rewritten by the outbound filter\n"), packet(b"h", z("X-Outbound", "seen"))])
    h = Hostmail(tmp_path, extra=f"\n[milter]\noutbound = {f.spec}\ntimeout = 60s\n")
    try:
        h.ctl("account", "add", "acme", "--server-number", "7")
        h.ctl("domain", "add", "acme", "acme.test")
        h.ctl("mailbox", "add", ALICE, input="alice-secret\n")
        h.start()
        submit(h, ALICE, ALICE, "outbound filtered")
        raw = h.wait_messages(ALICE, 1, timeout=30)[0]
        m = email.message_from_bytes(raw)
        assert m["X-Outbound"] == "seen"
        assert m.get_payload().replace("\r\n", "\n") == "rewritten by the outbound filter\n"
        sigs = verify_all(raw, published(h, "acme.test"))
        assert len(sigs) == 2 and all(ok for _, _, ok in sigs), sigs
        assert f.macros().get("{auth_authen}") == ALICE
    finally:
        h.stop()


@pytest.mark.parametrize("conf, why", [
    ("inbound = inet:localhost:11332\n", 'bad value for [milter] inbound: "inet:localhost:11332"'),
    ("inbound = unix:relative.sock\n", "bad value for [milter] inbound"),
    ("outbound = 127.0.0.1:8891\n", "bad value for [milter] outbound"),
    ("default_action = reject\n", "bad value for [milter] default_action"),
    ("timeout = 0\n", "bad value for [milter] timeout"),
    ("spam_action = store\n", "bad value for [milter] spam_action"),
])
def test_milter_configuration_errors(tmp_path, conf, why):
    """A list hostmail could not follow is an error at start, never a
    silent "no filter"."""
    from conftest import Hostmail
    # the store named: under the PostgreSQL suite no database is made (the
    # configuration is refused before any store is opened anyway)
    hm = Hostmail(tmp_path, extra="\n[store]\nbackend = sqlite\n\n[milter]\n" + conf)
    r = hm.ctl("account", "list", check=False)
    assert r.returncode == 1 and why in r.stderr, r.stderr


def test_bdat_message_is_filtered(fake, make_server):
    """BDAT (CHUNKING) reaches the same step: the filter's verdict is the
    reply to BDAT LAST."""
    f = fake(final=b"y" + z("550 5.7.1 not in chunks either"))
    h = make_server(milter_conf(f.spec))
    msg = message(body="in chunks\r\n").encode()
    s = RawSMTP(h.smtp_port, timeout=60)
    try:
        assert s.reply().code == 220
        assert s.cmd("EHLO client.sender.test").code == 250
        assert s.cmd("MAIL FROM:<carol@sender.test>").code == 250
        assert s.cmd(f"RCPT TO:<{ALICE}>").code == 250
        half = len(msg) // 2
        s.send(b"BDAT %d\r\n" % half + msg[:half])
        assert s.reply().code == 250
        s.send(b"BDAT %d LAST\r\n" % (len(msg) - half) + msg[half:])
        r = s.reply()
        assert r.code == 550 and "not in chunks either" in r.text, r
    finally:
        s.close()
    time.sleep(0.5)
    nothing_queued(h)


def test_client_gone_while_its_filter_runs(fake, make_server):
    """The client hangs up while its filter deliberates: the filter's
    answer still ends the conversation cleanly (the message is committed,
    as any message whose client left before its 250, and logged so), and
    the server goes on serving."""
    f = fake(mode="hold")
    h = make_server(milter_conf(f.spec))
    s = RawSMTP(h.smtp_port, timeout=60)
    assert s.reply().code == 220
    assert s.cmd("EHLO client.sender.test").code == 250
    assert s.cmd("MAIL FROM:<carol@sender.test>").code == 250
    assert s.cmd(f"RCPT TO:<{ALICE}>").code == 250
    assert s.cmd("DATA").code == 354
    s.send(message(body="left early\r\n").encode() + b".\r\n")
    wait_for(lambda: any(cmd == b"E" for cmd, _ in f.seen), 30, "the end of the message at the filter")
    s.close()
    f.release()
    h.wait_log(r"queued from=<carol@sender\.test> .*\(client gone before reply\)")
    assert len(delivered(h)) == 1
    _other_session_served(h)
