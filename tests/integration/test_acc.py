"""The Account Control Center over real HTTPS (http.client trusting the
test CA): login, cookie flags and security headers, CSRF, adding,
re-passwording and removing mailboxes (checked with hostmailctl and by
logging in to SMTP AUTH and POP3), isolation between accounts, suspended
accounts, login throttling, and the settings against `mailbox show`."""
import base64
import hashlib
import poplib
import re
import smtplib
import ssl
import time

import pytest

from acc_client import AccClient

ACME_PW = "acme-account-pw"


@pytest.fixture
def acc(server):
    """The demo server with an ACC password for account acme."""
    server.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    return server


def logged_in(hm, account="acme", password=ACME_PW, source=None):
    c = AccClient(hm, source=source)
    r = c.login(account, password)
    assert r.status == 303 and r.header("Location") == "/overview", r
    return c


def smtp_auth_ok(hm, user, password):
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    with smtplib.SMTP("127.0.0.1", hm.submission_port, timeout=20) as s:
        s.starttls(context=ctx)
        try:
            s.login(user, password)
            return True
        except smtplib.SMTPAuthenticationError:
            return False


def pop3_login_ok(hm, user, password):
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    p = poplib.POP3_SSL("127.0.0.1", hm.pop3s_port, context=ctx, timeout=20)
    try:
        p.user(user)
        p.pass_(password)
        return True
    except poplib.error_proto:
        return False
    finally:
        try:
            p.quit()
        except Exception:
            pass


def mailboxes(hm):
    return hm.ctl("mailbox", "list").stdout.split()


# --- login, cookies, headers -------------------------------------------------

def test_login_wrong_then_right_sets_a_strict_session_cookie(acc):
    c = AccClient(acc)
    r = c.login("acme", "wrong-password")
    assert r.status == 403 and "Wrong account name or password" in r.text
    assert "__Host-hm_session" not in c.cookies
    r = c.login("nosuchaccount", ACME_PW)
    assert r.status == 403 and "Wrong account name or password" in r.text

    r = c.login("acme", ACME_PW)
    assert r.status == 303 and r.header("Location") == "/overview"
    sc = [x for x in r.set_cookies() if x.startswith("__Host-hm_session=")]
    assert len(sc) == 1
    attrs = [a.strip().lower() for a in sc[0].split(";")]
    value = attrs[0].split("=", 1)[1]
    assert len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)
    for flag in ("httponly", "secure", "samesite=strict", "path=/", "max-age=1800"):
        assert flag in attrs, sc
    assert "acc: account=acme ip=127.0.0.1 logged in" in acc.logtext()
    assert "acc authentication failed: ip=127.0.0.1 user=nosuchaccount" in acc.logtext()

    r = c.get("/overview")
    assert r.status == 200
    assert '<dd id="status">active</dd>' in r.text
    assert '<dd id="server">7</dd>' in r.text
    assert '<dd id="smtp_host">acme.mail.example.net</dd>' in r.text
    assert '<dd id="domains">acme.test</dd>' in r.text


def test_security_headers_on_every_page(acc):
    c = AccClient(acc)
    for r in (c.get("/login"), c.get("/nonexistent"), logged_in(acc).get("/mail")):
        csp = r.header("Content-Security-Policy")
        assert csp.startswith("default-src 'none'; style-src 'sha256-"), csp
        assert "form-action 'self'" in csp and "unsafe" not in csp and "img-src" not in csp
        assert r.header("X-Frame-Options") == "DENY"
        assert r.header("Referrer-Policy") == "no-referrer"
        assert r.header("Cache-Control") == "no-store"
        assert r.header("Content-Type") == "text/html; charset=utf-8"
        # one script, the copy buttons', allowed by its exact hash
        scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
        assert len(scripts) == 1 and r.text.lower().count("<script") == 1
        digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
        assert f"script-src 'sha256-{digest}';" in csp


