"""The Debian package installed for real: `make test-deb-install` (never
part of `make test`: it changes the machine, as root). dpkg -i of the
built package with /usr/sbin/policy-rc.d forbidding service starts; what
the postinst did (the hostmail user, /var/lib/hostmail, the first
certificate, the conffile, the unit) and that running it again changes
nothing; the INSTALLED hostmaild, started as root with a copy of the
installed hostmail.ini changed only to loopback high ports and a
temporary data_dir, takes a mail over 587 with AUTH for a mailbox made
by the installed hostmailctl and delivers it to its Maildir; then
dpkg --purge, and nothing of the package remains. The hostmail system
user stays, as Debian policy leaves system users (Postfix's too); the test
removes it only if it made it. docs/running.md, Installing from the
package."""
import glob
import hashlib
import os
import pwd
import grp
import re
import smtplib
import ssl
import stat
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from conftest import free_port, let_daemon_reach  # noqa: E402

DEB_DIR = os.environ.get("HOSTMAIL_DEB_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "deb"))
POLICY = "/usr/sbin/policy-rc.d"
SAVED_POLICY = POLICY + ".saved-by-deb-install-test"
DATA = "/var/lib/hostmail"
TLS = "/etc/hostmail/tls"
# where a package's traces could be left: every path whose name has "hostmail"
ROOTS = ("/etc", "/lib/systemd", "/usr/lib/systemd", "/usr/sbin", "/usr/share/doc", "/var/lib")


def run(*args, check=True, input=None):
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, input=input)
    assert not check or r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def dpkg(*args):
    """dpkg, waiting out another session's apt or dpkg holding the lock."""
    deadline = time.time() + 120
    while True:
        r = run("dpkg", *args, check=False)
        if r.returncode == 0 or "lock" not in r.stderr or time.time() > deadline:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
            return r
        time.sleep(2)


def installed():
    r = run("dpkg-query", "-W", "-f=${Status}", "hostmail", check=False)
    return r.returncode == 0 and r.stdout.strip() == "install ok installed"


def traces():
    found = set()
    for root in ROOTS:
        for d, dirs, files in os.walk(root):
            if d.startswith((DATA + "/", DATA + "-")) or d == DATA + "-demo":
                dirs[:] = []
                continue
            found.update(os.path.join(d, n) for n in dirs + files if "hostmail" in n)
    return found


def dir_state(path):
    if not os.path.isdir(path):
        return None
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), sorted(os.listdir(path))


@pytest.fixture
def machine():
    """The machine as it was, to check against and to give back: services
    forbidden to start meanwhile, the package purged whatever happens."""
    if os.geteuid() != 0:
        pytest.fail("make test-deb-install installs a package: run it as root")
    if run("dpkg-query", "-W", "-f=${Status}", "hostmail", check=False).returncode == 0:
        pytest.fail("a hostmail package is on this machine already; this test would purge it")
    before = {"user": run("getent", "passwd", "hostmail", check=False).stdout,
              "group": run("getent", "group", "hostmail", check=False).stdout,
              "data": dir_state(DATA), "traces": traces()}
    saved = os.path.lexists(POLICY)
    if saved:                          # put back later as it was, the same file
        os.rename(POLICY, SAVED_POLICY)
    with open(POLICY, "w") as f:       # 101: "action forbidden by policy" (invoke-rc.d(8))
        f.write("#!/bin/sh\n# hostmail's test-deb-install: no service starts\nexit 101\n")
    os.chmod(POLICY, 0o755)
    try:
        yield before
    finally:
        if installed() or run("dpkg-query", "-W", "hostmail", check=False).returncode == 0:
            dpkg("--purge", "hostmail")
        restore(before)
        if saved:
            os.rename(SAVED_POLICY, POLICY)
        else:
            os.unlink(POLICY)


def restore(before):
    """What the package may leave by design, put back as it was."""
    if before["data"] is not None and os.path.isdir(DATA):
        uid, gid, mode, _ = before["data"]
        os.chown(DATA, uid, gid)       # the postinst gave an existing directory to hostmail
        os.chmod(DATA, mode)
    if not before["user"] and run("getent", "passwd", "hostmail", check=False).stdout:
        run("deluser", "--system", "hostmail")
    if not before["group"] and run("getent", "group", "hostmail", check=False).stdout:
        run("delgroup", "--system", "hostmail")


