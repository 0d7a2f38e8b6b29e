"""Crash consistency (issue 9): load runs through a real hostmaild, inbound
to hosted Maildirs and relayed outbound (SMTP AUTH) to a sink that DNS
(dnsmasq on a loopback port) names as the remote domain's MX, while the
daemon is killed with SIGKILL at random moments and restarted, cycle after
cycle. In the end every message acknowledged with 250 is where it belongs
(each local recipient's Maildir, the sink for each remote recipient) at
least once, with duplicates counted and printed, and no file in a Maildir's
new/ or cur/ was ever truncated or altered: each body is regenerated from
its token and compared byte for byte, after every kill and at the end.
Meanwhile bob reads his mail over POP3S (each login moves new/ to cur/),
and no MAIL or RCPT is ever refused.

HOSTMAIL_CRASH_CYCLES (default 20) and HOSTMAIL_CRASH_SECONDS (default 45,
the time the cycles may take) size the run; HOSTMAIL_CRASH_SEED repeats one."""
import base64
import hashlib
import os
import poplib
import random
import re
import signal
import smtplib
import socket
import ssl
import threading
import time

from conftest import Hostmail, queue_files, setup_demo, wait_for
from test_outbound import DNS, DNSMASQ

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists(DNSMASQ), reason="dnsmasq not installed")

CYCLES = int(os.environ.get("HOSTMAIL_CRASH_CYCLES", "20"))
SECONDS = float(os.environ.get("HOSTMAIL_CRASH_SECONDS", "45"))
SINK_IP = "127.0.0.9"
LOCAL = ["alice@acme.test", "bob@acme.test"]
REMOTE = ["someone@remote.test", "other@remote.test"]
ALICE_PW = "alice-secret"
BOB_PW = "bob-secret"


# --- messages: everything about a message follows from its token ---------------------

def message_for(token, sender):
    """The exact bytes sent (CRLF). The token ends in the payload line count."""
    nlines = int(token.rsplit("-", 1)[1])
    payload = "".join(f"{token} {i:05d} " + hashlib.sha1(f"{token}/{i}".encode()).hexdigest() + " ..........\r\n"
                      for i in range(nlines))
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return (f"From: <{sender}>\r\nTo: <undisclosed-recipients:;>\r\nSubject: crash {token}\r\n"
            f"X-Crash-Token: {token}\r\nMessage-ID: <{token}@crash.test>\r\n"
            f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\n\r\n"   # else submission adds one
            f"{payload}.leading dot {token}\r\nEND {token} sha256={digest}\r\n").encode()


TOKEN_RE = re.compile(rb"^X-Crash-Token: (\S+)\r?$", re.M)


def check_stored(data, senders, crlf):
    """(token, problem or None) for stored bytes: complete and exact?"""
    m = TOKEN_RE.search(data)
    if not m:
        return None, "no token"
    token = m.group(1).decode()
    if token not in senders:
        return token, "unknown token"
    want = message_for(token, senders[token])
    if not crlf:
        want = want.replace(b"\r\n", b"\n")
    if not data.endswith(want):
        return token, f"truncated or altered ({len(data)} bytes)"
    return token, None


# --- the remote MX: a sink that accepts everything -------------------------------------

