"""Outbound delivery (issue 5): the queue delivers relayed mail to the MX
hosts named in DNS. A real DNS server (dnsmasq on a loopback port) and a
second, real hostmaild hosting remote.test play the rest of the world;
a scripted raw-socket server plays the misbehaving ones. Customers'
mail is submitted with SMTP AUTH over STARTTLS, as a mail program would."""
import os
import calendar
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import Hostmail, free_port, setup_demo, wait_for

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

pytestmark = pytest.mark.skipif(not os.path.exists(DNSMASQ), reason="dnsmasq not installed")


# --- the world: DNS, a remote MX, the sending server -------------------------

class DNS:
    """dnsmasq answering only from its command line, authoritative for .test."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.log = os.path.join(str(tmp_path), "dnsmasq.log")
        self.proc = None
        self.started_once = False

    def start(self, *records):
        self.stop()
        for attempt in range(5):
            args = [DNSMASQ, "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1",
                    "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/",
                    "--log-queries", "--pid-file=", *records]
            start = os.path.getsize(self.log) if os.path.exists(self.log) else 0
            self.proc = subprocess.Popen(args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
            # it answers once it is up, or exits
            wait_for(lambda: self.query_ok() or self.proc.poll() is not None, 10, "dnsmasq to answer")
            if self.proc.poll() is None:
                self.started_once = True
                return self
            with open(self.log) as f:
                f.seek(start)
                why = f.read()
            # free_port() checked TCP a moment ago; the UDP port, or the
            # port since, may be another process's. Before the first start
            # nothing depends on the number: pick again.
            if self.started_once or "Address already in use" not in why:
                break
            self.port = free_port()
        raise RuntimeError("dnsmasq did not start: " + open(self.log).read())

    def query_ok(self):
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x06\x00\x01"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(q, ("127.0.0.1", self.port))
            return len(s.recv(512)) > 0
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


STANDARD_DNS = [
    "--mx-host=remote.test,mx.remote.test,10",
    "--host-record=mx.remote.test,127.0.0.1",
    "--host-record=amx.test,127.0.0.1",          # no MX: the A record is the mail host
    "--mx-host=null.test,.,0",                   # RFC 7505 null MX
    "--mx-host=down.test,mx.down.test,10",
    "--host-record=mx.down.test,127.0.0.2",      # nothing listens there: refused
]


def make_remote(tmp_path):
    d = tmp_path / "remote"
    d.mkdir()
    r = Hostmail(d)
    r.ctl("account", "add", "remoteco")
    for dom in ("remote.test", "amx.test", "down.test"):
        r.ctl("domain", "add", "remoteco", dom)
    for box in ("someone@remote.test", "other@remote.test", "someone@amx.test", "x@down.test"):
        r.ctl("mailbox", "add", box, input="pw-secret-1\n")
    return r


def make_sender(tmp_path, dns, mx_port, extra="", queue="", retry="1s, 2s"):
    d = tmp_path / "sender"
    d.mkdir()
    h = Hostmail(d, extra=f"""
[queue]
retry_schedule = {retry}
{queue or "max_age = 1h"}