def test_pages_need_a_session(acc):
    c = AccClient(acc)
    for path in ("/overview", "/mail", "/relay", "/budget", "/mail/remove?address=alice@acme.test"):
        r = c.get(path)
        assert r.status == 303 and r.header("Location") == "/login", (path, r)
    c.cookies["__Host-hm_session"] = "0" * 64
    assert c.get("/mail").status == 303
    r = c.post("/mail/passwd", {"csrf": "0" * 64, "address": "alice@acme.test",
                                "password": "x" * 10, "password2": "x" * 10})
    assert r.status == 403 and "log in again" in r.text


def test_logout_ends_the_session(acc):
    c = logged_in(acc)
    sid = c.cookies["__Host-hm_session"]
    r = c.post("/logout", {"csrf": c.csrf()})
    assert r.status == 303 and r.header("Location") == "/login"
    assert "__Host-hm_session" not in c.cookies
    c.cookies["__Host-hm_session"] = sid     # the old id is dead on the server too
    assert c.get("/overview").status == 303
    assert "acc: account=acme ip=127.0.0.1 logged out" in acc.logtext()


def test_every_login_gets_a_new_random_session_id(acc):
    """A planted (fixated) id is replaced at login and ended; ids differ."""
    first = logged_in(acc)
    planted = first.cookies["__Host-hm_session"]
    victim = AccClient(acc)
    page = victim.get("/login")
    login_cookie = [x for x in page.set_cookies() if x.startswith("__Host-hm_login=")]
    assert len(login_cookie) == 1
    attrs = [a.strip().lower() for a in login_cookie[0].split(";")]
    for flag in ("httponly", "secure", "samesite=strict", "path=/"):
        assert flag in attrs, login_cookie
    assert any(a.startswith("max-age=") for a in attrs)
    victim.cookies["__Host-hm_session"] = planted
    r = victim.post("/login", {"csrf": page.csrf(), "account": "acme", "password": ACME_PW})
    assert r.status == 303
    fresh = victim.cookies["__Host-hm_session"]
    assert fresh != planted and len(fresh) == 64
    assert first.get("/overview").status == 303          # the planted id no longer works
    assert victim.get("/overview").status == 200
    ids = {fresh} | {logged_in(acc).cookies["__Host-hm_session"] for _ in range(3)}
    assert len(ids) == 4


# --- CSRF --------------------------------------------------------------------

def test_csrf_missing_or_wrong_is_refused(acc):
    c = logged_in(acc)
    form = {"local": "mallory", "domain": "acme.test", "password": "mallory-pw-1", "password2": "mallory-pw-1"}
    r = c.post("/mail/add", form)
    assert r.status == 403 and "did not come from this site" in r.text
    r = c.post("/mail/add", dict(form, csrf="0" * 64))
    assert r.status == 403
    other = logged_in(acc)           # another session's valid token is no good either
    r = c.post("/mail/add", dict(form, csrf=other.csrf()))
    assert r.status == 403
    r = c.post("/logout", {"csrf": "nope"})
    assert r.status == 403
    assert "mallory@acme.test" not in mailboxes(acc)
    assert "missing or wrong CSRF token" in acc.logtext()


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)


def test_every_form_carries_the_sessions_token(acc):
    c = logged_in(acc)
    token = c.csrf()
    assert re.fullmatch(r"[0-9a-f]{64}", token) and token != c.cookies["__Host-hm_session"]
    pages = ["/overview", "/mail", "/relay", "/budget", "/mail/remove?address=alice%40acme.test"]
    nforms = 0
    for path in pages:
        r = c.get(path)
        assert r.status == 200, path
        forms = FORM.findall(r.text)
        assert forms, path                       # at least the logout form
        for f in forms:
            assert 'method="post"' in f, (path, f)
            assert f'<input type="hidden" name="csrf" value="{token}">' in f, (path, f)
            nforms += 1
    assert nforms >= 5 + 4                       # the mail page: logout, 2 passwords, add
    login = AccClient(acc).get("/login")
    (f,) = FORM.findall(login.text)
    assert re.search(r'name="csrf" value="[0-9a-f]{64}"', f)