class Sink:
    """A plain SMTP server on SINK_IP: records (rcpts, unstuffed data) of every
    message it answered 250 to. No STARTTLS, no pipelining."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((SINK_IP, 0))          # a port of its own: no race with other tests
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.stopped = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        f = c.makefile("rb")
        rcpts = []
        try:
            c.sendall(b"220 sink ESMTP\r\n")
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    c.sendall(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
                elif verb == b"MAIL":
                    rcpts = []
                    c.sendall(b"250 2.1.0 ok\r\n")
                elif verb == b"RCPT":
                    m = re.search(rb"<([^>]*)>", line)
                    rcpts.append(m.group(1).decode().lower() if m else "?")
                    c.sendall(b"250 2.1.5 ok\r\n")
                elif verb == b"DATA":
                    c.sendall(b"354 go\r\n")
                    lines = []
                    while True:
                        ln = f.readline()
                        if not ln:
                            return           # cut off: not accepted
                        if ln == b".\r\n":
                            break
                        lines.append(ln[1:] if ln.startswith(b".") else ln)
                    with self.lock:
                        self.got.append((list(rcpts), b"".join(lines)))
                    c.sendall(b"250 2.0.0 sunk\r\n")
                elif verb == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"250 ok\r\n")
        except OSError:
            return
        finally:
            c.close()

    def close(self):
        self.stopped = True
        self.sock.close()


# --- load ------------------------------------------------------------------------------

class Refused(smtplib.SMTPException):
    """MAIL or RCPT refused: never expected here."""


class Load:
    """Client threads sending until stopped, reconnecting whenever the daemon
    is down. acked: token -> recipients, for every 250 after DATA;
    senders: token -> envelope sender, for every message that reached DATA."""

    def __init__(self, h, rng):
        self.h, self.rng = h, rng
        self.acked, self.senders = {}, {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.seq = 0
        self.refused = {}
        self.pop_logins, self.pop_problems = 0, []
        self.errors = {}             # "kind: exception" -> count (the kills cause them)
        self.tls = ssl.create_default_context(cafile=h.pki["ca"])
        self.threads = [threading.Thread(target=self.run, args=(k, kind), daemon=True)
                        for k, kind in enumerate(["in", "in", "out", "out"])]
        self.threads.append(threading.Thread(target=self.pop, daemon=True))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def token(self, kind):
        with self.lock:
            self.seq += 1
            n = self.seq
            big = self.rng.random() < 0.2
            nlines = self.rng.randint(200, 2500) if big else self.rng.randint(1, 60)
            pick = self.rng.random()
        return f"{kind}{n}-{nlines}", pick

    def connect(self, kind):
        if kind == "in":
            # from another loopback address: the POP3 logins from 127.0.0.1
            # authorize that address to relay (POP-before-SMTP), and an
            # authorized client may not use a foreign sender
            s = smtplib.SMTP("127.0.0.1", self.h.smtp_port, local_hostname="load.example.org", timeout=10,
                             source_address=("127.0.0.3", 0))
            s.ehlo()
            return s
        s = smtplib.SMTP("127.0.0.1", self.h.submission_port, local_hostname="client.test", timeout=10)
        s.starttls(context=self.tls)
        s.login(LOCAL[0], ALICE_PW)
        return s

    def run(self, k, kind):
        while not self.stop.is_set():
            try:
                s = self.connect(kind)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)    # deliberate: the daemon is down (killed); a client retries
                continue
            try:
                while not self.stop.is_set():
                    self.one(s, kind)
            except (OSError, smtplib.SMTPException) as e:
                with self.lock:
                    key = f"{kind}: {e}" if isinstance(e, Refused) else f"{kind}: {type(e).__name__}"
                    self.errors[key] = self.errors.get(key, 0) + 1
            finally:
                s.close()

    def pop(self):
        """bob reads his mail over POP3S: each login moves new/ to cur/, so
        cur/ is written (renamed into) while the daemon is being killed.
        One message per login is fetched and checked; nothing is deleted."""
        while not self.stop.is_set():
            try:
                p = poplib.POP3_SSL("127.0.0.1", self.h.pop3s_port, context=self.tls, timeout=10)
                p.user(LOCAL[1])
                p.pass_(BOB_PW)
                n, _ = p.stat()
                with self.lock:
                    self.pop_logins += 1
                    senders = dict(self.senders)
                if n:
                    _, lines, _ = p.retr(self.rng.randint(1, n))
                    token, problem = check_stored(b"\r\n".join(lines) + b"\r\n", senders, crlf=True)
                    if problem:
                        self.pop_problems.append((token, problem))
                p.quit()
            except (OSError, poplib.error_proto):
                time.sleep(0.05)    # deliberate: the daemon is down (killed); a client retries
            time.sleep(0.3)         # deliberate: a mail program checking now and then

    def one(self, s, kind):
        token, pick = self.token(kind)
        if kind == "in":
            sender = "load@example.org"
            rcpts = [LOCAL[0]] if pick < 0.4 else [LOCAL[1]] if pick < 0.7 else list(LOCAL)
        else:
            sender = LOCAL[0]
            rcpts = [REMOTE[0]] if pick < 0.4 else list(REMOTE) if pick < 0.7 else [REMOTE[1], LOCAL[1]]
        code, msg = s.mail(sender)
        if code != 250:
            raise Refused(f"MAIL {code} {msg!r}")
        for r in rcpts:
            code, msg = s.rcpt(r)
            if code != 250:
                raise Refused(f"RCPT {code} {msg!r}")
        with self.lock:
            self.senders[token] = sender
        code, msg = s.data(message_for(token, sender))
        with self.lock:
            if code == 250:
                self.acked[token] = rcpts
            else:
                self.refused[code] = self.refused.get(code, 0) + 1


# --- checks ----------------------------------------------------------------------------

class Maildirs:
    """Every file in new/ and cur/ checked once (files there never change)."""

    def __init__(self, h):
        self.h = h
        self.seen = {}          # (address, unique name) -> token; new/ -> cur/ keeps the name
        self.problems = []

    def scan(self, senders):
        for addr in LOCAL:
            md = self.h.maildir(addr)
            for sub in ("new", "cur"):
                d = os.path.join(md, sub)
                if not os.path.isdir(d):
                    continue
                for name in os.listdir(d):
                    p = os.path.join(d, name)
                    key = (addr, name.split(":")[0])
                    if key in self.seen:
                        continue
                    with open(p, "rb") as f:
                        data = f.read()
                    token, problem = check_stored(data, senders, crlf=False)
                    sz = re.search(r",S=(\d+)", name)
                    if problem is None and sz and int(sz.group(1)) != len(data):
                        problem = f"S={sz.group(1)} but {len(data)} bytes"
                    if problem:
                        self.problems.append((p, problem))
                    self.seen[key] = token

    def copies(self):
        out = {}
        for (addr, _), token in self.seen.items():
            out[(token, addr)] = out.get((token, addr), 0) + 1
        return out

    def tmp_debris(self):
        n = 0
        for addr in LOCAL:
            d = os.path.join(self.h.maildir(addr), "tmp")
            n += len(os.listdir(d)) if os.path.isdir(d) else 0
        return n


def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path):
    seed = int(os.environ.get("HOSTMAIL_CRASH_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    dns = DNS(tmp_path).start("--mx-host=remote.test,mx.remote.test,10",
                              f"--host-record=mx.remote.test,{SINK_IP}")
    sink = Sink()
    mx_port = sink.port
    d = tmp_path / "crash"
    d.mkdir()
    h = Hostmail(d, extra=f"""