[delivery]
dns_servers = 127.0.0.1:{dns.port}
mx_port = {mx_port}
connect_timeout = 5
greeting_timeout = 10
command_timeout = 10
data_init_timeout = 10
data_block_timeout = 10
data_done_timeout = 10
{extra}""")
    setup_demo(h)
    return h


@pytest.fixture
def world(tmp_path):
    dns = DNS(tmp_path).start(*STANDARD_DNS)
    remote = make_remote(tmp_path)
    made = {"dns": dns, "remote": remote}

    def sender(extra="", start=True, queue="", retry="1s, 2s"):
        s = make_sender(tmp_path, dns, remote.smtp_port, extra, queue, retry)
        made["sender"] = s
        return s.start() if start else s

    made["make_sender"] = sender
    yield made
    try:
        for k in ("sender", "remote"):
            if k in made:
                made[k].stop()      # may raise: a sanitizer report
    finally:
        dns.stop()


# --- helpers -----------------------------------------------------------------

def submit(h, rcpts, data, sender=ALICE):
    """Relay through the sending server: STARTTLS, AUTH, then the message."""
    c = ssl.create_default_context(cafile=h.pki["ca"])
    s = smtplib.SMTP("127.0.0.1", h.submission_port, local_hostname="client.test", timeout=15)
    s.starttls(context=c)
    s.login(ALICE, ALICE_PW)
    refused = s.sendmail(sender, rcpts, data)
    s.quit()
    return refused


def message(to, subject="hello", body=None):
    body = body if body is not None else (
        "First line.\r\n"
        ".a line that starts with a dot\r\n"
        "..two dots\r\n"
        ".\r\n"
        " . not at the start\r\n"
        "trailing spaces   \r\n"
        "caf\u00e9 8-bit \u2713\r\n"
        + "x" * 900 + "\r\n"
        "last line\r\n")
    # Date: and Message-ID: given, so submission adds none (RFC 6409 8) and
    # the message arrives byte for byte as sent
    return (f"From: Alice <{ALICE}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@acme.test>\r\n\r\n{body}").encode("utf-8")


def wait_log(h, pattern, timeout=20.0, count=1):
    return h.wait_log(pattern, timeout, count)


def start_counting_queue(h):
    """Start h; the number of messages its queue runner loaded."""
    n = h.logtext().count("queue: schedule loaded:") if os.path.exists(h.log_path) else 0
    h.start()
    return int(wait_log(h, r"queue: schedule loaded: (\d+) message", count=n + 1).group(1))


def queue_empty(h):
    d = os.path.join(h.data_dir, "queue", "env")
    return os.path.isdir(d) and not os.listdir(d)


def to_lf(b):
    return b.replace(b"\r\n", b"\n")


def bounces(h, address=ALICE, n=1, timeout=20.0):
    msgs = h.wait_messages(address, n, timeout=timeout)
    assert len(msgs) >= n, f"no bounce for {address}; log:\n{h.logtext()[-3000:]}"
    return msgs


def assert_dsn(b, rcpt, status, action="failed"):
    t = b.decode("utf-8", "replace")
    assert "Return-Path: <>" in t
    assert re.search(r"^From: Mail Delivery System <MAILER-DAEMON@", t, re.M)
    assert "multipart/report; report-type=delivery-status" in t
    assert "Content-Type: message/delivery-status" in t
    assert f"Final-Recipient: rfc822; {rcpt}" in t
    assert f"Action: {action}" in t
    assert f"Status: {status}" in t
    assert "Content-Type: text/rfc822-headers" in t
    return t


# --- delivery ------------------------------------------------------------------

def test_delivered_byte_exact_to_the_mx_in_dns_over_tls(world):
    remote = world["remote"].start()
    h = world["make_sender"]()
    data = message("someone@remote.test", "exact bytes")
    assert submit(h, ["someone@remote.test"], data) == {}
    got = remote.wait_messages("someone@remote.test", 1)
    assert len(got) == 1, h.logtext()[-3000:]
    # the remote stores LF line ends; what follows its trace headers is our message, exactly
    assert got[0].endswith(to_lf(data)), got[0][-600:]
    assert got[0].count(b"\n.a line") == 1 and b"\n..a line" not in got[0]
    assert b"Return-Path: <alice@acme.test>" in got[0]
    wait_for(lambda: queue_empty(h), what="queue empty")
    log = h.logtext()
    assert re.search(r"TLS with mx\.remote\.test\[127\.0\.0\.1\]:\d+: TLSv1\.[23]", log), log
    assert re.search(r"to=<someone@remote\.test>: delivered: reason=\"2\.0\.0 host mx\.remote\.test\[127\.0\.0\.1\]", log)


def test_several_recipients_one_transaction_mixed_results(world):
    remote = world["remote"].start()
    h = world["make_sender"]()
    rcpts = ["someone@remote.test", "nobody@remote.test", "other@remote.test"]
    submit(h, rcpts, message(rcpts[0], "mixed"))
    assert len(remote.wait_messages("someone@remote.test", 1)) == 1
    assert len(remote.wait_messages("other@remote.test", 1)) == 1
    b = bounces(h)
    t = assert_dsn(b[0], "nobody@remote.test", "5.1.1")
    assert "someone@remote.test" not in t.split("text/rfc822-headers")[0].split("delivery-status")[1]
    assert "Remote-MTA: dns; mx.remote.test" in t
    assert re.search(r"Diagnostic-Code: smtp; 550 5\.1\.1 .*\(in reply to RCPT TO\)", t)
    assert "Subject: mixed" in t.split("text/rfc822-headers")[1]   # the original headers
    wait_for(lambda: queue_empty(h), what="queue empty")


def test_mx_preference_order_and_fallback_to_next_mx(world, tmp_path):
    world["dns"].start(*STANDARD_DNS,
                       "--mx-host=pref.test,mx2.pref.test,20",    # listed first, tried second
                       "--mx-host=pref.test,mx1.pref.test,10",
                       "--host-record=mx1.pref.test,127.0.0.2",   # refuses connections
                       "--host-record=mx2.pref.test,127.0.0.1")
    remote = world["remote"]
    remote.ctl("domain", "add", "remoteco", "pref.test")
    remote.ctl("mailbox", "add", "someone@pref.test", input="pw-secret-1\n")
    remote.start()
    h = world["make_sender"]()
    submit(h, ["someone@pref.test"], message("someone@pref.test", "pref"))
    assert len(remote.wait_messages("someone@pref.test", 1)) == 1, h.logtext()[-3000:]
    wait_log(h, r"delivered: reason=\"2\.0\.0 host mx2\.pref\.test")   # logged once recorded, after the remote's 250
    log = h.logtext()
    first = log.index("mx1.pref.test[127.0.0.2]")
    assert "refused" in log[first:first + 300].lower()
    assert log.index("delivered: reason=\"2.0.0 host mx2.pref.test[127.0.0.1]") > first


def test_implicit_mx_a_record_only(world):
    remote = world["remote"].start()
    h = world["make_sender"]()
    submit(h, ["someone@amx.test"], message("someone@amx.test", "implicit"))
    assert len(remote.wait_messages("someone@amx.test", 1)) == 1, h.logtext()[-3000:]
    wait_log(h, r"delivered: reason=\"2\.0\.0 host amx\.test\[127\.0\.0\.1\]")


# --- permanent failures and bounces ----------------------------------------------

def test_null_mx_bounces_5_1_10_to_hosted_sender(world):
    h = world["make_sender"]()
    submit(h, ["someone@null.test"], message("someone@null.test", "to null"))
    b = bounces(h)
    t = assert_dsn(b[0], "someone@null.test", "5.1.10")
    assert "null MX" in t
    assert "Subject: to null" in t
    wait_for(lambda: queue_empty(h), what="queue empty")


def test_remote_550_bounces_with_remote_text(world):
    remote = world["remote"].start()
    h = world["make_sender"]()
    submit(h, ["nobody@remote.test"], message("nobody@remote.test", "unknown"))
    t = assert_dsn(bounces(h)[0], "nobody@remote.test", "5.1.1")
    m = re.search(r"Diagnostic-Code: smtp; (.*)", t)
    assert m and m.group(1).startswith("550 5.1.1"), t
    # the remote's own words, as its log or reply has them
    assert "nobody@remote.test" in m.group(1) or "mailbox" in m.group(1).lower()
    assert "\r" not in m.group(1)
    assert remote.messages("nobody@remote.test") == []


def test_no_bounce_for_a_null_sender_message(world, tmp_path):
    h = world["make_sender"](start=False)
    h.start()
    h.stop()  # queue/ exists now; put a message from <> in it as the SMTP server would
    qid = "0" * 8 + "NULLSENDER00"
    qd = os.path.join(h.data_dir, "queue")
    data = message("nobody@null.test", "from null sender")
    with open(os.path.join(qd, "msg", qid), "wb") as f:
        f.write(data)
    with open(os.path.join(qd, "env", qid), "w") as f:
        f.write(f"V 1\nI {qid}\nA {int(time.time())}\nS \nC 127.0.0.1\nH x\nU \n"
                f"Z {len(data)}\nN 1\nR R nobody@null.test\nE\n")
    h.start()
    wait_log(h, rf"{qid}: no failure report: the sender is <>")
    wait_for(lambda: queue_empty(h), what="queue empty")
    # a report would have been queued before the message left the queue,
    # and delivered (locally) before the queue was empty
    assert h.messages(ALICE) == []
    assert "notified" not in h.logtext()


# --- temporary failures ------------------------------------------------------------

def test_retry_when_remote_is_down_then_delivered(world):
    remote = world["remote"]
    h = world["make_sender"]()
    data = message("someone@remote.test", "retry")
    submit(h, ["someone@remote.test"], data)
    wait_log(h, r"to=<someone@remote\.test>: deferred: reason=\"4\.4\.1 connect to mx\.remote\.test\[127\.0\.0\.1\]")
    assert not queue_empty(h)
    remote.start()
    got = remote.wait_messages("someone@remote.test", 1, timeout=20)
    assert len(got) == 1 and got[0].endswith(to_lf(data))
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert h.messages(ALICE) == []    # no bounce, no delay warning


def test_expiry_bounces_4_4_7(world):
    h = world["make_sender"](queue="max_age = 3s")
    submit(h, ["x@down.test"], message("x@down.test", "expires"))
    t = assert_dsn(bounces(h, timeout=25)[0], "x@down.test", "4.4.7")
    assert "expired" in t
    assert "mx.down.test[127.0.0.2]" in t
    wait_for(lambda: queue_empty(h), what="queue empty")


def test_delay_warning_once(world):
    h = world["make_sender"](queue="max_age = 1h\ndelay_warning = 2s")
    submit(h, ["x@down.test"], message("x@down.test", "slow"))
    t = assert_dsn(bounces(h, timeout=20)[0], "x@down.test", "4.4.1", action="delayed")
    assert "Will-Retry-Until:" in t
    n = h.logtext().count("to=<x@down.test>: deferred")
    wait_log(h, r"to=<x@down\.test>: deferred", count=n + 2)   # more attempts fail; no second warning
    assert len(h.messages(ALICE)) == 1
    assert not queue_empty(h)


# --- restart safety ------------------------------------------------------------------

def test_kill9_then_restart_delivers_rest_and_never_repeats_a_done_recipient(world):
    remote = world["remote"].start()
    h = world["make_sender"]()
    data = message("someone@remote.test", "two domains")
    submit(h, ["someone@remote.test", "x@down.test", "bob@acme.test"], data)
    assert len(remote.wait_messages("someone@remote.test", 1)) == 1
    wait_log(h, r"to=<x@down\.test>: deferred")
    assert len(h.wait_messages("bob@acme.test", 1)) == 1
    h.kill9()
    # down.test comes back: its MX now points at the remote server
    world["dns"].start(*[r for r in STANDARD_DNS if "mx.down.test,127.0.0.2" not in r],
                       "--host-record=mx.down.test,127.0.0.1")
    h.start()
    got = remote.wait_messages("x@down.test", 1, timeout=20)
    assert len(got) == 1 and got[0].endswith(to_lf(data))
    # both queues empty: a copy sent twice would be in a Maildir by now
    wait_for(lambda: queue_empty(h) and queue_empty(remote), what="queues empty")
    assert len(remote.messages("someone@remote.test")) == 1
    assert len(h.messages("bob@acme.test")) == 1


def test_kill9_with_messages_queued_for_a_down_host_survives(world):
    remote = world["remote"]
    h = world["make_sender"]()
    for i in range(3):
        submit(h, ["someone@remote.test"], message("someone@remote.test", f"queued {i}"))
    wait_log(h, r"deferred")
    h.kill9()
    remote.start()
    h.start()
    got = remote.wait_messages("someone@remote.test", 3, timeout=25)
    assert len(got) == 3
    # both queues empty: a copy sent twice would be in a Maildir by now
    wait_for(lambda: queue_empty(h) and queue_empty(remote), what="queues empty")
    assert len(remote.messages("someone@remote.test")) == 3


# --- the schedule across restarts (issue 14) ------------------------------------------
# The runner keeps each message's next attempt in memory and in its queue
# file's mtime; a restart stats the files (no open) and schedules each at
# its mtime. Times in the log have whole seconds, as next attempts do.

def log_time(h, pattern, after=0):
    """Epoch seconds of the first log line matching pattern at or after byte offset after."""
    text = h.logtext()[after:]
    m = re.search(r"^(\S+Z) .*" + pattern, text, re.M)
    assert m, f"no /{pattern}/ in the log:\n{text[-3000:]}"
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))


def env_file(h, qid):
    return os.path.join(h.data_dir, "queue", "env", qid)


def deferred_once(world, retry):
    """A sender with one message deferred for someone@remote.test (down):
    (server, queue id, next attempt from `queue show`)."""
    h = world["make_sender"](retry=retry)
    submit(h, ["someone@remote.test"], message("someone@remote.test", "scheduled"))
    wait_log(h, r"to=<someone@remote\.test>: deferred: reason=\"4\.4\.1")
    [qid] = queue_ids(h)
    m = re.search(r"next=(\S+Z)", h.ctl("queue", "show", qid).stdout)
    nxt = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
    # the job's last step wrote the next attempt into the file's mtime
    wait_for(lambda: int(os.stat(env_file(h, qid)).st_mtime) == nxt, what="mtime = next attempt")
    return h, qid, nxt


def test_deferred_message_is_retried_at_its_time_after_a_restart_not_before(world):
    h, qid, nxt = deferred_once(world, retry="8s")
    h.stop()
    world["remote"].start()
    restarted = time.time()
    mark = len(h.logtext())
    h.start()
    wait_log(h, r"queue: schedule loaded: 1 message\(s\)")
    if restarted < nxt - 1:          # (a very slow restart could pass the time)
        assert re.search(r"schedule loaded: 1 message\(s\), 0 due now", h.logtext()[mark:]), h.logtext()[mark:]
    assert len(world["remote"].wait_messages("someone@remote.test", 1, timeout=nxt - time.time() + 30)) == 1
    wait_for(lambda: queue_empty(h), what="queue empty")
    # delivered at its retry time, not when the daemon came back
    assert log_time(h, rf"{qid}: to=<someone@remote\.test>: delivered", mark) >= nxt
    assert ": deferred:" not in h.logtext()[mark:]


def test_a_lost_mtime_update_makes_the_message_early_not_wrong(world):
    """A crash between a deferral and the mtime update leaves the file's
    mtime in the past: after the restart the message is opened at once,
    nothing is attempted before the recipient's own time, and the file's
    mtime is put right."""
    h, qid, nxt = deferred_once(world, retry="8s")
    h.kill9()
    os.utime(env_file(h, qid), (time.time() - 3600, time.time() - 3600))
    world["remote"].start()
    mark = len(h.logtext())
    h.start()
    wait_log(h, r"queue: schedule loaded: 1 message\(s\), 1 due now")
    wait_for(lambda: int(os.stat(env_file(h, qid)).st_mtime) == nxt, what="mtime put right")
    assert len(world["remote"].wait_messages("someone@remote.test", 1, timeout=nxt - time.time() + 30)) == 1
    assert log_time(h, rf"{qid}: to=<someone@remote\.test>: delivered", mark) >= nxt
    assert ": deferred:" not in h.logtext()[mark:]


def test_a_file_time_far_ahead_is_bounded_by_the_retry_schedule(world):
    """A clock stepped back leaves mtimes far in the future: no message
    waits longer than the longest retry wait from the start."""
    h, qid, nxt = deferred_once(world, retry="2s")
    h.stop()
    far = time.time() + 10 * 86400
    os.utime(env_file(h, qid), (far, far))
    world["remote"].start()
    h.start()
    wait_log(h, r"queue: schedule loaded: 1 message\(s\), 0 due now")
    assert len(world["remote"].wait_messages("someone@remote.test", 1, timeout=30)) == 1
    wait_for(lambda: queue_empty(h), what="queue empty")


def test_many_deferred_messages_survive_a_restart_and_a_flush_reaches_all(world):
    h = world["make_sender"](retry="1h")
    n = 12
    for i in range(n):
        submit(h, ["someone@remote.test"], message("someone@remote.test", f"many {i}"))
    wait_for(lambda: h.logtext().count("to=<someone@remote.test>: deferred") >= n, what="all deferred")
    h.stop()
    world["remote"].start()
    mark = len(h.logtext())
    h.start()
    wait_log(h, rf"queue: schedule loaded: {n} message\(s\), 0 due now")
    time.sleep(1)                       # deliberate: a moment in which nothing may be tried
    assert world["remote"].messages("someone@remote.test") == []   # an hour away
    assert h.ctl("queue", "flush").stdout.strip() == f"{n} message(s) to be tried now"
    assert len(world["remote"].wait_messages("someone@remote.test", n, timeout=30)) == n
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert ": deferred:" not in h.logtext()[mark:]


# --- a scripted remote: pipelining, STARTTLS injection, 4xx then 250 -------------------

class Scripted:
    """A raw-socket SMTP server on 127.0.0.5. Records every command line."""

    def __init__(self, port, pki, starttls=True, inject=False, rcpt_replies=None,
                 drop_at_data=(), stall_data=False, hold=0, ehlo_refused=False, refuse_reuse=False):
        self.commands = []
        self.data = []
        self.sessions = 0
        self.rcpt_replies = rcpt_replies or {}  # session number -> reply for every RCPT
        self.starttls, self.inject = starttls, inject
        self.drop_at_data = drop_at_data        # sessions that hang up when DATA comes
        self.stall_data = stall_data            # never answer DATA (until the client leaves)
        self.hold = hold                        # seconds to wait for company before "250" to "."
        self.ehlo_refused = ehlo_refused        # an old server: 502 to EHLO, HELO only
        self.refuse_reuse = refuse_reuse        # 421 and hang up at a session's second MAIL
        self.lock = threading.Lock()
        self.open = self.max_open = 0
        self.counted = {}                       # session number -> counted in open
        self.closed = []                        # session numbers the client closed
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki["crt"], pki["key"])
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.5", port))
        self.sock.listen(5)
        self.stopped = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.sessions += 1
            threading.Thread(target=self.session, args=(c, self.sessions), daemon=True).start()

    def session(self, c, n):
        with self.lock:
            self.open += 1
            self.max_open = max(self.max_open, self.open)
        self.counted[n] = True
        try:
            self.converse(c, n)
        finally:
            self.leave(n)

    def leave(self, n):
        """Session n no longer counts as open: at its QUIT, before the 221
        (the client may connect again the moment it reads it), or at close."""
        with self.lock:
            if self.counted.pop(n, False):
                self.open -= 1

    def converse(self, c, n):
        f = c.makefile("rb")
        w = c
        try:
            w.sendall(b"220 scripted ESMTP\r\n")
            tls = False
            mails = 0
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n")
                self.commands.append((n, tls, cmd))
                verb = cmd.split(b" ")[0].upper()
                if verb == b"EHLO" and self.ehlo_refused:
                    w.sendall(b"502 5.5.1 EHLO not implemented\r\n")
                elif verb == b"HELO":
                    w.sendall(b"250 scripted\r\n")
                elif verb == b"EHLO":
                    ext = [b"250-scripted", b"250-PIPELINING", b"250-SIZE 1000000", b"250-8BITMIME"]
                    if self.starttls and not tls:
                        ext.append(b"250-STARTTLS")
                    w.sendall(b"\r\n".join(ext) + b"\r\n250 HELP\r\n")
                elif verb == b"STARTTLS":
                    extra = b"250 injected-before-tls\r\n" if self.inject else b""
                    c.sendall(b"220 go ahead\r\n" + extra)
                    w = self.ctx.wrap_socket(c, server_side=True)
                    f = w.makefile("rb")
                    tls = True
                elif verb == b"MAIL":
                    mails += 1
                    if self.refuse_reuse and mails > 1:
                        w.sendall(b"421 4.4.2 scripted: idle too long, closing\r\n")
                        return
                    w.sendall(b"250 2.1.0 ok\r\n")
                elif verb == b"RCPT":
                    w.sendall(self.rcpt_replies.get(n, b"250 2.1.5 ok") + b"\r\n")
                elif verb == b"DATA" and n in self.drop_at_data:
                    c.shutdown(socket.SHUT_RDWR)        # hang up mid-transaction
                    return
                elif verb == b"DATA" and self.stall_data:
                    try:
                        while f.readline():
                            pass
                    except OSError:
                        # a client killed with our pipelined replies unread
                        # resets the connection instead of closing it
                        pass
                    self.closed.append(n)
                    return
                elif verb == b"DATA":
                    w.sendall(b"354 go\r\n")
                    buf = b""
                    while not buf.endswith(b"\r\n.\r\n"):
                        chunk = f.readline()
                        if not chunk:
                            return
                        buf += chunk
                    deadline = time.time() + self.hold   # another session may come meanwhile
                    while time.time() < deadline and self.open < 2:
                        time.sleep(0.05)            # deliberate: the server holds its reply
                    self.data.append(buf)
                    w.sendall(b"250 2.0.0 scripted queued\r\n")
                elif verb == b"QUIT":
                    self.leave(n)
                    w.sendall(b"221 bye\r\n")
                    return
                else:
                    w.sendall(b"500 what\r\n")
        except (OSError, ssl.SSLError):
            return
        finally:
            c.close()

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the accept() (Linux): the port is free again
        except OSError:
            pass
        self.sock.close()


@pytest.fixture
def scripted_world(world):
    world["dns"].start(*STANDARD_DNS, "--mx-host=script.test,mx.script.test,10",
                       "--mx-host=script2.test,mx.script.test,10",
                       "--host-record=mx.script.test,127.0.0.5")
    made = []

    def make(**kw):
        s = Scripted(world["remote"].smtp_port, world["remote"].pki, **kw)
        made.append(s)
        return s

    world["scripted"] = make
    yield world
    for s in made:
        s.close()


def test_pipelining_starttls_injection_discarded_and_dot_stuffing(scripted_world):
    srv = scripted_world["scripted"](inject=True)
    h = scripted_world["make_sender"]()
    data = message("a@script.test", "scripted")
    submit(h, ["a@script.test", "b@script.test"], data)
    wait_for(lambda: srv.data, what="DATA at the scripted server")
    wait_for(lambda: queue_empty(h), what="queue empty")
    cmds = [(tls, c) for (_, tls, c) in srv.commands]
    # after STARTTLS the client started over with EHLO, in TLS, ignoring the injected 250
    assert (False, b"STARTTLS") in cmds
    assert cmds[cmds.index((False, b"STARTTLS")) + 1] == (True, b"EHLO mx.test.example")
    assert re.search(r"discarded \d+ byte\(s\) sent after the STARTTLS reply", h.logtext())
    mail = [c for (tls, c) in cmds if c.startswith(b"MAIL")][0]
    assert re.fullmatch(rb"MAIL FROM:<alice@acme\.test> SIZE=\d+ BODY=8BITMIME", mail), mail
    assert [c for (_, c) in cmds if c.startswith(b"RCPT")] == [b"RCPT TO:<a@script.test>", b"RCPT TO:<b@script.test>"]
    body = srv.data[0]
    assert b"\r\n..a line that starts with a dot\r\n...two dots\r\n..\r\n . not at" in body
    # unstuffed, what arrived ends with exactly what was submitted
    unstuffed = re.sub(rb"(?m)^\.", b"", body[:-3])
    assert unstuffed.endswith(data)


def test_4xx_then_accepted_on_retry(scripted_world):
    srv = scripted_world["scripted"](starttls=False, rcpt_replies={1: b"451 4.3.0 try again later"})
    h = scripted_world["make_sender"]()
    submit(h, ["a@script.test"], message("a@script.test", "451"))
    wait_log(h, r"to=<a@script\.test>: deferred: reason=\"4\.3\.0 host mx\.script\.test\[127\.0\.0\.5\]:\d+ said: 451 4\.3\.0 try again later")
    wait_for(lambda: srv.data, timeout=20, what="the retry")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert srv.sessions >= 2
    assert h.messages(ALICE) == []


def test_remote_without_starttls_still_gets_the_mail(scripted_world):
    srv = scripted_world["scripted"](starttls=False)
    h = scripted_world["make_sender"]()
    data = message("a@script.test", "plain")
    submit(h, ["a@script.test"], data)
    wait_for(lambda: srv.data, what="DATA at the scripted server")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert all(not tls for (_, tls, _) in srv.commands)          # in clear, as offered
    assert b"STARTTLS" not in [c for (_, _, c) in srv.commands]
    assert srv.sessions == 1                                     # at the first try
    assert re.sub(rb"(?m)^\.", b"", srv.data[0][:-3]).endswith(data)
    assert re.search(r"to=<a@script\.test>: delivered: reason=\"2\.0\.0 host mx\.script\.test\[127\.0\.0\.5\]", h.logtext())
    assert h.messages(ALICE) == []


def test_connection_dropped_mid_transaction_is_retried_not_lost(scripted_world):
    srv = scripted_world["scripted"](starttls=False, drop_at_data={1})
    h = scripted_world["make_sender"]()
    data = message("a@script.test", "dropped")
    submit(h, ["a@script.test", "b@script.test"], data)
    wait_log(h, r"to=<a@script\.test>: deferred: reason=\"4\.4\.2 lost connection with mx\.script\.test\[127\.0\.0\.5\]:\d+ in reply to DATA")
    wait_for(lambda: srv.data, timeout=20, what="the retry")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert srv.sessions >= 2 and len(srv.data) == 1             # both recipients, once
    assert [c for (n, _, c) in srv.commands if n == 2 and c.startswith(b"RCPT")] == \
        [b"RCPT TO:<a@script.test>", b"RCPT TO:<b@script.test>"]
    assert re.sub(rb"(?m)^\.", b"", srv.data[0][:-3]).endswith(data)
    assert h.messages(ALICE) == []                               # no bounce


def test_per_domain_connection_limit_is_honoured(scripted_world):
    # three messages wait for a host that is down; once it is up, a flush
    # makes all three due at once, and max_per_domain = 1 lets one through at a time
    h = scripted_world["make_sender"](extra="max_per_domain = 1", retry="1h")
    for i in range(3):
        submit(h, [f"a{i}@script.test"], message(f"a{i}@script.test", f"limited {i}"))
    for i in range(3):
        wait_log(h, rf"to=<a{i}@script\.test>: deferred: reason=\"4\.4\.1 connect to mx\.script\.test")
    srv = scripted_world["scripted"](starttls=False, hold=1.0)
    assert h.ctl("queue", "flush").stdout.strip() == "3 message(s) to be tried now"
    wait_for(lambda: len(srv.data) == 3, timeout=30, what="three deliveries")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert srv.max_open == 1



def test_connection_kept_for_the_next_messages_to_the_domain(scripted_world):
    """Messages to one domain in a row share one connection: one TLS
    handshake and EHLO, then MAIL after MAIL; QUIT once it has idled."""
    srv = scripted_world["scripted"]()
    h = scripted_world["make_sender"](extra="max_per_domain = 1")
    for i in range(3):
        submit(h, [f"k{i}@script.test"], message(f"k{i}@script.test", f"kept {i}"))
    wait_for(lambda: len(srv.data) == 3, what="three deliveries")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert srv.sessions == 1, srv.commands
    verbs = [c.split(b" ")[0].upper() for _, _, c in srv.commands]
    assert verbs.count(b"STARTTLS") == 1 and verbs.count(b"EHLO") == 2, verbs
    assert [tls for _, tls, c in srv.commands if c.startswith(b"MAIL")] == [True] * 3
    # idle for a while (2 s), then a polite goodbye
    wait_for(lambda: b"QUIT" in [c for _, _, c in srv.commands], timeout=10, what="QUIT after idling")
    assert srv.open == 0


def test_kept_connection_the_server_closed_is_replaced_at_once(scripted_world):
    """A server that gives up on a kept connection (421 at the next MAIL)
    costs nothing: the message goes out over a new connection at once,
    not after a retry delay."""
    srv = scripted_world["scripted"](starttls=False, refuse_reuse=True)
    h = scripted_world["make_sender"](extra="max_per_domain = 1", retry="1h")
    submit(h, ["r0@script.test"], message("r0@script.test", "first"))
    wait_for(lambda: len(srv.data) == 1, what="first delivery")
    submit(h, ["r1@script.test"], message("r1@script.test", "second"))
    wait_for(lambda: len(srv.data) == 2, what="second delivery, over a new connection")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert srv.sessions == 2
    assert "a kept connection); connecting again" in h.logtext()
    assert "deferred" not in h.logtext()


def test_kill9_in_the_middle_of_an_smtp_transaction_loses_nothing(scripted_world):
    # the remote has the envelope and DATA when the sender dies: nothing was
    # delivered (no final dot), so after the restart the message goes out, once
    srv = scripted_world["scripted"](starttls=False, stall_data=True)
    h = scripted_world["make_sender"]()
    data = message("a@script.test", "killed mid-transaction")
    submit(h, ["a@script.test"], data)
    wait_for(lambda: any(c == b"DATA" for (_, _, c) in srv.commands), what="DATA sent")
    h.kill9()
    wait_for(lambda: srv.closed, what="the connection to close")
    srv.close()
    srv2 = scripted_world["scripted"](starttls=False)
    h.start()
    wait_for(lambda: srv2.data, timeout=20, what="delivery after the restart")
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert srv.data == [] and len(srv2.data) == 1
    assert re.sub(rb"(?m)^\.", b"", srv2.data[0][:-3]).endswith(data)
    assert h.messages(ALICE) == []

# --- hostmailctl queue flush / delete ----------------------------------------------------

def queue_ids(h):
    return [line.split()[0] for line in h.ctl("queue", "list").stdout.splitlines()]


def test_queue_flush_sends_a_deferred_message_at_once_when_the_remote_is_back(world):
    remote = world["remote"]
    h = world["make_sender"](retry="1h")      # on its own, the next try is an hour away
    data = message("someone@remote.test", "flushed")
    submit(h, ["someone@remote.test"], data)
    wait_log(h, r"to=<someone@remote\.test>: deferred: reason=\"4\.4\.1 connect to")
    [qid] = queue_ids(h)
    # the operator's view: id, arrival, age, size, sender, recipients, next try, last error
    [line] = h.ctl("queue", "list").stdout.splitlines()
    m = re.fullmatch(r"(\S+) (\S+Z) (\d+s|\d+m\d\ds) (\d+) <(\S+)> someone@remote\.test=pending "
                     r"next=(\S+Z) error=\"(4\.4\.1 connect to .*)\"", line)
    assert m and m.group(1) == qid and m.group(5) == ALICE, line
    next_try = calendar.timegm(time.strptime(m.group(6), "%Y-%m-%dT%H:%M:%SZ"))
    assert 3000 < next_try - time.time() <= 3600, line          # retry_schedule = 1h
    remote.start()
    r = h.ctl("queue", "flush")
    assert r.stdout.strip() == "1 message(s) to be tried now"
    got = remote.wait_messages("someone@remote.test", 1, timeout=20)
    assert len(got) == 1 and got[0].endswith(to_lf(data))
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert queue_ids(h) == []
    assert re.search(r"queue: flush requested by the administrator: whole queue, 1 message\(s\)", h.logtext())
    assert re.search(rf"{qid}: to=<someone@remote\.test>: delivered", h.logtext())


def test_queue_flush_one_id_and_errors(world):
    remote = world["remote"]
    h = world["make_sender"](retry="1h")
    submit(h, ["someone@remote.test"], message("someone@remote.test", "first"))
    submit(h, ["other@remote.test"], message("other@remote.test", "second"))
    wait_log(h, r"to=<other@remote\.test>: deferred")
    first, second = queue_ids(h)
    remote.start()
    assert h.ctl("queue", "flush", second).stdout.strip() == "1 message(s) to be tried now"
    assert len(remote.wait_messages("other@remote.test", 1, timeout=20)) == 1
    wait_for(lambda: queue_ids(h) == [first], what="only the first message left")
    assert remote.messages("someone@remote.test") == []        # not flushed: still waiting
    r = h.ctl("queue", "flush", second, check=False)            # gone now
    assert r.returncode == 1 and "no such message" in r.stderr
    r = h.ctl("queue", "flush", "../../etc/passwd", check=False)
    assert r.returncode == 1 and "not a queue id" in r.stderr
    h.stop()
    r = h.ctl("queue", "flush", check=False)
    assert r.returncode == 1 and "hostmaild is not running" in r.stderr


def test_queue_delete_removes_a_message_that_is_then_never_delivered(world):
    remote = world["remote"]
    h = world["make_sender"](retry="1h")
    submit(h, ["someone@remote.test"], message("someone@remote.test", "unwanted"))
    submit(h, ["other@remote.test"], message("other@remote.test", "wanted"))
    wait_log(h, r"to=<other@remote\.test>: deferred")
    unwanted, wanted = queue_ids(h)
    r = h.ctl("queue", "delete", unwanted)
    assert r.stdout.strip() == f"{unwanted} deleted"
    assert queue_ids(h) == [wanted]
    assert not os.path.exists(os.path.join(h.data_dir, "queue", "env", unwanted))
    wait_log(h, rf"{unwanted}: deleted from the queue by the administrator")
    remote.start()
    h.ctl("queue", "flush")
    assert len(remote.wait_messages("other@remote.test", 1, timeout=20)) == 1
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert remote.messages("someone@remote.test") == []
    assert h.messages(ALICE) == []                              # no bounce for a deletion
    r = h.ctl("queue", "delete", unwanted, check=False)
    assert r.returncode == 1 and "no such message" in r.stderr
    # it stays deleted across a restart: the restarted queue has nothing
    h.stop()
    assert start_counting_queue(h) == 0
    assert remote.messages("someone@remote.test") == []


def test_queue_delete_stops_a_delivery_in_progress(scripted_world):
    srv = scripted_world["scripted"](starttls=False, stall_data=True)
    h = scripted_world["make_sender"]()
    submit(h, ["a@script.test"], message("a@script.test", "stalled"))
    wait_for(lambda: any(c == b"DATA" for (_, _, c) in srv.commands), what="DATA sent")
    [qid] = queue_ids(h)
    assert h.ctl("queue", "delete", qid).stdout.strip() == f"{qid} deleted"
    wait_for(lambda: srv.closed, what="the client to hang up")   # no final dot: nothing delivered
    assert queue_empty(h) and srv.data == []
    wait_log(h, rf"{qid}: deleted from the queue by the administrator")
    time.sleep(2)                                               # deliberate: past the 1s retry, no new try
    assert srv.sessions == 1
    assert h.messages(ALICE) == []


def test_queue_delete_without_a_running_daemon(world):
    h = world["make_sender"](retry="1h")
    submit(h, ["someone@remote.test"], message("someone@remote.test", "offline delete"))
    wait_log(h, r"deferred")
    [qid] = queue_ids(h)
    h.stop()
    r = h.ctl("queue", "delete", qid)
    assert r.stdout.strip() == f"{qid} deleted (hostmaild is not running)"
    assert queue_ids(h) == []
    remote = world["remote"].start()
    assert start_counting_queue(h) == 0
    assert remote.messages("someone@remote.test") == []


def test_queue_show_then_bounce_returns_the_message_to_its_sender(world):
    h = world["make_sender"](retry="1h")
    submit(h, ["someone@remote.test", "bob@acme.test"], message("someone@remote.test", "returned"))
    wait_log(h, r"to=<someone@remote\.test>: deferred")
    [qid] = queue_ids(h)
    show = h.ctl("queue", "show", qid).stdout
    assert f"id: {qid}\n" in show and "sender: <alice@acme.test>\n" in show
    assert "account: acme\n" in show
    assert "rcpt: <bob@acme.test> local done attempts=1\n" in show
    assert re.search(r"^rcpt: <someone@remote\.test> remote pending attempts=1 next=\S+Z "
                     r"error=4\.4\.1 connect to mx\.remote\.test\[127\.0\.0\.1\]", show, re.M), show
    assert h.ctl("queue", "bounce", qid).stdout.strip() == f"{qid} returned to its sender"
    t = assert_dsn(bounces(h)[0], "someone@remote.test", "5.0.0")
    assert "returned to the sender by the mail administrator" in t
    assert "Final-Recipient: rfc822; bob@acme.test" not in t       # that one was delivered
    assert "Subject: returned" in t
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert len(h.messages("bob@acme.test")) == 1
    r = h.ctl("queue", "show", qid, check=False)
    assert r.returncode == 1 and "no such message" in r.stderr
    r = h.ctl("queue", "bounce", qid, check=False)
    assert r.returncode == 1 and "no such message" in r.stderr


def test_helo_fallback_when_ehlo_is_refused(scripted_world):
    """RFC 5321 3.2: a server that refuses EHLO gets HELO, and then no
    ESMTP parameters (no SIZE, no BODY) and no STARTTLS."""
    srv = scripted_world["scripted"](starttls=True, ehlo_refused=True)
    h = scripted_world["make_sender"]()
    # 7-bit: without 8BITMIME an 8-bit body goes as quoted-printable
    # (test_outbound_wire.py), not byte for byte
    data = message("a@script.test", "helo only", body="First line.\r\n.dot\r\nlast line\r\n")
    submit(h, ["a@script.test"], data)
    wait_for(lambda: srv.data, what="DATA at the scripted server")
    wait_for(lambda: queue_empty(h), what="queue empty")
    cmds = [c for (_, _, c) in srv.commands]
    assert cmds[:3] == [b"EHLO mx.test.example", b"HELO mx.test.example", b"MAIL FROM:<alice@acme.test>"], cmds
    assert b"STARTTLS" not in cmds
    assert re.sub(rb"(?m)^\.", b"", srv.data[0][:-3]).endswith(data)


def test_unknown_domain_bounces_at_once(world):
    """A domain that does not exist (NXDOMAIN) is a permanent failure:
    5.1.2, a bounce to the sender, nothing left queued."""
    h = world["make_sender"](retry="1h")
    submit(h, ["x@nowhere.test"], message("x@nowhere.test", "nxdomain"))
    [b] = bounces(h)
    assert_dsn(b, "x@nowhere.test", "5.1.2")
    wait_for(lambda: queue_empty(h), what="queue empty")


def test_dns_server_down_is_a_temporary_failure(world):
    """No answer from the name server is temporary: 4.4.3, the message
    stays queued (next try and error in queue list), no bounce."""
    world["dns"].stop()
    h = world["make_sender"](retry="1h")
    submit(h, ["someone@remote.test"], message("someone@remote.test", "no dns"))
    wait_log(h, r"to=<someone@remote\.test>: deferred: reason=\"4\.4\.3 MX lookup for remote\.test failed")
    [line] = h.ctl("queue", "list").stdout.splitlines()
    assert "someone@remote.test=pending" in line and 'error="4.4.3' in line, line
    assert h.messages(ALICE) == []


def test_global_connection_limit(scripted_world):
    """[delivery] max_connections bounds the connections of all domains
    together: two domains on one MX, limit 1, one connection at a time."""
    h = scripted_world["make_sender"](extra="max_connections = 1", retry="1h")
    submit(h, ["a@script.test"], message("a@script.test", "one"))
    submit(h, ["b@script2.test"], message("b@script2.test", "two"))
    wait_log(h, r"to=<b@script2\.test>: deferred: reason=\"4\.4\.1 connect to mx\.script\.test")
    wait_log(h, r"to=<a@script\.test>: deferred: reason=\"4\.4\.1 connect to mx\.script\.test")
    srv = scripted_world["scripted"](starttls=False, hold=1.0)   # waits for company before its 250
    assert h.ctl("queue", "flush").stdout.strip() == "2 message(s) to be tried now"
    wait_for(lambda: len(srv.data) == 2, timeout=30, what="two deliveries")
    assert srv.max_open == 1


def test_remote_that_stalls_is_timed_out_and_retried(scripted_world):
    """A remote that never answers DATA: the client gives up after
    data_init_timeout, hangs up, and keeps the message for a retry."""
    srv = scripted_world["scripted"](starttls=False, stall_data=True)
    h = scripted_world["make_sender"](extra="data_init_timeout = 1", retry="1h")
    submit(h, ["a@script.test"], message("a@script.test", "stalled"))
    wait_log(h, r"to=<a@script\.test>: deferred: reason=\"4\.4\.2 timeout with mx\.script\.test\[127\.0\.0\.5\]")
    wait_for(lambda: srv.closed, what="the client to hang up")
    [line] = h.ctl("queue", "list").stdout.splitlines()
    assert "a@script.test=pending" in line and "timeout" in line, line
    assert srv.data == [] and h.messages(ALICE) == []
