"""A real receiving Postfix for outbound tests (issue 17): a private
instance on a loopback high port that accepts mail for the domains it is
given and delivers each to a Maildir the test reads.

Nothing outside its own directory is used or changed: `postfix -c DIR`
with its own config_directory, queue_directory and data_directory (as
bench/servers.py runs one), no chroot, nothing on port 25, no system
instance started. Debian's postfix package, installed preseeded with
'No configuration' (scripts/deps.sh), ships no main.cf of its own.

Per listener, what it offers in EHLO is the test's choice. Every
listener has the same port on its own loopback address, so one hostmaild
(one [delivery] mx_port) reaches them all; DNS (dnsmasq) says which
domain's MX is at which address:

    mx = PostfixMX(tmp_dir, domains=["full.test", "plain.test"],
                   listeners=[("127.0.0.1", {}),    # offers everything
                              ("127.0.0.2", {"smtputf8": False, "eightbitmime": False})]
                   ).start()
    ...                             # point hostmaild's MX at mx.port
    msg = mx.wait_message("remote.test", b"Subject: x")   # bytes, as delivered
    mx.stop()

Every address of a domain lands in one catch-all Maildir (virtual(8),
mail/DOMAIN/new/), so UTF-8 local parts need no map entry; Postfix adds
`Delivered-To:` naming the recipient. Starting a Postfix takes a second
or two: share one per test module (a module-scoped fixture, see
postfix_module below)."""
import os
import pwd
import shutil
import signal
import subprocess
import time

import pytest

from conftest import free_port, let_daemon_reach, pki, wait_for, wait_port

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
HAVE_POSTFIX = os.path.exists(POSTFIX) and os.path.exists("/usr/lib/postfix/sbin/smtpd")
needs_postfix = pytest.mark.skipif(not HAVE_POSTFIX, reason="postfix not installed (scripts/deps.sh)")

