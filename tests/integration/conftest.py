"""Shared fixtures: a real hostmaild on free loopback ports with its own data
directory, and helpers to run hostmailctl against the same configuration.

A test never sleeps to wait for something: it waits for the event itself
(wait_for, Hostmail.wait_log, wait_sessions_done, wait_messages), so it is
as fast as the daemon and never flakes on a slow machine (or under
ThreadSanitizer). A sleep stays only where time passing is the point (a
client trickling bytes, a deadline waited out to show nothing happens),
with a comment saying so."""
import errno
import os
import re
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("HOSTMAIL_BUILD", os.path.join(ROOT, "build"))
HOSTMAILD = os.path.join(BUILD, "hostmaild")
HOSTMAILCTL = os.path.join(BUILD, "hostmailctl")


# The store every Hostmail uses unless its configuration names one:
# sqlite (the default), or postgresql (make integration-pg): then this test
# process starts one private cluster (pg.py, tests/pg/pgctl.sh) on first
# use, each Hostmail gets a new database of its own with the schema made by
# `hostmailctl db init`, and the cluster is removed when the process ends.
STORE = os.environ.get("HOSTMAIL_TEST_STORE", "sqlite")
if STORE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"HOSTMAIL_TEST_STORE={STORE!r}: sqlite or postgresql")
ON_PG = STORE == "postgresql"
_SUITE_PG = []


def suite_pg():
    """The test process's own PostgreSQL cluster (HOSTMAIL_TEST_STORE=postgresql)."""
    if not _SUITE_PG:
        import atexit
        from pg import Cluster
        c = Cluster()
        atexit.register(c.destroy)
        _SUITE_PG.append(c)
    return _SUITE_PG[0]


def sqlite_only(why="about the SQLite file itself"):
    """Mark a test that checks the embedded store specifically."""
    return pytest.mark.skipif(ON_PG, reason=f"SQLite store only: {why}")


# Started by root (as on CI), hostmaild must switch to an unprivileged user,
# as in production: the tests give it hostmail (scripts/deps.sh adds it).
RUN_AS = "hostmail" if os.geteuid() == 0 else ""


def let_daemon_reach(path):
    """Search permission for others on path and every parent, so that the
    daemon's user can reach a directory made by root (pytest's are 0700)."""
    path = os.path.abspath(path)
    while path != "/":
        mode = os.stat(path).st_mode
        if not mode & 0o001:
            os.chmod(path, (mode & 0o7777) | 0o011)
        path = os.path.dirname(path)


def _port_block():
    """The ports this test process may hand out: below the kernel's
    ephemeral range, so that no outgoing connection (of this run or of
    anything else on the machine) can take a daemon's port while a test
    restarts it, as one did on CI; one block per xdist worker, so that
    parallel workers never pick the same one."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral_low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    low, high = 10000, max(ephemeral_low, 12000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    size = (high - low) // 16
    start = low + (index % 16) * size
    return start, size


_PORT_BLOCK = _port_block()
# Start at a random place in the block: two runs at once on one machine
# (a developer's and a helper's) rarely meet.
_next_port = [int.from_bytes(os.urandom(2), "big") % _PORT_BLOCK[1]]


def free_port():
    """A loopback TCP port nobody listens on, outside the ephemeral range."""
    start, size = _PORT_BLOCK
    for _ in range(size):
        port = start + _next_port[0] % size
        _next_port[0] += 1
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(family)
            try:
                s.bind((host, port))
            except OSError as e:
                # No IPv6 on the machine is fine; a port taken on ::1 is not.
                if family == socket.AF_INET or e.errno == errno.EADDRINUSE:
                    break
            finally:
                s.close()
        else:
            return port
    raise RuntimeError("no free port in the test block")


def wait_for(pred, timeout=20.0, what="condition", interval=0.05):
    """Poll pred until it returns something true, and return that: the way
    a test waits for an event (a log line, a file, a process state), never
    a fixed sleep. AssertionError naming what after timeout seconds."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_port(port, host="127.0.0.1", timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not listening")


_PKI = {}


