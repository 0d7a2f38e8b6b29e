"""The ACC in a real browser: Debian's headless Chromium driven by Playwright
(playwright-core from the npm registry, pinned in tests/browser/package-lock.json
and installed there with `npm ci` by the fixture below). The Node script
tests/browser/acc_browser.mjs acts as the customer: a wrong password, login,
the settings of a new and of a legacy account (the incoming and outgoing
tables, a value copied with its button, the step-by-step guides at desktop
and phone widths), adding a mailbox, changing
its password, removing one, a forged cross-site form, a phone-sized screen,
logout. At each step it reports what the page showed, and this test checks
it against the server: `hostmailctl mailbox show`, and Python's smtplib and
poplib using the mailbox the browser added. A screenshot of every page is
kept in $HOSTMAIL_ARTIFACTS/acc/, by default $HOSTMAIL_BUILD/artifacts/acc/
(build/artifacts/acc/ under `make test`); the path is printed."""
import email
import glob
import json
import os
import poplib
import shutil
import smtplib
import ssl
import subprocess
import threading

import pytest

from conftest import BUILD, ROOT
from test_acc import ACME_PW, pop3_login_ok, smtp_auth_ok

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
CHROMIUM = os.environ.get("HOSTMAIL_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def playwright_script():
    """tests/browser with playwright-core installed at the locked version."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} missing: run scripts/deps.sh"
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} missing: run scripts/deps.sh"
    with open(os.path.join(BROWSER_DIR, "package-lock.json")) as f:
        want = json.load(f)["packages"]["node_modules/playwright-core"]["version"]
    installed = os.path.join(BROWSER_DIR, "node_modules", "playwright-core", "package.json")
    have = None
    if os.path.exists(installed):
        with open(installed) as f:
            have = json.load(f)["version"]
    if have != want:
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=BROWSER_DIR, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"npm ci in tests/browser failed:\n{r.stdout}\n{r.stderr}"
    return os.path.join(BROWSER_DIR, "acc_browser.mjs")


@pytest.fixture
def artifacts():
    d = os.environ.get("HOSTMAIL_ARTIFACTS") or os.path.join(BUILD, "artifacts")
    d = os.path.join(d, "acc")
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "*.png")):
        os.unlink(old)
    print(f"ACC screenshots in {d}")
    return d


def spki_sha256(cert):
    """base64 SHA-256 of the certificate's public key, for Chromium's
    --ignore-certificate-errors-spki-list (trust this key, nothing else)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Customer:
    """The running Node script: read its checkpoints, answer "ok" to go on."""

    def __init__(self, script, config_path):
        self.proc = subprocess.Popen(["node", script, config_path], cwd=BROWSER_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.stderr = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        self.watchdog = threading.Timer(300, self.proc.kill)
        self.watchdog.start()

    def next(self, name):
        for line in self.proc.stdout:
            if line.startswith("@@ "):
                cp = json.loads(line[3:])
                assert cp["checkpoint"] == name, (name, cp)
                return cp
            print("node:", line.rstrip())
        self.proc.wait()
        raise AssertionError(f"the browser script ended before {name!r} "
                             f"(exit {self.proc.returncode}):\n{''.join(self.stderr)}")

    def go_on(self):
        self.proc.stdin.write("ok\n")
        self.proc.stdin.flush()

    def close(self):
        self.watchdog.cancel()
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self.proc.kill()
                self.proc.wait()


def send_to_self(hm, address, password, subject):
    """smtplib: submission with STARTTLS and AUTH as the mailbox, to itself."""
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    with smtplib.SMTP("127.0.0.1", hm.submission_port, timeout=20) as s:
        s.starttls(context=ctx)
        s.login(address, password)
        s.sendmail(address, [address], f"From: {address}\r\nTo: {address}\r\nSubject: {subject}\r\n"
                   "\r\nSent through the mailbox the ACC made.\r\n")


def pop3_subjects(hm, address, password):
    """poplib: every message's Subject in the mailbox, over POP3S."""
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    p = poplib.POP3_SSL("127.0.0.1", hm.pop3s_port, context=ctx, timeout=20)
    try:
        p.user(address)
        p.pass_(password)
        count, _ = p.stat()
        return [email.message_from_bytes(b"\r\n".join(p.retr(i + 1)[1]))["Subject"] for i in range(count)]
    finally:
        p.quit()


def test_customer_manages_mail_in_a_browser(server, playwright_script, artifacts):
    hm = server
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    hm.ctl("account", "add", "oldco", "--created", "2009-03-01", "--server-number", "7")
    hm.ctl("domain", "add", "oldco", "oldco.test")
    hm.ctl("mailbox", "add", "info@oldco.test", input="info-secret\n")
    hm.ctl("account", "passwd", "oldco", input="oldco-pass\n")
    dave, pw1, pw2 = "dave@acme.test", "dave-password-1", "dave-password-2"

    config = os.path.join(hm.dir, "browser.json")
    with open(config, "w") as f:
        json.dump({"base": f"https://127.0.0.1:{hm.acc_port}", "chromium": CHROMIUM,
                   "spki": spki_sha256(hm.pki["crt"]), "artifacts": artifacts,
                   "account": "acme", "password": ACME_PW, "domain": "acme.test",
                   "new_local": "dave", "new_password": pw1, "changed_password": pw2,
                   "remove": "bob@acme.test",
                   "legacy_account": "oldco", "legacy_password": "oldco-pass"}, f)

    def show(address):
        return hm.ctl("mailbox", "show", address).stdout

    c = Customer(playwright_script, config)
    try:
        cp = c.next("login-failed")
        assert cp["error"] == "Wrong account name or password."
        assert "acc authentication failed: ip=127.0.0.1 user=acme" in hm.logtext()
        c.go_on()

        cp = c.next("overview")
        assert cp["overview"] == {"account": "acme", "status": "active", "server": "7",
                                  "smtp_host": "acme.mail.example.net", "domains": "acme.test"}
        assert "smtp_host: acme.mail.example.net\n" in show("alice@acme.test")
        cookie = cp["cookie"]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert cookie["expires"] > 0 and cookie["length"] == 64    # expiring, not a browser-session cookie
        c.go_on()

        # what E-Mail Management shows is what hostmailctl prints
        cp = c.next("settings")
        assert sorted(cp["settings"]) == ["alice@acme.test", "bob@acme.test"]
        for address, text in cp["settings"].items():
            assert text == show(address), address
        c.go_on()

        # the recommended servers as tables, a value copied with its button,
        # and the step-by-step guides naming the same server
        cp = c.next("tables")
        assert cp["address"] == "alice@acme.test"
        assert cp["tables"] == {
            "in": {"host": "acme.mail.example.net", "port": str(hm.pop3s_port), "security": "SSL/TLS",
                   "auth": "Normal password", "username": "alice@acme.test"},
            "out": {"host": "acme.mail.example.net", "port": str(hm.submissions_port),
                    "security": "SSL/TLS", "auth": "Normal password", "username": "alice@acme.test"}}
        shown = show("alice@acme.test")
        assert (f"incoming: POP3 acme.mail.example.net port {hm.pop3s_port} SSL/TLS (recommended)\n"
                in shown)
        assert (f"outgoing: SMTP acme.mail.example.net port {hm.submissions_port} SSL/TLS (recommended)\n"
                in shown)
        assert cp["copied"] == str(hm.submissions_port)
        for guide, steps in cp["guides"].items():
            assert f"acme.mail.example.net port {hm.pop3s_port} with SSL/TLS" in steps, guide
            assert f"acme.mail.example.net port {hm.submissions_port} with SSL/TLS" in steps, guide
        c.go_on()

        # the mailbox added in the browser works for SMTP and POP3
        cp = c.next("mailbox-added")
        assert cp["message"] == f"The mailbox {dave} was added."
        assert cp["settings"] == show(dave)
        assert f"username: {dave}\n" in cp["settings"]
        send_to_self(hm, dave, pw1, "hello from the new mailbox")
        hm.wait_messages(dave, 1)
        assert pop3_subjects(hm, dave, pw1) == ["hello from the new mailbox"]
        assert f"acc: account=acme ip=127.0.0.1 added mailbox {dave}" in hm.logtext()
        c.go_on()

        # the new password works, the old one no longer does
        cp = c.next("password-changed")
        assert cp["message"] == f"The password of {dave} was changed."
        assert not smtp_auth_ok(hm, dave, pw1) and not pop3_login_ok(hm, dave, pw1)
        assert pop3_subjects(hm, dave, pw2) == ["hello from the new mailbox"]
        send_to_self(hm, dave, pw2, "after the change")
        hm.wait_messages(dave, 2)
        assert sorted(pop3_subjects(hm, dave, pw2)) == ["after the change", "hello from the new mailbox"]
        assert f"acc: account=acme ip=127.0.0.1 changed the password of mailbox {dave}" in hm.logtext()
        c.go_on()

        cp = c.next("relay")
        assert len(cp["grants"]) == 1 and cp["grants"][0].startswith(f"127.0.0.1 by {dave}, until ")
        assert "127.0.0.1" in hm.ctl("relay", "list").stdout
        c.go_on()

        cp = c.next("budget")
        # two messages of one recipient each were sent above
        assert cp["budget"]["hour"].startswith("2 of 500 recipients used")
        assert cp["budget"]["day"].startswith("2 of 2000 recipients used")
        assert cp["budget"]["per_message"] == "at most 100 recipients"
        c.go_on()

        cp = c.next("mailbox-removed")
        assert cp["message"] == "The mailbox bob@acme.test was removed."
        assert sorted(cp["mailboxes"]) == ["alice@acme.test", dave]
        assert "bob@acme.test" not in hm.ctl("mailbox", "list").stdout.split()
        assert "acc: account=acme ip=127.0.0.1 removed mailbox bob@acme.test" in hm.logtext()
        c.go_on()

        cp = c.next("forged-form")
        # the browser did not send the SameSite=Strict cookie with the forged POST
        assert "Not logged in" in cp["page"] and "Please log in again." in cp["page"], cp
        assert "acc: account=acme ip=127.0.0.1 added mailbox mallory" not in hm.logtext()
        assert "mallory@acme.test" not in hm.ctl("mailbox", "list").stdout.split()
        c.go_on()

        cp = c.next("phone-and-logout")
        assert cp["too_wide"] == []
        assert cp["after_logout"] == "/login"
        assert "acc: account=acme ip=127.0.0.1 logged out" in hm.logtext()
        c.go_on()

        cp = c.next("legacy")
        assert cp["smtp_host"] == "mail007.example.net"
        assert list(cp["settings"]) == ["info@oldco.test"]
        assert "smtp_host: mail007.example.net\n" in cp["settings"]["info@oldco.test"]
        assert cp["settings"]["info@oldco.test"] == show("info@oldco.test")
        c.go_on()

        cp = c.next("done")
        shots = cp["screenshots"]
        c.go_on()
    finally:
        c.close()
    assert c.proc.returncode == 0, "".join(c.stderr)
    assert len(shots) == 21
    for path in shots:
        assert os.path.dirname(path) == artifacts
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", path