# The daemons a receiving MX needs; no chroot, so no copies of /etc inside.
MASTER_CF = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixMX:
    """One private Postfix: MX for `domains`, delivering to Maildirs.

    listeners     [(loopback address, options)], all on self.port; options:
      smtputf8      offer SMTPUTF8 (default yes); off, the listener runs
                    with smtputf8_enable = no and does not announce it
      eightbitmime  offer 8BITMIME (default yes); off, the keyword is
                    dropped from EHLO (smtpd_discard_ehlo_keywords; Postfix
                    still takes 8-bit bytes, so a test checks what arrived)
    smtputf8, eightbitmime: the options of the one default listener on
                  127.0.0.1 when `listeners` is not given
    tls           offer STARTTLS with the test PKI's default certificate
    extra         more main.cf lines

    Postfix changes nothing in what it receives (no Message-Id, Date or
    address rewriting: local_header_rewrite_clients is empty), so what a
    test reads is what hostmail sent, plus Postfix's Received:,
    Return-Path:, X-Original-To: and Delivered-To:."""

    def __init__(self, root, domains=("remote.test",), smtputf8=True, eightbitmime=True,
                 tls=True, extra="", listeners=None):
        self.dir = os.path.join(str(root), "postfix-mx")
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.mail = os.path.join(self.dir, "mail")
        self.log_path = os.path.join(self.dir, "maillog")
        for d in (self.etc, self.queue, self.data, self.mail):
            os.makedirs(d, exist_ok=True)
        let_daemon_reach(self.dir)
        pw = pwd.getpwnam("postfix")
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        os.chown(self.mail, self.uid, self.gid)
        os.chown(self.data, self.uid, self.gid)
        self.domains = list(domains)
        self.listeners = listeners or [("127.0.0.1", {"smtputf8": smtputf8, "eightbitmime": eightbitmime})]
        self.tls = tls
        self.extra = extra
        self.port = free_port()
        self.write_config()

    def write_config(self):
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            for d in self.domains:
                f.write(f"@{d} {d}/\n")   # catch-all: every local part, one Maildir
        tls = ""
        if self.tls:
            p = pki()
            tls = (f"smtpd_tls_cert_file = {p['crt']}\nsmtpd_tls_key_file = {p['key']}\n"
                   "smtpd_tls_security_level = may\nsmtpd_tls_loglevel = 1\n")
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""# private receiving MX for a test (tests/integration/postfix_mx.py)
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postfix.test
mydomain = postfix.test
myorigin = $myhostname
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = {", ".join(self.domains)}
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = texthash:{self.etc}/vmailbox
virtual_uid_maps = static:{self.uid}
virtual_gid_maps = static:{self.gid}
virtual_minimum_uid = 1
message_size_limit = 104857600
virtual_mailbox_limit = 0
smtputf8_enable = yes
local_header_rewrite_clients =
{tls}smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
maillog_file = {self.log_path}
maillog_file_prefixes = {self.dir}
biff = no
{self.extra}
""")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            for ip, o in self.listeners:
                f.write(f"{ip}:{self.port} inet n - n - - smtpd\n")
                discard = [k for k, on in (("smtputf8", o.get("smtputf8", True)),
                                           ("8bitmime", o.get("eightbitmime", True))) if not on]
                if not o.get("smtputf8", True):
                    f.write("  -o smtputf8_enable=no\n")
                if discard:
                    f.write(f"  -o smtpd_discard_ehlo_keywords={','.join(discard)}\n")
            f.write(MASTER_CF)

    def postfix(self, *args, check=True):
        r = subprocess.run([POSTFIX, "-c", self.etc, *args], capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)}: {r.stderr.strip()}\n{self.logtext()}")
        return r

    def start(self):
        self.postfix("start")
        for ip, _ in self.listeners:
            wait_port(self.port, host=ip, timeout=30)
        return self

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _session(self, sid):
        """Processes of the master's session (it calls setsid(); its
        children stay in that session after it exits)."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) == sid:
                    out.append(int(pid))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def stop(self):
        """postfix stop, then no process of this instance left (the master
        does not wait for its children)."""
        sid = self.master_pid()
        if not sid:
            return
        self.postfix("stop", check=False)
        try:
            wait_for(lambda: not self._session(sid), 30, "postfix processes to exit")
        except AssertionError:
            for pid in self._session(sid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def logtext(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def maildir_new(self, domain):
        return os.path.join(self.mail, domain, "new")

    def messages(self, domain):
        """Every message delivered for domain so far, as bytes, oldest first."""
        d = self.maildir_new(domain)
        if not os.path.isdir(d):
            return []
        out = []
        for name in sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns):
            with open(os.path.join(d, name), "rb") as f:
                out.append(f.read())
        return out

    def wait_message(self, domain, needle, timeout=30.0):
        """The first delivered message of domain containing needle (bytes:
        a Subject or Message-ID unique to the test; one instance serves a
        whole module)."""
        def find():
            for m in self.messages(domain):
                if needle in m:
                    return m
            return None
        try:
            return wait_for(find, timeout, f"a message with {needle!r} in {self.maildir_new(domain)}")
        except AssertionError as e:
            raise AssertionError(f"{e}\npostfix log:\n{self.logtext()[-3000:]}") from None

    def log_wait(self, pattern, timeout=30.0):
        """Wait for a regular expression in Postfix's own log (maillog)."""
        import re
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.logtext()), timeout, f"{pattern!r} in postfix's log")


def postfix_module(tmp_path_factory, name="postfix", **opts):
    """For a module-scoped fixture: a started PostfixMX in its own
    directory; the caller stops it.

        @pytest.fixture(scope="module")
        def mx(tmp_path_factory):
            m = postfix_module(tmp_path_factory, smtputf8=False)
            yield m
            m.stop()"""
    root = tmp_path_factory.mktemp(name)
    return PostfixMX(root, **opts).start()


if __name__ == "__main__":
    # quick manual check: python3 postfix_mx.py; then swaks to the port shown
    import tempfile
    m = PostfixMX(tempfile.mkdtemp(prefix="pfmx-")).start()
    print("postfix on 127.0.0.1:%d, dir %s; Ctrl-C stops it" % (m.port, m.dir))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        m.stop()