def check_postinst(deb_version):
    u = pwd.getpwnam("hostmail")
    assert u.pw_uid < 1000 and u.pw_shell in ("/usr/sbin/nologin", "/bin/false"), u
    g = grp.getgrnam("hostmail")
    st = os.stat(DATA)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (u.pw_uid, g.gr_gid, 0o750)
    crt, key = os.stat(f"{TLS}/default.crt"), os.stat(f"{TLS}/default.key")
    assert (crt.st_uid, stat.S_IMODE(crt.st_mode)) == (0, 0o644)
    assert (key.st_uid, key.st_gid, stat.S_IMODE(key.st_mode)) == (0, g.gr_gid, 0o640)
    x = run("openssl", "x509", "-in", f"{TLS}/default.crt", "-noout", "-subject", "-issuer").stdout.split("\n")
    assert x[0].replace("subject=", "") == x[1].replace("issuer=", ""), x   # self-signed
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "hostmail").stdout
    assert re.search(r"^ /etc/hostmail/hostmail\.ini [0-9a-f]{32}$", conffiles, re.M), conffiles
    assert "/lib/systemd/system/hostmail.service" in run("dpkg", "-L", "hostmail").stdout.split("\n")
    assert os.path.isfile("/lib/systemd/system/hostmail.service")
    assert os.access("/usr/sbin/hostmaild", os.X_OK) and os.access("/usr/sbin/hostmailctl", os.X_OK)


def state_of_postinst():
    def digest(p):
        with open(p, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    return (pwd.getpwnam("hostmail"), dir_state(DATA)[:3], digest(f"{TLS}/default.crt"),
            digest(f"{TLS}/default.key"), os.stat(f"{TLS}/default.key").st_mode)


def local_config(tmp_path):
    """The installed hostmail.ini with only loopback high ports and a temporary data_dir."""
    with open("/etc/hostmail/hostmail.ini") as f:
        text = f.read()
    ports = {k: free_port() for k in ("smtp", "submission", "submissions", "pop3", "pop3s", "acc")}
    data = str(tmp_path / "data")
    text, n = re.subn(r"^data_dir =[^;\n]*", f"data_dir = {data} ", text, flags=re.M)
    assert n == 1
    for key, port in ports.items():
        text, n = re.subn(rf"^{key} =[^;\n]*", f"{key} = 127.0.0.1:{port} ", text, flags=re.M)
        assert n == 1, key
    cfg = str(tmp_path / "hostmail.ini")
    with open(cfg, "w") as f:
        f.write(text)
    return cfg, ports, data


def send_and_deliver(tmp_path):
    let_daemon_reach(str(tmp_path))
    cfg, ports, data = local_config(tmp_path)

    def ctl(*args, input=None):
        return run("/usr/sbin/hostmailctl", "-c", cfg, *args, input=input).stdout

    ctl("account", "add", "acme")
    ctl("domain", "add", "acme", "acme.test")
    ctl("mailbox", "add", "alice@acme.test", input="alice-secret\n")
    log_path = str(tmp_path / "hostmaild.log")
    with open(log_path, "wb") as log:
        p = subprocess.Popen(["/usr/sbin/hostmaild", "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and p.poll() is None and "hostmaild started" not in open(log_path).read():
            time.sleep(0.05)
        log = open(log_path).read()
        assert "hostmaild started" in log and "running as user hostmail" in log, log
        # the first certificate the postinst made is the one served
        tls = ssl.create_default_context(cafile=f"{TLS}/default.crt")
        tls.check_hostname = False
        s = smtplib.SMTP("127.0.0.1", ports["submission"], local_hostname="client.test", timeout=15)
        s.starttls(context=tls)
        s.login("alice@acme.test", "alice-secret")
        s.sendmail("alice@acme.test", ["alice@acme.test"], b"Subject: installed\r\n\r\nfrom the package\r\n")
        s.quit()
        new = os.path.join(data, "mail", "acme.test", "alice", "new")
        deadline = time.time() + 30
        while time.time() < deadline and not os.listdir(new):
            time.sleep(0.05)
        assert len(os.listdir(new)) == 1
        with open(os.path.join(new, os.listdir(new)[0]), "rb") as f:
            assert b"from the package" in f.read()
    finally:
        p.terminate()
        assert p.wait(timeout=30) == 0, open(log_path).read()


def test_install_run_purge(machine, tmp_path):
    debs = glob.glob(os.path.join(DEB_DIR, "hostmail_*.deb"))
    assert len(debs) == 1, f"make deb first: {debs}"
    version = run("dpkg-deb", "-f", debs[0], "Version").stdout.strip()
    dpkg("-i", debs[0])
    assert installed()
    files = [f for f in run("dpkg", "-L", "hostmail").stdout.split("\n") if f]
    check_postinst(version)

    # the postinst again (an upgrade, a reconfigure): same user, directory and certificate
    first = state_of_postinst()
    run("/var/lib/dpkg/info/hostmail.postinst", "configure", version)
    assert state_of_postinst() == first

    send_and_deliver(tmp_path)

    dpkg("--purge", "hostmail")
    assert run("dpkg-query", "-W", "hostmail", check=False).returncode != 0
    left = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
    assert left == [], left
    assert not os.path.exists("/etc/hostmail")
    assert glob.glob("/var/lib/dpkg/info/hostmail.*") == []
    # the system user stays (Debian policy); data_dir only if it holds data
    assert pwd.getpwnam("hostmail")
    if machine["data"] is None:
        assert not os.path.exists(DATA)
    else:
        assert sorted(os.listdir(DATA)) == machine["data"][3]
    assert traces() == machine["traces"], traces() ^ machine["traces"]
