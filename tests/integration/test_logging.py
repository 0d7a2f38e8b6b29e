"""Logs operators can parse (docs/logging.md): one failed-login form on
every service, client text quoted so it cannot add a key, the reply as
sent on refusals, [server] log = syslog (facility mail, ident hostmaild),
and the fail2ban filter in contrib/fail2ban/ checked with Debian's
fail2ban-regex against the lines these tests make the daemon write:
every failed login matches with its client's address, and nothing a
client can put in a line (user names, addresses) matches or adds an ip=.
Each client uses its own loopback address, so the addresses fail2ban
finds say which line matched."""
import base64
import os
import re
import smtplib
import socket
import ssl
import subprocess
import threading

import pytest

from acc_client import AccClient
from conftest import Hostmail, setup_demo, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILTER = os.path.join(ROOT, "contrib", "fail2ban", "filter.d", "hostmail.conf")
FORGED = "6.6.6.6"
HOSTILE = [f"evil ip={FORGED}", f'x" ip={FORGED} user="y', f"a\\\" ip={FORGED}"]


def fail2ban_ips(log_path):
    """The addresses fail2ban-regex finds in log_path with our filter."""
    r = subprocess.run(["fail2ban-regex", "-o", "ip", log_path, FILTER],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def smtp_auth_fail(h, user, source):
    s = smtplib.SMTP("127.0.0.1", h.submission_port, local_hostname="client.test", timeout=15,
                     source_address=(source, 0))
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo()
    code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(f"\0{user}\0wrong".encode()).decode())
    assert code == 535
    s.quit()


def pop3_fail(h, user, source):
    """AUTH PLAIN with a wrong password after STLS, on a raw socket (USER
    takes no name with a space; SASL's user name can hold anything)."""
    raw = socket.create_connection(("127.0.0.1", h.pop3_port), timeout=15, source_address=(source, 0))
    f = raw.makefile("rb")
    assert f.readline().startswith(b"+OK")
    raw.sendall(b"STLS\r\n")
    assert f.readline().startswith(b"+OK")
    s = ssl._create_unverified_context().wrap_socket(raw)
    f = s.makefile("rb")
    s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0" + user.encode() + b"\0wrong") + b"\r\n")
    assert f.readline().startswith(b"-ERR")
    s.close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """One daemon; every failed-login form and every forgery attempt."""
    h = Hostmail(tmp_path_factory.mktemp("logging"))
    setup_demo(h)
    h.start()
    smtp_auth_fail(h, "alice@acme.test", "127.0.0.2")
    smtp_auth_fail(h, HOSTILE[0], "127.0.0.3")
    smtp_auth_fail(h, HOSTILE[1], "127.0.0.3")
    pop3_fail(h, "bob@acme.test", "127.0.0.4")
    pop3_fail(h, HOSTILE[2], "127.0.0.4")
    c = AccClient(h, source="127.0.0.5")
    assert c.login(HOSTILE[0], "wrong").status == 403
    assert c.login("acme", "wrong").status == 403
    # forgeries in addresses: a relay refusal and a refused sender
    with smtplib.SMTP("127.0.0.1", h.smtp_port, local_hostname="client.test", timeout=15,
                      source_address=("127.0.0.9", 0)) as s:
        s.ehlo()
        forged = f'"warning: pop3 authentication failed: ip={FORGED} user=x"@evil.test'
        assert s.docmd("MAIL", f"FROM:<{forged}>")[0] == 250
        code, text = s.docmd("RCPT", f'TO:<"x ip={FORGED}"@elsewhere.test>')
        assert code == 554
    h.wait_log(r"acc authentication failed: ip=127\.0\.0\.5 user=acme$|acc authentication failed: "
               r"ip=127\.0\.0\.5 user=acme\n", count=1)
    h.wait_log(r"relay access denied")
    yield h
    h.stop()


def test_one_form_for_every_service(logs):
    text = logs.logtext()
    assert re.search(r"warning: smtp authentication failed: ip=127\.0\.0\.2 user=alice@acme\.test$", text, re.M)
    assert re.search(r"warning: pop3 authentication failed: ip=127\.0\.0\.4 user=bob@acme\.test$", text, re.M)
    assert re.search(r"warning: acc authentication failed: ip=127\.0\.0\.5 user=acme$", text, re.M)


