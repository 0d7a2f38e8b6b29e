"""servers: the two mail servers under test, each a private instance on
loopback high ports in its own temporary directory, plus the helpers both
need (free ports, a self-signed certificate, process memory).

Hostmail   hostmaild + hostmailctl with a bench configuration: one account,
           domain bench.test, mailbox user@bench.test (password "benchpass").
Postfix    `postfix -c DIR start` with its own config_directory,
           queue_directory and data_directory; virtual(8) delivers
           user@bench.test to a Maildir. Nothing under /etc/postfix is used
           or changed, and nothing listens on port 25.

Both deliver user@bench.test to a Maildir whose new/ directory is
`maildir_new`, so a scenario counts delivered messages the same way.
"""
import glob
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import time

DOMAIN = "bench.test"
# hostmaild started as root runs as this user (scripts/deps.sh adds it),
# as in production; it refuses to run on as root
RUN_AS = "hostmail" if os.geteuid() == 0 else ""

USER = "user@" + DOMAIN
PASSWORD = "benchpass"
FD_LIMIT = 65536


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def raise_fd_limit():
    """Soft fd limit up to the hard limit (10,000 sessions need as many fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else FD_LIMIT
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make_cert(d):
    """Self-signed RSA-2048 certificate for 127.0.0.1 / localhost."""
    crt, key = os.path.join(d, "bench.crt"), os.path.join(d, "bench.key")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", crt], check=True, capture_output=True, timeout=60)
        os.chmod(key, 0o644)  # Postfix's smtpd reads it as root; only a bench key
    return crt, key


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """CPU time (user + system) of pids, plus what the first of them (the
    daemon, Postfix's master) has collected from its children that ended:
    the CPU an instance has used, even of processes that came and went."""
    ticks = 0
    for i, pid in enumerate(pids):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])          # utime, stime
        if i == 0:
            ticks += int(fields[13]) + int(fields[14])      # cutime, cstime
    return ticks / CLK_TCK


def smtp_banner(port, timeout=120.0):
    """Seconds until port answers a new connection with its 220 greeting
    (None if it does not within timeout)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                if s.recv(512).startswith(b"220"):
                    return time.time() - t0
        except OSError:
            pass
        time.sleep(0.01)
    return None


def session_pids(sid):
    """Processes of session sid (a Postfix master calls setsid(); its
    daemons stay in that session even after the master has exited)."""
    out = []
    for st in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(st) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                out.append(int(st.split("/")[2]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def count_dir(d):
    try:
        return len(os.listdir(d))
    except FileNotFoundError:
        return 0


def clear_dir(d):
    if os.path.isdir(d):
        for name in os.listdir(d):
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass


def stop_process(proc, timeout=60):
    """SIGTERM, then SIGKILL if it has not ended within timeout seconds."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _raise_limits():
    raise_fd_limit()


class Hostmail:
    name = "hostmail"

    def __init__(self, root, build, cert, workers=8):
        self.dir = os.path.join(root, "hostmail")
        os.makedirs(self.dir, exist_ok=True)
        self.hostmaild = os.path.join(build, "hostmaild")
        self.hostmailctl = os.path.join(build, "hostmailctl")
        self.data_dir = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "hostmail.ini")
        self.log_path = os.path.join(self.dir, "hostmaild.log")
        self.port = free_port()           # [listen] smtp (MX + submission, STARTTLS)
        self.submission_port = free_port()
        self.pop3_port = free_port()
        self.cert = cert
        self.workers = workers
        self.proc = None
        self.dns = None       # "address:port" of the DNS server while relaying
        self.mx_port = None
        self.extra = ""       # more configuration (a scenario's own sections)
        self.sni_dir = os.path.join(self.dir, "sni")
        os.makedirs(self.sni_dir, exist_ok=True)
        self.write_config()
        self.ctl("account", "add", "bench")
        self.ctl("domain", "add", "bench", DOMAIN)
        self.ctl("mailbox", "add", USER, input=PASSWORD + "\n")
        # relayed mail counts against the account's budgets: out of the way
        self.ctl("account", "limits", "bench", "--per-hour", "100000000", "--per-day", "100000000")
        self.maildir = os.path.join(self.data_dir, "mail", DOMAIN, "user")
        self.maildir_new = os.path.join(self.maildir, "new")

    def write_config(self):
        delivery = ""
        if self.dns:
            delivery = f"\n[delivery]\ndns_servers = {self.dns}\nmx_port = {self.mx_port}\nmax_per_domain = {os.environ.get('MPD', '10')}\n"
        with open(self.config, "w") as f:
            f.write(f"""[server]
hostname = hm.bench.test
data_dir = {self.data_dir}
worker_threads = {self.workers}
{"user = " + RUN_AS if RUN_AS else ""}

[listen]
smtp = 127.0.0.1:{self.port}
submission = 127.0.0.1:{self.submission_port}
pop3 = 127.0.0.1:{self.pop3_port}

[tls]
certificate = {self.cert[0]}
key = {self.cert[1]}
sni_dir = {self.sni_dir}

[pop3]
allow_plaintext_auth = yes

[limits]
message_size = 41943040
max_recipients = 1000
max_connections = 100000
max_connections_per_ip = 100000
min_free_space = 1048576

[smtp]
timeout = 30m
{delivery}{self.extra}""")

    def set_relay(self, dns, mx_port):
        """Deliver remote mail via the DNS server dns ("address:port") to
        port mx_port of the MX hosts it names; None, None: the defaults."""
        self.dns, self.mx_port = dns, mx_port
        self.write_config()

    def ctl(self, *args, input=None, check=True):
        r = subprocess.run([self.hostmailctl, "-c", self.config, *args], input=input,
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"hostmailctl {' '.join(args)}: {r.stderr.strip()}")
        return r

    def start(self, wrapper=()):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([*wrapper, self.hostmaild, "-c", self.config], stdout=log,
                                     stderr=subprocess.STDOUT, preexec_fn=_raise_limits)
        log.close()
        if not wait_port(self.port, timeout=120 if wrapper else 20):
            raise RuntimeError("hostmaild did not start; see " + self.log_path)

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def pids(self):
        return [self.proc.pid] if self.proc else []

    def session_pids(self):
        return self.pids()

    def queue_count(self):
        return count_dir(os.path.join(self.data_dir, "queue", "env"))

    def grant_relay(self):
        """POP-before-SMTP: a POP3 login from 127.0.0.1 authorizes that address
        to relay, so smtp-source (which cannot AUTH) sends as an authorized
        client, the way a customer's mail program does."""
        import poplib
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        p.user(USER)
        p.pass_(PASSWORD)
        p.quit()

    def revoke_relay(self, ip="127.0.0.1"):
        self.ctl("relay", "revoke", ip, check=False)

    def has_pop3(self):
        return self.proc is not None and listening(self.pop3_port)


class PgCluster:
    """A private PostgreSQL 15 cluster (tests/pg/pgctl.sh: a Unix socket in
    its own directory, never a system cluster). durable: fsync,
    synchronous_commit and full pages on, as a production database has
    them (pgctl.sh's test clusters run without)."""
    PGCTL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "pg", "pgctl.sh")

    def __init__(self, durable=True):
        self.dir = subprocess.run(["bash", self.PGCTL, "create"], capture_output=True, text=True,
                                  check=True).stdout.strip()
        self.dsn = f"host={self.dir} port=5432 user=hmtest dbname=postgres"
        if durable:
            for sql in ("ALTER SYSTEM SET fsync = on", "ALTER SYSTEM SET synchronous_commit = on",
                        "ALTER SYSTEM SET full_page_writes = on"):
                subprocess.run(["psql", "-X", "-q", "-d", self.dsn, "-c", sql], check=True, capture_output=True)
            subprocess.run(["bash", self.PGCTL, "stop", self.dir], check=True, capture_output=True)
            subprocess.run(["bash", self.PGCTL, "start", self.dir], check=True, capture_output=True)

    def destroy(self):
        subprocess.run(["bash", self.PGCTL, "destroy", self.dir], capture_output=True)


def pg_hostmail(root, build, cert, pg, **kw):
    """A bench Hostmail whose store is the PostgreSQL cluster pg (schema
    made first with hostmailctl db init: the constructor adds the account)."""
    extra = f"\n[store]\nbackend = postgresql\ndsn = {pg.dsn}\n"
    os.makedirs(root, exist_ok=True)
    pre = os.path.join(root, "pre.ini")
    with open(pre, "w") as f:
        f.write(f"[server]\ndata_dir = {root}/pre\n{extra}")
    subprocess.run([os.path.join(build, "hostmailctl"), "-c", pre, "db", "init"], check=True, capture_output=True)

    class PgHostmail(Hostmail):
        name = "hostmail-pg"

        def write_config(self):
            own = self.extra
            self.extra = extra + own
            super().write_config()
            self.extra = own
    return PgHostmail(root, build, cert, **kw)


POSTFIX_SBIN = "/usr/lib/postfix/sbin"

MASTER_CF = """\
# private bench instance: loopback high port only; no chroot but smtp's while relaying
{port}      inet  n       -       n       -       -       {smtpd}
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       {cleanup}
qmgr      unix  n       -       n       300     1       {qmgr}
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       {trivial-rewrite}
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       {smtp_chroot}       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       {virtual}
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    name = "postfix"

    def __init__(self, root, cert, process_limit=100):
        self.dir = os.path.join(root, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.mail = os.path.join(self.dir, "mail")
        for d in (self.etc, self.queue, self.data, self.mail):
            os.makedirs(d, exist_ok=True)
        pw = pwd.getpwnam("postfix")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chown(self.mail, self.uid, self.gid)
        os.chown(self.data, self.uid, self.gid)
        self.port = free_port()
        self.cert = cert
        self.process_limit = process_limit
        self.relay = None     # (domain, MX port, DNS server address) while relaying
        self.extra = ""       # more main.cf lines (a scenario's own settings)
        self.wrap_dir = None  # a daemon_directory whose wrapped daemons run under valgrind
        self.maildir = os.path.join(self.mail, DOMAIN, "user")
        self.maildir_new = os.path.join(self.maildir, "new")
        self.sasl = self._setup_sasl()
        self.write_config()

    def _setup_sasl(self):
        """Cyrus SASL with a sasldb (needs saslpasswd2 from sasl2-bin): the
        AUTH storm then does real AUTH PLAIN on Postfix too."""
        sdir = os.path.join(self.dir, "sasl")
        os.makedirs(sdir, exist_ok=True)
        db = os.path.join(sdir, "sasldb2")
        # Debian's Postfix reads $config_directory/sasl/smtpd.conf (its patch
        # ignores cyrus_sasl_config_path): write it there and in sdir
        os.makedirs(os.path.join(self.etc, "sasl"), exist_ok=True)
        for d in (sdir, os.path.join(self.etc, "sasl")):
            with open(os.path.join(d, "smtpd.conf"), "w") as f:
                f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n"
                        f"sasldb_path: {db}\n")
        r = subprocess.run(["saslpasswd2", "-p", "-c", "-f", db, "-u", DOMAIN, "user"],
                           input=PASSWORD, text=True, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("saslpasswd2: " + r.stderr.strip())
        os.chown(db, self.uid, self.gid)
        self.sasl_dir = sdir
        return True

    def write_config(self):
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            f.write(f"{USER} {DOMAIN}/user/\n")
        sasl = ""
        if self.sasl:
            sasl = f"""smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {self.sasl_dir}
smtpd_sasl_local_domain = {DOMAIN}
"""
        transport = self._relay_transport() if self.relay else ""
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""# private bench instance (bench/run); defaults otherwise, fsync included
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
mydomain = pf.bench.test
myorigin = $myhostname
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = texthash:{self.etc}/vmailbox
virtual_uid_maps = static:{self.uid}
virtual_gid_maps = static:{self.gid}
virtual_minimum_uid = 1
message_size_limit = 41943040
virtual_mailbox_limit = 0
default_process_limit = {self.process_limit}
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
# NOOP counts as a junk command: past 100 of them Postfix answers each after
# a 1 s error sleep, a tarpit the AUTH storm's NOOP sessions would measure
smtpd_junk_command_limit = 1000000
smtpd_tls_cert_file = {self.cert[0]}
smtpd_tls_key_file = {self.cert[1]}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
{sasl}maillog_file = {self.dir}/maillog
maillog_file_prefixes = {self.dir}
biff = no
smtpd_timeout = 1800s
{transport}{self.extra}""")
            if self.wrap_dir:
                # master.cf commands are relative to daemon_directory: a copy of
                # it (symlinks) whose wrapped daemons are scripts
                f.write(f"daemon_directory = {self.wrap_dir}\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            cmds = {n: n for n in ("smtpd", "cleanup", "qmgr", "trivial-rewrite", "virtual")}
            f.write(MASTER_CF.replace("{port}", f"127.0.0.1:{self.port}")
                    .replace("{smtpd}", cmds["smtpd"]).replace("{cleanup}", cmds["cleanup"])
                    .replace("{qmgr}", cmds["qmgr"]).replace("{trivial-rewrite}", cmds["trivial-rewrite"])
                    .replace("{virtual}", cmds["virtual"])
                    .replace("{smtp_chroot}", "y" if self.relay else "n"))

    def set_relay(self, domain, mx_port, dns_ip):
        """Relay DOMAIN through its MX (DNS at dns_ip:53) on port mx_port."""
        self.relay = (domain, mx_port, dns_ip) if domain else None
        self.write_config()

    def _relay_transport(self):
        """Postfix looks the MX up with the system resolver, which only reads
        /etc/resolv.conf (no port there, and we must not change it). So its
        smtp(8) client runs chrooted in our queue directory, whose
        etc/resolv.conf names the bench's DNS server on port 53 of a loopback
        address; "smtp:DOMAIN:PORT" still does the MX lookup, then connects
        to that port of the MX host."""
        domain, mx_port, dns_ip = self.relay
        etc = os.path.join(self.queue, "etc")
        os.makedirs(etc, exist_ok=True)
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            f.write(f"nameserver {dns_ip}\noptions attempts:1 timeout:2\n")
        for name in ("services", "hosts"):
            if os.path.exists("/etc/" + name):
                shutil.copy("/etc/" + name, os.path.join(etc, name))
        with open(os.path.join(self.etc, "transport"), "w") as f:
            f.write(f"{domain} smtp:{domain}:{mx_port}\n")
        return f"transport_maps = texthash:{self.etc}/transport\n"

    def postfix(self, *args, check=True):
        r = subprocess.run(["postfix", "-c", self.etc, *args], capture_output=True, text=True,
                           timeout=120, preexec_fn=_raise_limits)
        if check and r.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: {r.stderr.strip()}")
        return r

    def start(self):
        self.postfix("start")
        if not wait_port(self.port):
            raise RuntimeError("postfix did not start; see " + self.dir + "/maillog")

    def stop(self):
        """postfix stop, then make sure no process of this instance is left:
        the master does not wait for its children, and a daemon under
        valgrind takes a while to write its profile and exit."""
        sid = self.master_pid()
        if not sid:
            return
        self.postfix("stop", check=False)
        deadline = time.time() + 60
        while time.time() < deadline and session_pids(sid):
            time.sleep(0.1)
        for pid in session_pids(sid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def pids(self, names=None):
        """The master and its children (all Postfix processes of this instance)."""
        m = self.master_pid()
        if not m:
            return []
        out = [m]
        for st in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(st) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == m:
                    pid = int(st.split("/")[2])
                    if names is None or self.proc_name(pid) in names:
                        out.append(pid)
            except (OSError, ValueError, IndexError):
                pass
        return out

    @staticmethod
    def proc_name(pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip()
        except OSError:
            return ""

    def session_pids(self):
        return [p for p in self.pids(names={"smtpd"}) if p != self.master_pid()]

    def queue_count(self, subs=("incoming", "active", "deferred", "maildrop")):
        n = 0
        for sub in subs:
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def clear_queue(self):
        """Delete every queued message (postsuper -d ALL)."""
        subprocess.run(["postsuper", "-c", self.etc, "-d", "ALL"], capture_output=True, timeout=600)


# Debian package of each program the bench runs
PACKAGES = {"dovecot": "dovecot-pop3d", "smtp-source": "postfix", "postfix": "postfix", "valgrind": "valgrind",
            "saslpasswd2": "sasl2-bin", "dnsmasq": "dnsmasq-base", "openssl": "openssl", "rspamd": "rspamd"}


class Dovecot:
    """A private Dovecot POP3 (Debian's dovecot-pop3d) on a loopback high
    port: its own base, state and log directories, passwords in a
    passwd-file holding the same {CRYPT} (yescrypt) hashes hostmail
    stores, Maildirs under its directory, run as RUN_AS. The system's
    Dovecot, if any, is not touched. cache: Dovecot's auth_cache on (as
    hostmail's default [auth] cache) or off."""
    name = "Dovecot"

    def __init__(self, root, cert, hashes, cache=True, maildirs=None):
        """maildirs: serve the Maildirs under it (hostmail's data_dir/mail,
        DOMAIN/LOCAL as hostmail lays them out) instead of its own."""
        self.dir = os.path.join(root, "dovecot-cache" if cache else "dovecot")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        if RUN_AS:
            shutil.chown(self.home, RUN_AS, RUN_AS)
        self.port = free_port()
        self.config = os.path.join(self.dir, "dovecot.conf")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            for user, h in hashes.items():
                f.write(f"{user}:{{CRYPT}}{h}\n")
        user = RUN_AS or pwd.getpwuid(os.geteuid()).pw_name
        with open(self.config, "w") as f:
            f.write(f"""base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log_path}
protocols = pop3
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert[0]}
ssl_key = <{cert[1]}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_cache_size = {"10M" if cache else "0"}
auth_cache_ttl = 1h
auth_cache_negative_ttl = 5m
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {passwd}
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={maildirs or self.home}/%Ld/%Ln
}}
mail_location = maildir:~{"" if maildirs else "/Maildir"}
default_client_limit = 10000
default_process_limit = 1000
# the whole storm in one login process, as hostmail's one event loop
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.config], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".stderr", "ab"), preexec_fn=_raise_limits)
        if not wait_port(self.port, timeout=20):
            raise RuntimeError("Dovecot did not start; see " + self.log_path)

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def pids(self):
        """The master and every process it started (login, auth, pop3)."""
        if not self.proc:
            return []
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [self.proc.pid] + [int(p) for p in out.split()]


def dovecot_version():
    r = subprocess.run(["dovecot", "--version"], capture_output=True, text=True)
    return r.stdout.split()[0] if r.returncode == 0 and r.stdout else "?"


def ensure_user():
    """The system user hostmaild runs as when started as root (the same
    that scripts/deps.sh adds)."""
    if not RUN_AS:
        return
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        print(f"bench: adding the system user {RUN_AS}", flush=True)
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--comment", "hostmail daemon", RUN_AS], check=True)


def ensure_packages():
    """Install what is missing, from Debian, in one apt-get. Postfix is
    preseeded 'No configuration': the package then writes no main.cf and
    starts no system instance, so the machine's own mail setup (none, or
    another MTA's) stays as it was; only our private instance ever runs."""
    missing = sorted({pkg for cmd, pkg in PACKAGES.items()
                      if not shutil.which(cmd) and not os.path.exists(os.path.join("/usr/sbin", cmd))})
    if not missing:
        return
    print(f"bench: installing {' '.join(missing)} (Debian packages) ...", flush=True)
    subprocess.run(["debconf-set-selections"], text=True, check=True,
                   input="postfix postfix/main_mailer_type select No configuration\n")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    # Dovecot's package would start a system instance on 110/143/993/995:
    # policy-rc.d forbids it (as in containers), only our private one runs
    policy = "/usr/sbin/policy-rc.d"
    made_policy = not os.path.exists(policy)
    if made_policy:
        with open(policy, "w") as f:
            f.write("#!/bin/sh\n# bench/servers.py: no service starts while it installs packages\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)  # a fresh machine's lists
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("apt-get install failed: " + r.stderr[-500:])
    finally:
        if made_policy:
            os.unlink(policy)