[queue]
retry_schedule = 1s
max_age = 1h

[delivery]
dns_servers = 127.0.0.1:{dns.port}
mx_port = {mx_port}
connect_timeout = 5
greeting_timeout = 10
command_timeout = 10
data_init_timeout = 10
data_block_timeout = 10
data_done_timeout = 10

[limits]
recipients_per_hour = 100000000
recipients_per_day = 100000000
""")
    setup_demo(h)
    load = Load(h, rng)
    boxes = Maildirs(h)
    kills, t0 = [], time.time()
    try:
        h.start()
        load.start()
        for cycle in range(CYCLES):
            if time.time() - t0 > SECONDS:
                break
            # mostly mid-stream; now and then right after start (during recovery)
            delay = rng.uniform(0.0, 0.15) if rng.random() < 0.2 else rng.uniform(0.2, 1.5)
            time.sleep(delay)       # deliberate: the kill lands at a random moment
            h.kill9()
            kills.append(round(delay, 2))
            with load.lock:
                senders = dict(load.senders)
            boxes.scan(senders)     # the daemon is dead: a torn file would show now
            h.start()
        # the last daemon serves too: at least one more message acknowledged
        with load.lock:
            n_before = len(load.acked)

        def more_acked():
            with load.lock:
                return len(load.acked) > n_before
        wait_for(more_acked, 30, "a message acknowledged by the last daemon")
        load.finish()
        n_acked = len(load.acked)
        assert n_acked > 0, h.logtext()[-3000:]

        # drain: every acknowledged recipient served, the queue empty
        def drained():
            return queue_files(h, "env") == []
        try:
            wait_for(drained, 60, "the queue to drain")
        except AssertionError:
            pass                    # the assertions below say what is left
        envs = queue_files(h, "env")
        boxes.scan(load.senders)

        copies = boxes.copies()
        sink_copies, sink_problems = {}, []
        with sink.lock:
            got = list(sink.got)
        for rcpts, data in got:
            token, problem = check_stored(data, load.senders, crlf=True)
            if problem:
                sink_problems.append((token, problem))
            for r in rcpts:
                sink_copies[(token, r)] = sink_copies.get((token, r), 0) + 1

        missing, dups, total = [], {}, 0
        for token, rcpts in load.acked.items():
            for r in rcpts:
                total += 1
                n = copies.get((token, r), 0) if r in LOCAL else sink_copies.get((token, r), 0)
                if n == 0:
                    missing.append((token, r))
                elif n > 1:
                    dups[(token, r)] = n
        unacked_delivered = {t for (t, _) in list(copies) + list(sink_copies)} - set(load.acked)
        print(f"\ncrash: seed {seed}, {len(kills)} SIGKILLs at {kills} s after start")
        print(f"crash: {n_acked} messages acknowledged ({total} recipients: "
              f"{sum(1 for t in load.acked.values() for r in t if r in LOCAL)} local, "
              f"{sum(1 for t in load.acked.values() for r in t if r not in LOCAL)} remote), "
              f"{len(load.senders) - n_acked} sent without a 250 (killed mid-transaction), "
              f"{len(unacked_delivered)} of those delivered anyway; refusals {load.refused}; "
              f"client errors {load.errors}")
        print(f"crash: Maildir files checked {len(boxes.seen)}, sink messages {len(got)}, "
              f"duplicates {len(dups)} ({sum(1 for (_, r) in dups if r in LOCAL)} local, "
              f"{sum(1 for (_, r) in dups if r not in LOCAL)} remote; "
              f"{sum(dups.values()) - len(dups)} extra copies), "
              f"Maildir tmp/ debris {boxes.tmp_debris()}, queue left {len(envs)}")
        print(f"crash: POP3S logins {load.pop_logins} (new/ moved to cur/: "
              f"{len(os.listdir(os.path.join(h.maildir(LOCAL[1]), 'cur')))} files in bob's cur/)")
        assert not boxes.problems, boxes.problems[:10]
        assert not load.pop_problems, load.pop_problems[:10]
        refusals = {k: n for k, n in load.errors.items() if k.split(": ", 1)[1].startswith(("MAIL ", "RCPT "))}
        assert not refusals and not load.refused, (refusals, load.refused)
        assert not sink_problems, sink_problems[:10]
        assert not missing, (f"{len(missing)} acknowledged deliveries lost: {missing[:10]}; "
                             f"queue {envs[:5]}; log:\n{h.logtext()[-3000:]}")
        assert not envs, f"queue not drained: {envs[:10]}"
        # hundreds of AUTH and POP3 logins later, no password in the log, plain or base64
        log = h.logtext()
        for secret in (ALICE_PW, BOB_PW):
            for form in (secret, base64.b64encode(secret.encode()).decode(),
                         base64.b64encode(f"\0{LOCAL[0]}\0{secret}".encode()).decode()):
                assert form not in log, f"a password in the log: {form}"
    finally:
        load.stop.set()
        h.stop(signal.SIGKILL)
        sink.close()
        dns.stop()
