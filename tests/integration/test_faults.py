"""Fault injection (issue 9): the disk says ENOSPC or EIO on write, fsync,
rename or open, through an LD_PRELOAD shim (tests/faults/faultfs.c, built
as $HOSTMAIL_BUILD/faultfs.so by `make integration`). Whatever fails, the
client gets a 4xx (never a 250 for something not on disk), no partial file
is left in the queue or a Maildir, nothing acknowledged is lost, and the
server goes on serving once the fault is gone."""
import os
import pwd
import re
import smtplib
import subprocess

import pytest

from conftest import BUILD, ROOT, RUN_AS, Hostmail, RawSMTP, queue_files, setup_demo, wait_for

SHIM = os.path.join(BUILD, "faultfs.so")
ALICE, BOB = "alice@acme.test", "bob@acme.test"


class FaultyHostmail(Hostmail):
    """A hostmaild with the shim preloaded; faults are set by rewriting the
    control file (the shim re-reads it when it changes)."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path, extra="[queue]\nretry_schedule = 1s\nmax_age = 1h\n")
        self.ctl_path = os.path.join(self.dir, "faults.ctl")
        self.hits_path = os.path.join(self.dir, "faults.log")

    def start(self):
        if not os.path.exists(SHIM):     # `make integration` builds it; a bare pytest run may not have
            subprocess.run(["make", "-C", ROOT, f"BUILD={BUILD}", SHIM], capture_output=True, timeout=120)
        assert os.path.exists(SHIM), f"{SHIM} missing: build it with `make BUILD={BUILD} {SHIM}`"
        env = dict(os.environ, LD_PRELOAD=SHIM, HOSTMAIL_FAULTS=self.ctl_path,
                   HOSTMAIL_FAULTS_LOG=self.hits_path,
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        # the daemon appends to the hits log as its own user
        open(self.hits_path, "a").close()
        if RUN_AS:
            pw = pwd.getpwnam(RUN_AS)
            os.chown(self.hits_path, pw.pw_uid, pw.pw_gid)
        return super().start(env=env)

    def fault(self, *rules):
        """Replace the rules: ("op", "pattern", "ERRNO", count[, skip])."""
        tmp = self.ctl_path + ".new"
        with open(tmp, "w") as f:
            for r in rules:
                f.write(" ".join(str(x) for x in r) + "\n")
        os.replace(tmp, self.ctl_path)

    def clear(self):
        self.fault()

    def hits(self):
        if not os.path.exists(self.hits_path):
            return []
        with open(self.hits_path) as f:
            return [ln.split(" ", 2) for ln in f.read().splitlines()]

    def reset_hits(self):
        if os.path.exists(self.hits_path):
            os.truncate(self.hits_path, 0)


@pytest.fixture
def fs(tmp_path):
    h = FaultyHostmail(tmp_path)
    setup_demo(h)
    h.clear()
    h.start()
    yield h
    h.stop()


def body_for(token, lines=40):
    filler = "".join(f"line {i} of {token} .......................................\r\n" for i in range(lines))
    return (f"From: someone@example.org\r\nTo: {ALICE}\r\nSubject: {token}\r\n"
            f"Message-Id: <{token}@faults.example.org>\r\n\r\n{filler}END {token}\r\n").encode()


def send(h, token, rcpts=(ALICE,), lines=40):
    """One transaction on a new connection: the DATA reply (code, text)."""
    s = smtplib.SMTP("127.0.0.1", h.smtp_port, local_hostname="client.test", timeout=20)
    try:
        s.ehlo()
        s.mail("someone@example.org")
        for r in rcpts:
            code, _ = s.rcpt(r)
            assert code == 250, (r, code)
        try:
            code, text = s.data(body_for(token, lines))
        except smtplib.SMTPDataError as e:      # refused at DATA itself
            code, text = e.smtp_code, e.smtp_error
        # the session is still usable after a failed transaction
        assert s.noop()[0] == 250
        return code, text.decode()
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass


def files(h, address, sub):
    d = os.path.join(h.maildir(address), sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def delivered(h, address, token):
    """Messages with this token in new/ and cur/ (each checked complete)."""
    out = []
    for m in h.messages(address):
        if f"Subject: {token}\n".encode() in m:
            assert m.endswith(f"END {token}\n".encode()), m[-200:]
            out.append(m)
    return out


def queue_clean(h):
    return queue_files(h, "tmp") == [] and queue_files(h, "msg") == [] and queue_files(h, "env") == []


def assert_still_serving(h, token):
    """With the fault gone, a new message is accepted and delivered."""
    h.clear()
    code, text = send(h, token, (BOB,))
    assert code == 250, (code, text)
    wait_for(lambda: delivered(h, BOB, token), what=f"{token} delivered")
    wait_for(lambda: queue_clean(h), what="queue drained")


# --- faults while a message is received -----------------------------------------

RECEIVE_FAULTS = [
    # op, path pattern, errno, count, skip, expected reply
    ("write", "*/queue/tmp/*.msg", "ENOSPC", -1, 0, (452, "4.3.1")),
    ("write", "*/queue/tmp/*.msg", "ENOSPC", 1, 3, (452, "4.3.1")),   # in the middle of the body
    ("write", "*/queue/tmp/*.msg", "ENOSPC:short", 1, 3, (452, "4.3.1")),   # a short write, then ENOSPC
    ("write", "*/queue/tmp/*.msg", "EIO", -1, 0, (451, "4.3.0")),
    ("openat", "*/queue/tmp/*.msg", "ENOSPC", 1, 0, (452, "4.3.1")),
    ("fsync", "*/queue/tmp/*.msg", "EIO", 1, 0, (451, "4.3.0")),
    ("fsync", "*/queue/tmp/*.msg", "ENOSPC", 1, 0, (452, "4.3.1")),
    ("pwrite", "*/queue/tmp/*.msg", "EIO", 1, 0, (451, "4.3.0")),     # the size, at the commit
    ("rename", "*/queue/env/*", "ENOSPC", 1, 0, (452, "4.3.1")),
    ("fsync", "*/queue/env", "EIO", 1, 0, (451, "4.3.0")),
]


@pytest.mark.parametrize("op,pattern,err,count,skip,want", RECEIVE_FAULTS,
                         ids=[f"{r[0]}-{'/'.join(r[1].split('/')[-2:])}-{r[2].replace(':', '-')}-skip{r[4]}" for r in RECEIVE_FAULTS])
def test_fault_while_receiving_gives_4xx_and_leaves_nothing(fs, op, pattern, err, count, skip, want):
    fs.fault((op, pattern, err, count, skip))
    code, text = send(fs, "f-1", lines=3000)      # ~200 KB: many writes
    assert (code, text.split(" ")[0]) == want, (code, text, fs.logtext()[-2000:])
    assert fs.hits() and fs.hits()[0][0] in (op, "short-write"), fs.hits()
    # no partial or orphaned file anywhere in the queue, nothing delivered
    assert queue_clean(fs), (queue_files(fs, "tmp"), queue_files(fs, "msg"), queue_files(fs, "env"))
    fs.wait_sessions_done()
    assert delivered(fs, ALICE, "f-1") == []
    assert re.search(r"queue (write|commit) failed|cannot create queue file", fs.logtext())
    # the client retries (as a 4xx tells it to) once the disk is back: delivered once
    fs.clear()
    code, text = send(fs, "f-1", lines=3000)
    assert code == 250, (code, text)
    wait_for(lambda: delivered(fs, ALICE, "f-1"), what="the retried message")
    assert_still_serving(fs, "f-after")
    assert len(delivered(fs, ALICE, "f-1")) == 1


def test_a_message_that_fails_to_commit_gives_its_budget_back(fs):
    """The recipients reserved at RCPT count only if the message is queued:
    a commit that fails (451) gives them back (issue 15)."""
    from test_budget import BODY, auth_session, away_from_the_hour, hour_used, wait_used
    away_from_the_hour()
    fs.ctl("account", "limits", "acme", "--per-hour", "5")
    s = auth_session(fs)
    assert s.mail(ALICE)[0] == 250
    assert [s.rcpt(f"x{k}@remote.test")[0] for k in range(2)] == [250, 250]
    assert hour_used(fs) == 2
    fs.fault(("fsync", "*/queue/env", "EIO", 1, 0))
    try:
        code, text = s.data(BODY)
    except smtplib.SMTPDataError as e:
        code, text = e.smtp_code, e.smtp_error
    assert code == 451, (code, text, fs.hits(), open(fs.ctl_path).read())
    assert wait_used(fs, 0) == 0
    fs.clear()
    assert s.mail(ALICE)[0] == 250
    assert [s.rcpt(f"y{k}@remote.test")[0] for k in range(2)] == [250, 250]
    assert s.data(BODY)[0] == 250
    s.quit()
    assert wait_used(fs, 2) == 2


# --- faults while a queued message is delivered to a Maildir -------------------------

MAILDIR_FAULTS = [
    ("write", "*/mail/acme.test/alice/tmp/*", "ENOSPC"),
    ("write", "*/mail/acme.test/alice/tmp/*", "EIO"),
    ("write", "*/mail/acme.test/alice/tmp/*", "ENOSPC:short"),
    ("openat", "*/mail/acme.test/alice/tmp/*", "ENOSPC"),
    ("fsync", "*/mail/acme.test/alice/tmp/*", "EIO"),
    ("rename", "*/mail/acme.test/alice/new/*", "EIO"),
    ("fsync", "*/mail/acme.test/alice/new", "EIO"),
]


@pytest.mark.parametrize("op,pattern,err", MAILDIR_FAULTS,
                         ids=[f"{r[0]}-{'/'.join(r[1].split('/')[-2:])}-{r[2].replace(':', '-')}" for r in MAILDIR_FAULTS])
def test_fault_in_maildir_delivery_keeps_message_queued_until_it_works(fs, op, pattern, err):
    fs.fault((op, pattern, err, -1))
    code, text = send(fs, "m-1", (ALICE, BOB))
    assert code == 250, (code, text)
    # bob's copy is delivered; alice's fails, is retried (1 s schedule), and stays queued
    wait_for(lambda: delivered(fs, BOB, "m-1"), what="bob's copy")
    # (the log line, not the shim's hit: it comes after the daemon cleaned up)
    wait_for(lambda: len(re.findall(r"to=<alice@acme\.test>: deferred", fs.logtext())) >= 2,
             what="a retry that fails again")
    assert len(fs.hits()) >= 2, fs.hits()
    assert files(fs, ALICE, "new") == [] and files(fs, ALICE, "cur") == []
    assert files(fs, ALICE, "tmp") == [], "a partial file was left in tmp/"
    assert len(queue_files(fs, "env")) == 1 and queue_files(fs, "tmp") == []
    assert re.search(r"to=<alice@acme\.test>: deferred: reason=\"4\.3\.0 maildir delivery failed", fs.logtext())
    # meanwhile the server goes on accepting and delivering
    code, text = send(fs, "m-2", (BOB,))
    assert code == 250
    wait_for(lambda: delivered(fs, BOB, "m-2"), what="a message during the fault")
    # the disk is back: delivered on the next retry, exactly once, complete
    fs.clear()
    wait_for(lambda: delivered(fs, ALICE, "m-1"), what="delivery after the fault")
    wait_for(lambda: queue_clean(fs), what="queue drained")
    assert len(delivered(fs, ALICE, "m-1")) == 1
    assert len(delivered(fs, BOB, "m-1")) == 1
    assert files(fs, ALICE, "tmp") == []
    assert_still_serving(fs, "m-after")


def test_retry_that_comes_due_during_a_slow_step_is_not_stranded(fs):
    """alice's copy fails (1 s retry) while bob's delivery in the same step
    takes 1.5 s (a slow disk): alice's retry time has passed when the step
    ends, so no timer is left to fire for it. It must be retried at once,
    not at the next full queue scan a minute later."""
    fs.fault(("write", "*/mail/acme.test/alice/tmp/*", "ENOSPC", -1),
             ("rename", "*/mail/acme.test/bob/new/*", "DELAY:1500", 1))
    code, _ = send(fs, "s-1", (ALICE, BOB))
    assert code == 250
    wait_for(lambda: delivered(fs, BOB, "s-1"), what="bob's copy")
    assert any(h[0] == "delay" for h in fs.hits()), fs.hits()
    wait_for(lambda: len(re.findall(r"to=<alice@acme\.test>: deferred", fs.logtext())) >= 2,
             timeout=10, what="alice's retry, well before the minute's scan")
    fs.clear()
    wait_for(lambda: delivered(fs, ALICE, "s-1"), what="delivery once the disk is back")
    wait_for(lambda: queue_clean(fs), what="queue drained")


def test_fault_recording_a_delivery_never_loses_it(fs):
    """EIO when the queue appends "delivered" to the envelope: the message is
    in the Maildir, and stays queued (it may come twice, never zero times)."""
    fs.fault(("write", "*/queue/env/*", "EIO", 1))
    code, _ = send(fs, "r-1")
    assert code == 250
    wait_for(lambda: delivered(fs, ALICE, "r-1"), what="delivery")
    wait_for(lambda: fs.hits(), what="the fault")
    assert re.search(r"to=<alice@acme\.test>: delivered but cannot record it", fs.logtext())
    fs.clear()
    code, _ = send(fs, "r-after", (BOB,))
    assert code == 250
    wait_for(lambda: delivered(fs, BOB, "r-after"), what="a message after the fault")
    assert len(delivered(fs, ALICE, "r-1")) >= 1


def test_torn_envelope_record_is_cut_off_and_the_message_kept(fs):
    """The disk fills while the queue appends "delivered" to an envelope: half
    the record is written (no newline), then ENOSPC. The torn record must not
    count, the message stays queued, and after a restart it is delivered
    again (a duplicate, never a loss), the torn tail cut off before the next
    record, and the queue drains."""
    fs.fault(("write", "*/queue/env/*", "ENOSPC:short", 1))
    code, _ = send(fs, "t-1")
    assert code == 250
    wait_for(lambda: delivered(fs, ALICE, "t-1"), what="first delivery")
    wait_for(lambda: len(fs.hits()) >= 2, what="the short write and the failure")
    assert [h[0] for h in fs.hits()] == ["short-write", "write"], fs.hits()
    env = os.path.join(fs.data_dir, "queue", "env", queue_files(fs, "env")[0])
    with open(env, "rb") as f:
        text = f.read()
    assert not text.endswith(b"\n"), text[-40:]         # the torn record is there
    fs.clear()
    fs.stop()
    fs.start()
    wait_for(lambda: queue_clean(fs), what="queue drained after the restart")
    assert len(delivered(fs, ALICE, "t-1")) == 2          # once before, once after: no loss
    assert_still_serving(fs, "t-after")


@pytest.mark.parametrize("op", ["write", "openat"])
def test_enospc_during_bdat_gives_452_and_leaves_nothing(fs, op):
    """The same through CHUNKING (RFC 3030): the chunk that fails is
    answered 452 4.3.1, the transaction is gone, the session goes on."""
    # write: the queue file's first line (written when it is created) gets
    # through, every later write fails
    fs.fault((op, "*/queue/tmp/*.msg", "ENOSPC", -1, 1 if op == "write" else 0))
    c = RawSMTP(fs.smtp_port)
    try:
        assert c.reply().code == 220
        assert c.cmd("EHLO client.test").code == 250
        assert c.cmd("MAIL FROM:<someone@example.org>").code == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>").code == 250
        data = body_for("b-1")
        half = len(data) // 2
        c.send(b"BDAT %d\r\n" % half + data[:half])
        r = c.reply()
        if op == "openat":
            assert (r.code, r.enh) == (452, "4.3.1"), r
        else:
            assert r.code == 250, r     # accepted into a spool that can no longer be written
            c.send(b"BDAT %d LAST\r\n" % (len(data) - half) + data[half:])
            r = c.reply()
            assert (r.code, r.enh) == (452, "4.3.1"), r
        assert queue_clean(fs)
        fs.clear()
        assert c.cmd("MAIL FROM:<someone@example.org>").code == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>").code == 250
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        r = c.reply()
        assert r.code == 250, r
    finally:
        c.close()
    wait_for(lambda: delivered(fs, ALICE, "b-1"), what="the retried message")
    assert len(delivered(fs, ALICE, "b-1")) == 1