def pki():
    """A test CA and certificates, made once per test run with openssl:
    default.crt (mx.test.example, localhost, 127.0.0.1, ::1) and, in sni/,
    mail007.example.net and the wildcard *.mail.example.net."""
    if _PKI:
        return _PKI
    import tempfile
    d = tempfile.mkdtemp(prefix="hostmail-pki-")
    sni = os.path.join(d, "sni")
    os.makedirs(sni)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj", "/CN=hostmail test CA",
        "-keyout", ca_key, "-out", ca_crt)

    def leaf(path, cn, sans):
        key, csr, crt, ext = path + ".key", path + ".csr", path + ".crt", path + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join(sans) + "\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", key, "-out", csr)
        run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "3", "-extfile", ext, "-out", crt)
        os.unlink(csr)
        os.unlink(ext)

    leaf(os.path.join(d, "default"), "mx.test.example",
         ["DNS:mx.test.example", "DNS:localhost", "IP:127.0.0.1", "IP:::1"])
    leaf(os.path.join(sni, "mail007.example.net"), "mail007.example.net", ["DNS:mail007.example.net"])
    leaf(os.path.join(sni, "_wildcard.mail.example.net"), "*.mail.example.net", ["DNS:*.mail.example.net"])
    # test keys only: readable by the daemon's user, which reloads them on SIGHUP
    for root, dirs, files in os.walk(d):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    _PKI.update(dir=d, ca=ca_crt, crt=os.path.join(d, "default.crt"),
                key=os.path.join(d, "default.key"), sni=sni)
    return _PKI


