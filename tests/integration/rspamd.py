"""A private rspamd (Debian's rspamd) as a milter: its proxy worker in
milter mode (`milter = yes`, scanning itself: no normal worker) on a
loopback port, with a configuration written here. The system's
/etc/rspamd is the base (its modules and rules); everything local comes
from this instance's own directory (LOCAL_CONFDIR, DBDIR, RUNDIR,
LOGDIR). Nothing leaves loopback: DNS goes to a closed loopback port (every
lookup fails at once), network modules are off, and the test patterns
(GTUBE and its siblings) are on. Greylisting needs Redis: with
greylist=True a private redis-server is started too.

    rs = Rspamd(tmp_path).start()
    ... [milter] inbound = inet:127.0.0.1:{rs.port} ...
    rs.stop()

Used by tests/integration/test_milter.py and the benchmark (bench/)."""
import os
import shutil
import signal
import subprocess

from conftest import free_port, wait_for, wait_port

# rspamd's test patterns (rspamd 3.4, Debian 12): each forces an action
GTUBE_REJECT = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
GTUBE_ADD_HEADER = "YJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
GTUBE_REWRITE_SUBJECT = "ZJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
# a header of ours ("X-Test-Greylist: please") that scores enough for
# rspamd's greylist action (our multimap rule)
GREYLIST_HEADER = "X-Test-Greylist"


def have_rspamd():
    return bool(shutil.which("rspamd"))


def have_redis():
    return bool(shutil.which("redis-server"))


class Redis:
    def __init__(self, root):
        self.dir = os.path.join(root, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
            stdout=open(os.path.join(self.dir, "redis.log"), "ab"), stderr=subprocess.STDOUT)
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
        self.proc = None


class Rspamd:
    def __init__(self, root, greylist=False):
        self.root = os.path.join(str(root), "rspamd")
        self.local = os.path.join(self.root, "local")
        for d in ("local/local.d", "local/override.d", "db", "run", "log"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        self.port = free_port()
        self.config = os.path.join(self.root, "rspamd.conf")
        self.log_path = os.path.join(self.root, "log", "rspamd.log")
        self.redis = Redis(self.root) if greylist else None
        self.proc = None

    def _write(self, name, text):
        with open(os.path.join(self.local, name), "w") as f:
            f.write(text)

    def write_config(self):
        with open(self.config, "w") as f:
            f.write(f"""# a private rspamd for hostmail's tests (tests/integration/rspamd.py)
.include "$CONFDIR/common.conf"
options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}}
logging {{
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "info";
}}
worker "rspamd_proxy" {{
    bind_socket = "127.0.0.1:{self.port}";
    milter = yes;
    timeout = 120s;
    count = 1;
    upstream "local" {{
        default = yes;
        self_scan = yes;
    }}
}}
""")
        self._write("local.d/options.inc", """
enable_test_patterns = true;
local_addrs = "192.0.2.0/32";
dns {
    nameserver = ["127.0.0.1:1"];
    timeout = 1s;
    retransmits = 1;
}
""")
        for mod in ("fuzzy_check", "rbl", "surbl", "phishing", "emails", "asn", "url_redirector",
                    "rspamd_update", "reputation", "neural", "history_redis", "ratelimit",
                    "replies", "mx_check", "external_services", "antivirus", "dcc", "clickhouse",
                    "elastic", "metadata_exporter", "metric_exporter", "p0f", "bimi", "spamtrap",
                    "maillist", "whitelist"):
            self._write(f"local.d/{mod}.conf", "enabled = false;\n")
        # rspamd's headers on every message (local or not): score, results
        self._write("local.d/milter_headers.conf", """
use = ["authentication-results", "x-spamd-result", "x-spam-status"];
skip_local = false;
skip_authenticated = false;
authenticated_headers = [];
# rspamd would delete the first Authentication-Results it finds; hostmail
# itself removes the ones naming it (forged), and keeps the others
routines {
    authentication-results {
        remove = false;
    }
}
""")
        if self.redis:
            self._write("local.d/redis.conf", f'servers = "127.0.0.1:{self.redis.port}";\n')
            self._write("local.d/greylist.conf", f"""
enabled = true;
servers = "127.0.0.1:{self.redis.port}";
check_local = true;
check_authed = true;
timeout = 5min;
""")
            self._write("local.d/multimap.conf", f"""
TEST_GREYLIST {{
    type = "header";
    header = "{GREYLIST_HEADER}";
    map = ["please"];
    score = 5.0;
}}
""")
        else:
            self._write("local.d/greylist.conf", "enabled = false;\n")

    def start(self):
        if self.redis:
            self.redis.start()
        self.write_config()
        self.proc = subprocess.Popen(
            ["rspamd", "-f", "-i", "-c", self.config,
             f"--var=LOCAL_CONFDIR={self.local}", f"--var=DBDIR={self.root}/db",
             f"--var=RUNDIR={self.root}/run", f"--var=LOGDIR={self.root}/log"],
            stdout=open(os.path.join(self.root, "rspamd.stdout"), "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            wait_port(self.port, timeout=90)
        except Exception:
            raise AssertionError("rspamd did not start:\n" + self.logtext()[-3000:])
        return self

    @property
    def spec(self):
        return f"inet:127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.redis:
            self.redis.stop()

    def logtext(self):
        out = ""
        for p in (self.log_path, os.path.join(self.root, "rspamd.stdout")):
            try:
                with open(p, errors="replace") as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out