def test_every_change_needs_the_token(acc):
    c = logged_in(acc)
    changes = [
        ("/mail/add", {"local": "mallory", "domain": "acme.test",
                       "password": "mallory-pw-1", "password2": "mallory-pw-1"}),
        ("/mail/passwd", {"address": "alice@acme.test", "password": "stolen-pw-1", "password2": "stolen-pw-1"}),
        ("/mail/remove", {"address": "bob@acme.test", "confirm": "yes"}),
        ("/logout", {}),
    ]
    for path, form in changes:
        for bad in (None, "", "0" * 64, "x"):
            f = dict(form) if bad is None else dict(form, csrf=bad)
            r = c.post(path, f)
            assert r.status == 403 and "did not come from this site" in r.text, (path, bad, r)
    assert mailboxes(acc) == ["alice@acme.test", "bob@acme.test"]
    assert smtp_auth_ok(acc, "alice@acme.test", "alice-secret")
    assert c.get("/overview").status == 200          # still logged in
    for path, _ in changes:
        assert f"acc: account=acme ip=127.0.0.1 {path} refused: missing or wrong CSRF token" in acc.logtext()


def test_login_form_needs_its_token(acc):
    c = AccClient(acc)
    r = c.post("/login", {"account": "acme", "password": ACME_PW})
    assert r.status == 403 and "__Host-hm_session" not in c.cookies
    page = c.get("/login")
    r = c.post("/login", {"csrf": page.csrf(), "account": "acme", "password": ACME_PW}, cookies=False)
    assert r.status == 403 and "__Host-hm_session" not in c.cookies


# --- mailboxes -----------------------------------------------------------------

def test_add_change_password_and_remove_a_mailbox(acc):
    c = logged_in(acc)
    token = c.csrf()
    r = c.post("/mail/add", {"csrf": token, "local": "Carol", "domain": "acme.test",
                             "password": "carol-pw-1", "password2": "carol-pw-1"})
    assert r.status == 303 and r.header("Location") == "/mail"
    page = c.get("/mail")
    assert "The mailbox carol@acme.test was added." in page.text
    assert "carol@acme.test" in page.settings()
    assert "carol@acme.test" in mailboxes(acc)
    assert smtp_auth_ok(acc, "carol@acme.test", "carol-pw-1")
    assert pop3_login_ok(acc, "carol@acme.test", "carol-pw-1")
    assert "acc: account=acme ip=127.0.0.1 added mailbox carol@acme.test" in acc.logtext()

    # mistakes change nothing
    for pw, pw2, why in (("short", "short", "too short"), ("carol-pw-2", "carol-pw-3", "differ")):
        r = c.post("/mail/passwd", {"csrf": token, "address": "carol@acme.test", "password": pw, "password2": pw2})
        assert r.status == 303
        assert why in c.get("/mail").text
    r = c.post("/mail/add", {"csrf": token, "local": "carol", "domain": "acme.test",
                             "password": "carol-pw-9", "password2": "carol-pw-9"})
    assert "already exists" in c.get("/mail").text
    r = c.post("/mail/add", {"csrf": token, "local": "bad/name", "domain": "acme.test",
                             "password": "carol-pw-9", "password2": "carol-pw-9"})
    assert "not a valid mailbox name" in c.get("/mail").text

    r = c.post("/mail/passwd", {"csrf": token, "address": "carol@acme.test",
                                "password": "carol-pw-2", "password2": "carol-pw-2"})
    assert r.status == 303
    assert "The password of carol@acme.test was changed." in c.get("/mail").text
    assert smtp_auth_ok(acc, "carol@acme.test", "carol-pw-2")
    assert not smtp_auth_ok(acc, "carol@acme.test", "carol-pw-1")
    assert "acc: account=acme ip=127.0.0.1 changed the password of mailbox carol@acme.test" in acc.logtext()

    r = c.get("/mail/remove?address=carol%40acme.test")
    assert r.status == 200 and 'name="confirm" value="yes"' in r.text
    r = c.post("/mail/remove", {"csrf": token, "address": "carol@acme.test"})   # no confirmation yet
    assert r.status == 200 and "carol@acme.test" in mailboxes(acc)
    r = c.post("/mail/remove", {"csrf": token, "address": "carol@acme.test", "confirm": "yes"})
    assert r.status == 303
    assert "The mailbox carol@acme.test was removed." in c.get("/mail").text
    assert "carol@acme.test" not in mailboxes(acc)
    assert "acc: account=acme ip=127.0.0.1 removed mailbox carol@acme.test" in acc.logtext()
    for secret in ("carol-pw-1", "carol-pw-2", "carol-pw-9", ACME_PW):
        assert secret not in acc.logtext()