def _inline(query, params):
    """query with each ? replaced by params' next value as an SQL literal."""
    parts = query.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(params)} parameters for {query!r}")
    out = [parts[0]]
    for v, rest in zip(params, parts[1:]):
        out.append(str(int(v)) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'")
        out.append(rest)
    return "".join(out)


class Hostmail:
    """A configuration + data directory, the ctl tool, and (optionally) a
    running daemon."""

    def __init__(self, tmp_path, extra="", host="127.0.0.1"):
        self.dir = str(tmp_path)
        self.host = host                # every listener's address
        let_daemon_reach(self.dir)
        self.data_dir = os.path.join(self.dir, "data")
        self.pick_ports()
        self.started_once = False
        self.pki = pki()
        self.config = os.path.join(self.dir, "hostmail.ini")
        self.log_path = os.path.join(self.dir, "hostmaild.log")
        self.extra = extra
        self.pg_dsn = None
        if ON_PG and "[store]" not in extra:
            from pg import store_config
            c = suite_pg()
            self.pg_dsn = c.dsn(c.new_database())
            self.extra = extra + store_config(self.pg_dsn, timeout="5s")
        self.proc = None
        self.write_config()
        if self.pg_dsn:
            self.ctl("db", "init")

    PORTS = ("smtp_port", "smtp_port2", "submission_port", "submissions_port",
             "pop3_port", "pop3s_port", "acc_port")

    def pick_ports(self):
        for name in self.PORTS:
            setattr(self, name, free_port())

    def write_config(self):
        with open(self.config, "w") as f:
            f.write(f"""[server]
hostname = mx.test.example
data_dir = {self.data_dir}
{"user = " + RUN_AS if RUN_AS else ""}

[listen]
smtp = {self.host}:{self.smtp_port}{f", [::1]:{self.smtp_port2}" if self.host == "127.0.0.1" else ""}
submission = {self.host}:{self.submission_port}
submissions = {self.host}:{self.submissions_port}
pop3 = {self.host}:{self.pop3_port}
pop3s = {self.host}:{self.pop3s_port}
acc = {self.host}:{self.acc_port}

[tls]
certificate = {self.pki["crt"]}
key = {self.pki["key"]}
sni_dir = {self.pki["sni"]}

# Remote domains resolve nowhere: nothing a test sends leaves loopback
# (a refused UDP port makes every lookup a temporary failure, so relayed
# mail stays queued). Outbound tests name their own dnsmasq.
[delivery]
dns_servers = 127.0.0.1:1

[limits]
message_size = 1048576
{self.extra}
""")

    def ctl(self, *args, input=None, check=True):
        r = subprocess.run([HOSTMAILCTL, "-c", self.config, *args],
                           input=input, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"hostmailctl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r

    def start(self, env=None, preexec_fn=None):
        self.log = open(self.log_path, "ab")
        for attempt in range(5):
            start = os.path.getsize(self.log_path)
            self.proc = subprocess.Popen([HOSTMAILD, "-c", self.config], env=env,
                                         stdout=self.log, stderr=subprocess.STDOUT,
                                         preexec_fn=preexec_fn)
            if self._wait_up(start):
                self.started_once = True
                return self
            # free_port() only found ports free a moment ago: another
            # process on the machine may have taken one since. Before the
            # first start nothing depends on the numbers, so pick again.
            self.proc.wait()
            self.log.flush()
            with open(self.log_path, "rb") as f:
                f.seek(start)
                why = f.read().decode("utf-8", "replace")
            if self.started_once or "Address already in use" not in why:
                raise RuntimeError(f"hostmaild did not start: {why}")
            self.pick_ports()
            self.write_config()
        raise RuntimeError("hostmaild: no free ports after 5 tries")

    def _wait_up(self, log_offset, timeout=20.0):
        """True once this daemon says it has started (every listener bound);
        False if it exited. Not by connecting to a port: free_port() only
        found it free a moment ago, and another test's process listening
        there would answer for a daemon that failed to bind it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(log_offset)
                if b"hostmaild started:" in f.read():
                    return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        raise RuntimeError(f"hostmaild: not started after {timeout} s; see {self.log_path}")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.check_sanitizers()

    SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                         "WARNING: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")

    def check_sanitizers(self):
        """A daemon built with sanitizers (make integration-asan) reports to
        its log; any report fails the test that ran it."""
        if not os.path.exists(self.log_path):
            return
        text = self.logtext()
        for marker in self.SANITIZER_REPORTS:
            at = text.find(marker)
            if at >= 0:
                raise AssertionError(f"sanitizer report in {self.log_path}:\n" + text[max(0, at - 200):at + 4000])

    def sql(self, query, params=()):
        """Run one statement on this daemon's store, whichever it is (qmark
        parameters); its rows as tuples, integers as int."""
        if self.pg_dsn:
            return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in row)
                    for row in suite_pg().psql(_inline(query, params), self.pg_dsn.split("dbname=")[1])]
        import sqlite3
        con = sqlite3.connect(os.path.join(self.data_dir, "hostmail.db"), timeout=10)
        try:
            with con:
                return con.execute(query, params).fetchall()
        finally:
            con.close()

    def kill9(self):
        self.stop(signal.SIGKILL)

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_since_start(self):
        """The log since the daemon last started."""
        text = self.logtext()
        at = text.rfind("hostmaild started:")
        return text[at:] if at >= 0 else text

    def wait_log(self, pattern, timeout=20.0, count=1):
        """Wait until the log has count matches of the regular expression
        pattern; returns the last match."""
        def found():
            m = list(re.finditer(pattern, self.logtext()))
            return m[-1] if len(m) >= count else None
        return wait_for(found, timeout, f"log /{pattern}/ x{count} in {self.log_path}:\n"
                        + (self.logtext()[-3000:] if os.path.exists(self.log_path) else ""))

    def sessions_open(self, svc):
        """Sessions of svc ("smtp", "pop3", "acc") that connected since the
        daemon started and are not yet freed (no "disconnect" line)."""
        text = self.log_since_start()
        opened = re.findall(rf"\b{svc}\[(\d+)\] ip=\S+: connect\b", text)
        closed = re.findall(rf"\b{svc}\[(\d+)\] ip=\S+: disconnect\b", text)
        return set(opened) - set(closed)

    def wait_sessions_done(self, svc="smtp", timeout=20.0):
        """Wait until every session of svc has been freed: whatever it was
        going to queue, deliver to the queue or log is done. A test that
        shows nothing was accepted checks after this, not after a sleep."""
        wait_for(lambda: not self.sessions_open(svc), timeout, f"every {svc} session to end")

    def maildir(self, address):
        local, domain = address.lower().split("@")
        return os.path.join(self.data_dir, "mail", domain, local)

    def messages(self, address):
        """Contents (bytes) of every message in the Maildir's new/ and cur/."""
        out = []
        md = self.maildir(address)
        for sub in ("new", "cur"):
            d = os.path.join(md, sub)
            if os.path.isdir(d):
                for name in sorted(os.listdir(d)):
                    with open(os.path.join(d, name), "rb") as f:
                        out.append(f.read())
        return out

    def wait_messages(self, address, n, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.messages(address)
            if len(msgs) >= n:
                return msgs
            time.sleep(0.05)
        return self.messages(address)


@pytest.fixture
def hm(tmp_path):
    h = Hostmail(tmp_path)
    yield h
    h.stop()


@pytest.fixture(scope="session")
def pg_cluster():
    """A private PostgreSQL cluster (tests/integration/pg.py) for this test
    process, removed at its end."""
    from pg import Cluster
    c = Cluster()
    yield c
    c.destroy()


@pytest.fixture
def pg_dsn(pg_cluster):
    """The libpq connection string of a new, empty database in pg_cluster."""
    return pg_cluster.dsn(pg_cluster.new_database())


@pytest.fixture
def demo(hm):
    """A data directory with one account, domain and two mailboxes (no
    DKIM keys: an RSA-2048 key costs a few tenths of a second, hundreds of
    times a suite; test_dkim.py makes them where it needs them)."""
    hm.ctl("account", "add", "acme", "--server-number", "7")
    hm.ctl("domain", "add", "acme", "acme.test", "--no-dkim")
    hm.ctl("mailbox", "add", "alice@acme.test", input="alice-secret\n")
    hm.ctl("mailbox", "add", "bob@acme.test", input="bob-secret\n")
    return hm


@pytest.fixture
def server(demo):
    demo.start()
    return demo


# --- helpers for the SMTP and durability tests -------------------------------


REPLY_LINE = re.compile(rb"^(\d{3})([ -])(.*)$")
ENH = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)")


class Reply:
    """One SMTP reply: code, its text lines (str), and the raw lines."""

    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines
        self.raw = raw

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def enh(self):
        """Enhanced status code of the first line ("5.1.1"), or None."""
        m = ENH.match(self.lines[0]) if self.lines else None
        return m.group(0).strip() if m else None

    def __repr__(self):
        return f"Reply({self.code}, {self.lines!r})"


class RawSMTP:
    """A byte-level SMTP client for protocol edge cases (pipelining,
    overlong lines, bare LF). Every reply read is kept in self.transcript."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, family=None):
        if family is None:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.buf = b""
        self.transcript = []

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.transcript.append(("C", data))
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; partial {self.buf!r}; transcript {self.transcript!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        lines, raw, code = [], [], None
        while True:
            line = self._line()
            raw.append(line)
            m = REPLY_LINE.match(line)
            if not m:
                raise AssertionError(f"malformed reply line {line!r}")
            if code is None:
                code = int(m.group(1))
            elif int(m.group(1)) != code:
                raise AssertionError(f"reply code changed inside a multi-line reply: {raw!r}")
            lines.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                break
        r = Reply(code, lines, raw)
        self.transcript.append(("S", r))
        return r

    def cmd(self, line):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True if the server closes the connection (EOF) within timeout,
        with no further bytes sent."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        if data:
            raise AssertionError(f"unexpected bytes before close: {data!r}")
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def queued_id(reply_text):
    """The ID from "2.0.0 Ok: queued as ID" (str or bytes), or None."""
    if isinstance(reply_text, bytes):
        reply_text = reply_text.decode("utf-8", "replace")
    m = re.search(r"queued as (\S+)", reply_text)
    return m.group(1) if m else None


def message_files(hm, address, subs=("new", "cur")):
    """Paths of every message file in the Maildir's new/ (and cur/)."""
    out = []
    md = hm.maildir(address)
    for sub in subs:
        d = os.path.join(md, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, n) for n in sorted(os.listdir(d))]
    return out


def queue_files(hm, sub):
    d = os.path.join(hm.data_dir, "queue", sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def setup_demo(h):
    """The same account, domain and mailboxes as the `demo` fixture."""
    h.ctl("account", "add", "acme", "--server-number", "7")
    h.ctl("domain", "add", "acme", "acme.test", "--no-dkim")
    h.ctl("mailbox", "add", "alice@acme.test", input="alice-secret\n")
    h.ctl("mailbox", "add", "bob@acme.test", input="bob-secret\n")
    return h


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(extra="[smtp]\\ntimeout = 2\\n") -> a running
    demo server with extra configuration appended."""
    made = []

    def make(extra=""):
        d = tmp_path / f"srv{len(made)}"
        d.mkdir()
        h = Hostmail(d, extra=extra)
        made.append(h)
        setup_demo(h)
        return h.start()

    yield make
    for h in made:
        h.stop()