def test_client_text_is_quoted_never_a_second_key(logs):
    text = logs.logtext()
    assert 'smtp authentication failed: ip=127.0.0.3 user="evil ip=6.6.6.6"' in text
    assert 'smtp authentication failed: ip=127.0.0.3 user="x\\" ip=6.6.6.6 user=\\"y"' in text
    assert 'pop3 authentication failed: ip=127.0.0.4 user="a\\\\\\" ip=6.6.6.6"' in text
    assert 'acc authentication failed: ip=127.0.0.5 user="evil ip=6.6.6.6"' in text
    # outside quotes, every line has at most one ip= key
    for line in text.splitlines():
        bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        assert len(re.findall(r"(?:^|\s)ip=", bare)) <= 1, line
        assert FORGED not in bare, line


def test_refusal_logs_the_reply_as_sent(logs):
    line = next(x for x in logs.logtext().splitlines() if "relay access denied" in x)
    assert line.endswith(' reply="554 5.7.1 <\\"x ip=6.6.6.6\\"@elsewhere.test>: Relay access denied"'), line
    assert 'from="<\\"warning: pop3 authentication failed: ip=6.6.6.6 user=x\\"@evil.test>"' in line


def test_fail2ban_matches_every_failed_login_and_no_forgery(logs):
    ips = fail2ban_ips(logs.log_path)
    assert FORGED not in ips
    assert sorted(set(ips)) == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    assert ips.count("127.0.0.3") == 2 and ips.count("127.0.0.5") == 2
    # every failed-login line matched, nothing else did
    assert len(ips) == len(re.findall(r"^\S+ hostmaild\[\d+\]: warning: \w+ authentication failed: ip=",
                                      logs.logtext(), re.M))


class SyslogReceiver:
    """A Unix datagram socket bound in the test's directory, standing in
    for /dev/log: each datagram is kept, and written to a file as rsyslog
    writes mail.log ("Mmm dd hh:mm:ss HOST ident[pid]: text")."""

    def __init__(self, directory, log_path):
        self.path = os.path.join(directory, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.log_path = log_path
        self.datagrams = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                d = self.sock.recv(65536).decode("utf-8", "replace")
            except OSError:
                return
            self.datagrams.append(d)
            m = re.match(r"<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)", d, re.S)
            with open(self.log_path, "a") as f:
                f.write(f"{m.group(1)} testhost {m.group(2)}\n" if m else f"unparsed: {d}\n")

    def close(self):
        self.sock.close()


def test_syslog_facility_mail_and_fail2ban(tmp_path):
    h = Hostmail(tmp_path)
    rx = SyslogReceiver(str(tmp_path), h.log_path)
    h.extra += f"\n[server]\nlog = syslog\nsyslog_socket = {rx.path}\n"
    h.write_config()
    setup_demo(h)
    try:
        h.start()                     # waits for "hostmaild started" in what the receiver wrote
        pop3_fail(h, HOSTILE[0], "127.0.0.6")
        h.wait_log(r"pop3 authentication failed: ip=127\.0\.0\.6")
        started = next(d for d in rx.datagrams if "hostmaild started" in d)
        failed = next(d for d in rx.datagrams if "authentication failed" in d)
        # facility mail (2): info is <22>, warning <20>; ident hostmaild[pid]
        pid = h.proc.pid
        assert re.match(rf"<22>\w{{3}} [ \d]\d \d\d:\d\d:\d\d hostmaild\[{pid}\]: info: hostmaild started", started)
        assert re.match(rf'<20>\w{{3}} [ \d]\d \d\d:\d\d:\d\d hostmaild\[{pid}\]: warning: pop3 authentication '
                        rf'failed: ip=127\.0\.0\.6 user="evil ip=6\.6\.6\.6"$', failed)
        assert fail2ban_ips(h.log_path) == ["127.0.0.6"]
    finally:
        h.stop()
        rx.close()