def test_settings_on_the_page_equal_mailbox_show(acc):
    page = logged_in(acc).get("/mail")
    shown = page.settings()
    assert sorted(shown) == ["alice@acme.test", "bob@acme.test"]
    for address, text in shown.items():
        assert text == acc.ctl("mailbox", "show", address).stdout
    assert f"smtp_ports: {acc.smtp_port}, {acc.smtp_port2} (STARTTLS)" in shown["alice@acme.test"]


def test_legacy_account_shows_its_numbered_server(acc):
    acc.ctl("account", "add", "oldco", "--created", "2009-03-01", "--server-number", "7")
    acc.ctl("domain", "add", "oldco", "oldco.test")
    acc.ctl("mailbox", "add", "info@oldco.test", input="info-secret\n")
    acc.ctl("account", "passwd", "oldco", input="oldco-pass\n")
    c = logged_in(acc, "oldco", "oldco-pass")
    assert '<dd id="smtp_host">mail007.example.net</dd>' in c.get("/overview").text
    shown = c.get("/mail").settings()
    assert list(shown) == ["info@oldco.test"]
    assert "smtp_host: mail007.example.net\n" in shown["info@oldco.test"]
    assert shown["info@oldco.test"] == acc.ctl("mailbox", "show", "info@oldco.test").stdout


# --- isolation ---------------------------------------------------------------

def test_an_account_never_sees_or_changes_another_accounts_mailboxes(acc):
    acc.ctl("account", "add", "other")
    acc.ctl("domain", "add", "other", "other.test")
    acc.ctl("mailbox", "add", "bob@other.test", input="other-bob-pw\n")
    c = logged_in(acc)
    token = c.csrf()
    page = c.get("/mail")
    assert "other.test" not in page.text
    assert "other.test" not in c.get("/overview").text

    r = c.post("/mail/passwd", {"csrf": token, "address": "bob@other.test",
                                "password": "hijacked-pw", "password2": "hijacked-pw"})
    assert r.status == 404
    r = c.post("/mail/passwd", {"csrf": token, "address": "BOB@Other.Test",
                                "password": "hijacked-pw", "password2": "hijacked-pw"})
    assert r.status == 404
    assert c.get("/mail/remove?address=bob%40other.test").status == 404
    r = c.post("/mail/remove", {"csrf": token, "address": "bob@other.test", "confirm": "yes"})
    assert r.status == 404
    r = c.post("/mail/add", {"csrf": token, "local": "eve", "domain": "other.test",
                             "password": "eve-password", "password2": "eve-password"})
    assert r.status == 404
    # the same answer as for a mailbox that does not exist at all
    r = c.post("/mail/remove", {"csrf": token, "address": "nobody@acme.test", "confirm": "yes"})
    assert r.status == 404

    assert "bob@other.test" in mailboxes(acc) and "eve@other.test" not in mailboxes(acc)
    assert smtp_auth_ok(acc, "bob@other.test", "other-bob-pw")
    assert "refused to change the password of mailbox bob@other.test of account other" in acc.logtext()


def test_relay_page_lists_only_this_accounts_authorizations(acc):
    acc.ctl("account", "add", "other")
    acc.ctl("domain", "add", "other", "other.test")
    acc.ctl("mailbox", "add", "bob@other.test", input="other-bob-pw\n")
    assert pop3_login_ok(acc, "alice@acme.test", "alice-secret")    # grants 127.0.0.1 to acme
    acc.sql("INSERT INTO relay_auth (ip, account_id, mailbox, expires) SELECT '192.0.2.77', id,"
            " 'bob@other.test', ? FROM accounts WHERE name = 'other'", (int(time.time()) + 3600,))
    page = logged_in(acc).get("/relay")
    assert page.status == 200
    assert "<b>127.0.0.1</b> by alice@acme.test" in page.text
    assert "192.0.2.77" not in page.text and "other.test" not in page.text


