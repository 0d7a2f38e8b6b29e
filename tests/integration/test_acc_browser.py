"""The ACC in a real browser: headless Chromium (Debian's chromium package)
driven over the DevTools protocol by cdp.py. A customer fails to log in,
logs in, reads the settings of a new and of a legacy account, adds a
mailbox through the form and uses it with smtplib and poplib, changes its
password, and every page fits a 390-pixel phone screen. Screenshots of
each page are kept in $HOSTMAIL_ARTIFACTS (or the test's temporary
directory); their path is printed."""
import os

import pytest

import cdp
from test_acc import ACME_PW, pop3_login_ok, smtp_auth_ok

pytestmark = pytest.mark.skipif(not os.path.exists(cdp.CHROMIUM),
                                reason=f"{cdp.CHROMIUM} missing: run scripts/deps.sh")


@pytest.fixture
def shots(tmp_path):
    d = os.environ.get("HOSTMAIL_ARTIFACTS") or str(tmp_path / "screenshots")
    d = os.path.join(d, "acc")
    os.makedirs(d, exist_ok=True)
    print(f"ACC screenshots in {d}")
    return d


def settings_text(b, address):
    return b.eval("(() => { for (const s of document.querySelectorAll('section.mailbox'))"
                  f" if (s.querySelector('h2').innerText === {address!r})"
                  " return s.querySelector('pre.settings').innerText; return null; })()")


def fits_phone(b):
    return b.eval("document.documentElement.scrollWidth <= window.innerWidth")


def test_customer_manages_mail_in_a_browser(server, shots):
    hm = server
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    hm.ctl("account", "add", "oldco", "--created", "2009-03-01", "--server-number", "7")
    hm.ctl("domain", "add", "oldco", "oldco.test")
    hm.ctl("mailbox", "add", "info@oldco.test", input="info-secret\n")
    hm.ctl("account", "passwd", "oldco", input="oldco-pass\n")
    base = f"https://127.0.0.1:{hm.acc_port}"

    def shot(b, name):
        path = b.screenshot(os.path.join(shots, name + ".png"))
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    with cdp.Browser() as b:
        # a wrong password
        b.goto(base + "/")
        assert b.url() == base + "/login"
        shot(b, "01-login")
        b.type("#account", "acme")
        b.type("#password", "not-the-password")
        b.click("button[type=submit]")
        assert "Wrong account name or password." in b.text()
        shot(b, "02-login-failed")

        # the right one
        b.type("#account", "acme")
        b.type("#password", ACME_PW)
        b.click("main button[type=submit]")
        assert b.url() == base + "/overview"
        text = b.text()
        assert "acme.mail.example.net" in text and "acme.test" in text and "active" in text
        cookie = [c for c in b.cookies() if c["name"] == "hm_session"][0]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        shot(b, "03-overview")

        # E-Mail Management: the settings as hostmailctl gives them
        b.click("a[href='/mail']")
        assert b.url() == base + "/mail"
        assert settings_text(b, "alice@acme.test") == hm.ctl("mailbox", "show", "alice@acme.test").stdout
        shot(b, "04-mail")

        # add a mailbox through the form, then use it
        b.type("#local", "dave")
        b.type("#add-pw", "dave-password-1")
        b.type("#add-pw2", "dave-password-1")
        b.click("#add button[type=submit]")
        assert b.url() == base + "/mail"
        assert "The mailbox dave@acme.test was added." in b.text()
        assert settings_text(b, "dave@acme.test") == hm.ctl("mailbox", "show", "dave@acme.test").stdout
        shot(b, "05-mailbox-added")
        assert smtp_auth_ok(hm, "dave@acme.test", "dave-password-1")
        assert pop3_login_ok(hm, "dave@acme.test", "dave-password-1")

        # change its password with the form in its section
        sec = b.eval("(() => { for (const s of document.querySelectorAll('section.mailbox'))"
                     " if (s.querySelector('h2').innerText === 'dave@acme.test') return s.id; })()")
        b.type(f"#{sec}-pw", "dave-password-2")
        b.type(f"#{sec}-pw2", "dave-password-2")
        b.click(f"#{sec} button[type=submit]")
        assert "The password of dave@acme.test was changed." in b.text()
        shot(b, "06-password-changed")
        assert smtp_auth_ok(hm, "dave@acme.test", "dave-password-2")

        # the POP3 login above authorized 127.0.0.1
        b.click("a[href='/relay']")
        assert "127.0.0.1 by dave@acme.test" in b.text()
        shot(b, "07-relay")
        b.click("a[href='/budget']")
        assert "500" in b.text() and "2000" in b.text()
        shot(b, "08-budget")

        # a phone: nothing scrolls sideways
        b.phone()
        for path in ("/mail", "/overview", "/relay", "/budget"):
            b.goto(base + path)
            assert fits_phone(b), path
        b.goto(base + "/mail")
        shot(b, "09-mail-phone")

        # log out; the legacy account sees its numbered server
        b.click("nav button")
        assert b.url() == base + "/login"
        assert fits_phone(b)
        shot(b, "10-login-phone")
        b.desktop()
        b.type("#account", "oldco")
        b.type("#password", "oldco-pass")
        b.click("main button[type=submit]")
        assert "mail007.example.net" in b.text()
        b.click("a[href='/mail']")
        shown = settings_text(b, "info@oldco.test")
        assert "smtp_host: mail007.example.net" in shown
        assert shown == hm.ctl("mailbox", "show", "info@oldco.test").stdout
        shot(b, "11-legacy-mail")
    assert len(os.listdir(shots)) == 11
