"""The Debian package built by `make deb` (run by `make test-deb`, which
builds it first; lintian has passed by then). What is checked is what an
operator installing it relies on: its files, conffile, dependencies and
maintainer scripts, and that the installed programs run hostmail with the
packaged configuration. The package is unpacked into a throwaway root
(`dpkg -x`) rather than installed on this machine, which the test suite
shares: `dpkg -i` would start the packaged service on ports 25, 110, 465,
587 and 995 of the machine. The installed hostmaild is started from that
root with the packaged hostmail.ini, changed only where a test must: loopback
high ports, a temporary data_dir, the tests' certificate. docs/running.md."""
import glob
import json
import os
import re
import smtplib
import ssl
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from conftest import free_port, let_daemon_reach, pki  # noqa: E402

DEB_DIR = os.environ.get("HOSTMAIL_DEB_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "deb"))


@pytest.fixture(scope="module")
def deb():
    debs = [d for d in glob.glob(os.path.join(DEB_DIR, "hostmail_*.deb"))]
    assert len(debs) == 1, f"run `make deb` first: {debs}"
    return debs[0]


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=True, **kw).stdout


def test_files_dependencies_and_scripts(deb, tmp_path):
    files = run("dpkg-deb", "-c", deb)
    for f in ("./usr/sbin/hostmaild", "./usr/sbin/hostmailctl", "./etc/hostmail/hostmail.ini",
              "./lib/systemd/system/hostmail.service", "./usr/share/doc/hostmail/configuration.md.gz"):
        assert re.search(rf"\s{re.escape(f)}$", files, re.M), f
    depends = run("dpkg-deb", "-f", deb, "Depends")
    for lib in ("libevent-2.1-7", "libssl3", "libsqlite3-0", "libpq5", "libjansson4", "libinih1", "adduser"):
        assert lib in depends
    ctrl = str(tmp_path / "control")
    run("dpkg-deb", "-e", deb, ctrl)
    with open(os.path.join(ctrl, "conffiles")) as f:
        assert f.read().split() == ["/etc/hostmail/hostmail.ini"]
    with open(os.path.join(ctrl, "postinst")) as f:
        postinst = f.read()
    assert re.search(r"adduser --system --group .*hostmail", postinst.replace("\\\n", " "))
    assert "systemctl" in postinst or "deb-systemd-invoke" in postinst   # debhelper enables the unit
    root = str(tmp_path / "root")
    run("dpkg-deb", "-x", deb, root)
    with open(os.path.join(root, "lib/systemd/system/hostmail.service")) as f:
        unit = f.read()
    # started as root (no User=): it binds, then drops to [server] user itself
    assert "ExecStart=/usr/sbin/hostmaild -c /etc/hostmail/hostmail.ini" in unit
    assert not re.search(r"^User=", unit, re.M)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit


def packaged_config(root, data_dir, ports, certs):
    """The packaged hostmail.ini with only what a test must change."""
    with open(os.path.join(root, "etc/hostmail/hostmail.ini")) as f:
        text = f.read()
    assert re.search(r"^user = hostmail\b", text, re.M)
    for key, value in (("data_dir", data_dir), ("hostname", "mx.test.example"),
                       ("smtp", f"127.0.0.1:{ports['smtp']}"), ("submission", f"127.0.0.1:{ports['sub']}"),
                       ("submissions", f"127.0.0.1:{ports['subs']}"), ("pop3", f"127.0.0.1:{ports['pop3']}"),
                       ("pop3s", f"127.0.0.1:{ports['pop3s']}"), ("acc", f"127.0.0.1:{ports['acc']}"),
                       ("admin", f"127.0.0.1:{ports['admin']}"), ("certificate", certs["crt"]),
                       ("key", certs["key"]), ("sni_dir", certs["sni"])):
        text, n = re.subn(rf"^{key} =[^;\n]*", f"{key} = {value} ", text, flags=re.M)
        assert n == 1, key
    return text


def test_installed_programs_run_hostmail_from_the_packaged_configuration(deb, tmp_path):
    let_daemon_reach(str(tmp_path))
    root = str(tmp_path / "root")
    run("dpkg-deb", "-x", deb, root)
    ctl, daemon = os.path.join(root, "usr/sbin/hostmailctl"), os.path.join(root, "usr/sbin/hostmaild")
    ports = {k: free_port() for k in ("smtp", "sub", "subs", "pop3", "pop3s", "acc", "admin")}
    certs = pki()
    cfg = str(tmp_path / "hostmail.ini")
    with open(cfg, "w") as f:
        f.write(packaged_config(root, str(tmp_path / "data"), ports, certs))

    def hmctl(*args, input=None):
        return subprocess.run([ctl, "-c", cfg, *args], input=input, capture_output=True, text=True,
                              timeout=60, check=True).stdout

    hmctl("account", "add", "acme")
    hmctl("domain", "add", "acme", "acme.test")
    hmctl("mailbox", "add", "alice@acme.test", input="alice-secret\n")
    token = hmctl("token", "add", "panel").strip()
    log_path = str(tmp_path / "hostmaild.log")
    with open(log_path, "wb") as log:
        p = subprocess.Popen([daemon, "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and p.poll() is None:
            with open(log_path) as f:
                if "hostmaild started" in f.read():
                    break
            time.sleep(0.05)
        with open(log_path) as f:
            log = f.read()
        assert "hostmaild started" in log, log
        if os.geteuid() == 0:
            assert "running as user hostmail" in log
        s = smtplib.SMTP("127.0.0.1", ports["sub"], local_hostname="client.test", timeout=15)
        s.starttls(context=ssl.create_default_context(cafile=certs["ca"]))
        s.login("alice@acme.test", "alice-secret")
        s.sendmail("alice@acme.test", ["alice@acme.test"], b"Subject: packaged\r\n\r\nhello\r\n")
        s.quit()
        r = subprocess.run(["curl", "-sS", "--cacert", certs["ca"], "--resolve",
                            f"mx.test.example:{ports['admin']}:127.0.0.1", "-H", f"Authorization: Bearer {token}",
                            f"https://mx.test.example:{ports['admin']}/api/accounts"],
                           capture_output=True, text=True, timeout=60)
        assert json.loads(r.stdout)[0]["name"] == "acme", r.stdout + r.stderr
        new = os.path.join(str(tmp_path / "data"), "mail", "acme.test", "alice", "new")
        deadline = time.time() + 20
        while time.time() < deadline and not os.listdir(new):
            time.sleep(0.05)
        assert len(os.listdir(new)) == 1
    finally:
        p.terminate()
        p.wait(timeout=30)