def test_budget_page_shows_the_limits(acc):
    page = logged_in(acc).get("/budget")
    assert page.status == 200
    assert "of 500 recipients used" in page.text or "500 recipients (the current use" in page.text
    assert "of 2000 recipients used" in page.text or "2000 recipients (the current use" in page.text
    assert "at most 100 recipients" in page.text


# --- suspension ----------------------------------------------------------------

def test_suspended_account_sees_its_status_but_changes_nothing(acc):
    old = logged_in(acc)
    acc.ctl("account", "suspend", "acme")
    # the suspension ended the session at once; the account holder may log in again and look
    r = old.get("/overview")
    assert r.status == 303 and r.header("Location") == "/login"
    c = logged_in(acc)
    token = c.csrf()
    r = c.get("/overview")
    assert r.status == 200 and '<dd id="status">suspended</dd>' in r.text and 'id="suspended"' in r.text
    page = c.get("/mail")
    assert sorted(page.settings()) == ["alice@acme.test", "bob@acme.test"]
    assert 'action="/mail/add"' not in page.text and 'action="/mail/passwd"' not in page.text

    r = c.post("/mail/add", {"csrf": token, "local": "dave", "domain": "acme.test",
                             "password": "dave-password", "password2": "dave-password"})
    assert r.status == 403 and "suspended" in r.text
    r = c.post("/mail/passwd", {"csrf": token, "address": "alice@acme.test",
                                "password": "new-alice-pw", "password2": "new-alice-pw"})
    assert r.status == 403
    r = c.post("/mail/remove", {"csrf": token, "address": "bob@acme.test", "confirm": "yes"})
    assert r.status == 403
    assert mailboxes(acc) == ["alice@acme.test", "bob@acme.test"]
    for path in ("/mail/add", "/mail/passwd", "/mail/remove"):
        assert f"acc: account=acme ip=127.0.0.1 refused {path}: account suspended" in acc.logtext()
    r = c.get("/mail/remove?address=bob%40acme.test")
    assert r.status == 200 and "cannot be removed while the account is suspended" in r.text
    assert 'action="/mail/remove"' not in r.text

    acc.ctl("account", "resume", "acme")
    r = c.post("/mail/passwd", {"csrf": token, "address": "alice@acme.test",
                                "password": "new-alice-pw", "password2": "new-alice-pw"})
    assert r.status == 303


# --- throttling and limits -----------------------------------------------------

def test_repeated_failed_logins_block_the_address(acc):
    c = AccClient(acc, source="127.0.0.9")
    for _ in range(5):
        assert c.login("acme", "guess").status == 403
    r = c.login("acme", ACME_PW)              # even the right password, now
    assert r.status == 429 and r.header("Retry-After")
    assert "__Host-hm_session" not in c.cookies
    assert "acc: ip=127.0.0.9 blocked after repeated failed logins" in acc.logtext()
    logged_in(acc)                            # 127.0.0.1 is not affected


def test_oversized_requests_are_refused(acc):
    c = logged_in(acc)

    def refused(status_ok, **kw):
        # evhttp answers at once and closes; the client may still be sending
        try:
            return status_ok(c.request(**kw).status)
        except (ssl.SSLError, ConnectionError):
            return True

    assert refused(lambda st: st == 413, method="POST", path="/mail/add",
                   form={"csrf": c.csrf(), "local": "x" * 20000, "domain": "acme.test"})
    assert refused(lambda st: st in (400, 413, 431), method="GET", path="/overview",
                   headers={"X-Big": "y" * 20000})
    assert "x" * 100 not in " ".join(mailboxes(acc))
    r = c.request("POST", "/mail/add", raw_body="csrf=x", headers={"Content-Type": "text/plain"})
    assert r.status == 415
    assert c.get("/overview").status == 200


def test_account_passwd_cli(hm):
    hm.ctl("account", "add", "acme")
    r = hm.ctl("account", "passwd", "nosuch", input="pw-pw-pw-pw\n", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = hm.ctl("account", "passwd", "acme", input="\n", check=False)
    assert r.returncode == 1 and "empty password" in r.stderr
    hm.ctl("account", "passwd", "acme", input="first-password\n")
    ((h,),) = hm.sql("SELECT password_hash FROM accounts WHERE name = 'acme'")
    assert h.startswith("$y$")
