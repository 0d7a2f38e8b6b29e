"""The shared store: hostmaild and hostmailctl with [store] backend =
postgresql, against a private PostgreSQL 15 cluster (pg.py, conftest's
pg_cluster and pg_dsn fixtures): accounts made with hostmailctl, SMTP AUTH
and POP3 logins; PostgreSQL stopped under a running daemon (temporary
replies only, no accepted message lost) and started again (the same daemon
serves again); two daemons on 127.0.0.11 and 127.0.0.12 sharing one
database (POP-before-SMTP across nodes, a suspension seen at once); db init
and db migrate-from-sqlite."""
import os
import smtplib
import socket
import sqlite3
import ssl
import time

import pytest

from acc_client import AccClient
from conftest import Hostmail, setup_demo
from pg import Cluster, store_config
from test_pop3 import POP3From
from test_tls_auth import msg, plain

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
REMOTE = "someone@remote.example"


def pg_hostmail(path, dsn, host="127.0.0.1", extra=""):
    """A Hostmail whose store is the database dsn, its schema made."""
    os.makedirs(path, exist_ok=True)
    h = Hostmail(path, extra=store_config(dsn) + extra, host=host)
    h.ctl("db", "init")
    return h


def client_ctx(hm):
    """Trusts the test CA only; the test certificate does not name 127.0.0.1x."""
    c = ssl.create_default_context(cafile=hm.pki["ca"])
    c.check_hostname = False
    return c


def smtp(hm, port=None, source=None):
    s = smtplib.SMTP(hm.host, port or hm.smtp_port, local_hostname="client.test", timeout=15,
                     source_address=(source, 0) if source else None)
    s.ehlo()
    return s


def smtp_auth_reply(hm, user=ALICE, pw=ALICE_PW, source=None):
    """STARTTLS on submission, then AUTH PLAIN: (code, text)."""
    s = smtp(hm, hm.submission_port, source)
    assert s.starttls(context=client_ctx(hm))[0] == 220
    s.ehlo()
    r = s.docmd("AUTH", "PLAIN " + plain(user, pw))
    s.close()
    return r


def pop_login(hm, user=ALICE, pw=ALICE_PW, source=None):
    p = POP3From(hm.host, hm.pop3_port, source=source)
    p.stls(client_ctx(hm))
    p.user(user)
    return p.pass_(pw), p


def rcpt_reply(hm, rcpt, sender="someone@example.org", source=None):
    s = smtp(hm, source=source)
    assert s.mail(sender)[0] == 250
    r = s.rcpt(rcpt)
    s.close()
    return r


# --- one node on PostgreSQL ---------------------------------------------------

def test_accounts_and_logins(tmp_path, pg_cluster, pg_dsn):
    hm = setup_demo(pg_hostmail(tmp_path / "n", pg_dsn))
    hm.ctl("account", "limits", "acme", "--per-hour", "40")
    db = pg_dsn.split("dbname=")[1]
    assert pg_cluster.psql("SELECT name, server_number, limit_per_hour FROM accounts", db) == [["acme", "7", "40"]]
    assert sorted(r[0] for r in pg_cluster.psql("SELECT address FROM mailboxes", db)) == [ALICE, "bob@acme.test"]
    assert not os.path.exists(os.path.join(hm.data_dir, "hostmail.db"))
    assert hm.ctl("mailbox", "list").stdout == f"{ALICE}\nbob@acme.test\n"
    hm.start()
    try:
        assert smtp_auth_reply(hm)[0] == 235
        assert smtp_auth_reply(hm, pw="wrong")[0] == 535
        reply, p = pop_login(hm)
        assert reply.startswith(b"+OK")
        p.quit()
        # the login's POP-before-SMTP grant is in the shared database
        assert pg_cluster.psql("SELECT ip, mailbox FROM relay_auth", db) == [["127.0.0.1", ALICE]]
        assert hm.ctl("relay", "list").stdout.split()[:3] == ["127.0.0.1", "acme", ALICE]
        s = smtp(hm)
        s.sendmail("x@example.org", [ALICE], msg(to=ALICE))
        s.close()
        assert len(hm.wait_messages(ALICE, 1)) == 1
    finally:
        hm.stop()


def test_db_init_and_schema_check(tmp_path, pg_cluster):
    db = pg_cluster.new_database()
    hm = Hostmail(tmp_path, extra=store_config(pg_cluster.dsn(db)))
    r = hm.ctl("account", "list", check=False)
    assert r.returncode == 1
    assert "no hostmail schema: run hostmailctl db init" in r.stderr
    with pytest.raises(RuntimeError, match="no hostmail schema"):
        hm.start()
    assert hm.ctl("db", "init").stdout == "schema version 8: created\n"
    assert hm.ctl("db", "init").stdout == "schema version 8: up to date\n"
    assert pg_cluster.psql("SELECT version FROM schema_version ORDER BY version", db) == [["2"], ["3"], ["4"], ["5"], ["6"], ["7"], ["8"]]
    hm.ctl("account", "add", "acme")
    # a wrong dsn: one clear line, no hang
    (tmp_path / "bad").mkdir()
    bad = Hostmail(tmp_path / "bad", extra=store_config("host=/nonexistent-dir dbname=x"))
    t0 = time.time()
    r = bad.ctl("account", "list", check=False)
    assert r.returncode == 1 and "cannot connect to PostgreSQL" in r.stderr
    assert time.time() - t0 < 5


@pytest.mark.parametrize("store, why", [
    ("backend = postgresql\n", "[store] backend = postgresql needs a dsn"),
    ("backend = mysql\n", 'bad value for [store] backend: "mysql"'),
    ("backend = sqlite\npool = 3\n", "unknown key [store] pool"),
    ("statement_timeout = 0\n", "bad value for [store] statement_timeout"),
    ("pool_size = 0\n", "bad value for [store] pool_size"),
])
def test_store_configuration_errors(tmp_path, store, why):
    hm = Hostmail(tmp_path, extra="\n[store]\n" + store)
    r = hm.ctl("account", "list", check=False)
    assert r.returncode == 1 and why in r.stderr, r.stderr


# --- PostgreSQL goes away and comes back -------------------------------------

def test_postgresql_stopped_and_started(tmp_path):
    cluster = Cluster()                  # its own: this test stops it
    try:
        dsn = cluster.dsn(cluster.new_database())
        hm = setup_demo(pg_hostmail(tmp_path / "n", dsn,
                                    extra="\n[queue]\nretry_schedule = 1s\n\n[pop3]\nallow_plaintext_auth = yes\n"))
        hm.start()
        try:
            outage(hm, cluster)
        finally:
            hm.stop()
    finally:
        cluster.destroy()


def login_page_cookies(page):
    return {sc.partition("=")[0]: sc.partition("=")[2].split(";", 1)[0] for sc in page.set_cookies()}


def outage(hm, cluster):
    assert smtp_auth_reply(hm)[0] == 235
    hm.ctl("account", "passwd", "acme", input="acme-acc-password\n")
    owner = AccClient(hm)
    assert owner.login("acme", "acme-acc-password").status == 303
    assert owner.get("/overview").status == 200
    login_page = AccClient(hm).get("/login")
    # a transaction whose recipient was accepted before PostgreSQL stops
    pending = smtp(hm)
    assert pending.mail("x@example.org")[0] == 250
    assert pending.rcpt(ALICE)[0] == 250

    cluster.stop()
    t0 = time.time()
    code, text = rcpt_reply(hm, ALICE)
    assert (code, text[:5]) == (451, b"4.3.0"), text
    code, text = rcpt_reply(hm, REMOTE)
    assert code == 451, text
    code, text = smtp_auth_reply(hm)
    assert (code, text[:5]) == (454, b"4.7.0"), text
    p = POP3From(hm.host, hm.pop3_port)
    p.user(ALICE)
    with pytest.raises(Exception, match=r"-ERR \[SYS/TEMP\]"):
        p.pass_(ALICE_PW)
    p.close()
    # the ACC says so on a page of its own, to a customer logged in and to one logging in
    page = owner.get("/overview")
    assert page.status == 503 and "Temporarily unavailable" in page.text, page
    guest = AccClient(hm)
    guest.cookies = {k: v for k, v in login_page_cookies(login_page).items()}
    page = guest.post("/login", {"csrf": login_page.csrf(), "account": "acme", "password": "acme-acc-password"})
    assert page.status == 503 and "Temporarily unavailable" in page.text, page
    assert time.time() - t0 < 10        # every answer came promptly
    # the message accepted at RCPT is still taken (250 means on disk), its
    # delivery waits for the store
    code, text = pending.data(msg(to=ALICE, subject="during the outage"))
    assert code == 250, text
    pending.close()
    hm.wait_log("4.3.0 account store unavailable")     # the delivery was tried, and waits
    assert hm.messages(ALICE) == []

    cluster.start()
    # the same daemon serves again, at once
    assert rcpt_reply(hm, ALICE)[0] == 250
    assert smtp_auth_reply(hm)[0] == 235
    reply, p = pop_login(hm)
    assert reply.startswith(b"+OK")
    p.quit()
    assert owner.get("/overview").status == 200       # the session outlived the outage
    got = hm.wait_messages(ALICE, 1, timeout=30)
    assert len(got) == 1 and b"during the outage" in got[0]
    assert "4.3.0 account store unavailable" in hm.logtext()


# --- two nodes, one database ---------------------------------------------------

CLIENT_IP = "127.0.0.5"


def test_two_nodes_share_grants_and_suspension(tmp_path, pg_cluster, pg_dsn):
    extra = "\n[pop3]\nallow_plaintext_auth = yes\n"
    a = setup_demo(pg_hostmail(tmp_path / "a", pg_dsn, host="127.0.0.11", extra=extra))
    b = pg_hostmail(tmp_path / "b", pg_dsn, host="127.0.0.12", extra=extra)
    a.start()
    b.start()
    try:
        # no grant yet: node B refuses to relay for this client
        assert rcpt_reply(b, REMOTE, sender=ALICE, source=CLIENT_IP)[0] == 554
        # a POP3 login on node A ...
        reply, p = pop_login(a, source=CLIENT_IP)
        assert reply.startswith(b"+OK")
        p.quit()
        # ... lets the same client IP relay through node B
        s = smtp(b, source=CLIENT_IP)
        assert s.mail(ALICE)[0] == 250
        assert s.rcpt(REMOTE)[0] == 250
        s.close()
        assert "authorized by POP-before-SMTP account=acme" in b.logtext()
        # another client IP is not authorized by it
        assert rcpt_reply(b, REMOTE, sender=ALICE, source="127.0.0.6")[0] == 554
        # AUTH on B with the mailbox made through A's configuration
        assert smtp_auth_reply(b, source=CLIENT_IP)[0] == 235
        # suspended through the shared database: B refuses at once
        b.ctl("account", "suspend", "acme")
        code, text = smtp_auth_reply(b, source=CLIENT_IP)
        assert (code, text[:5]) == (535, b"5.7.8"), text
        assert b"suspended" in text
        assert rcpt_reply(b, REMOTE, sender=ALICE, source=CLIENT_IP)[0] == 554
        code, text = smtp_auth_reply(a)
        assert code == 535
        b.ctl("account", "resume", "acme")
        assert smtp_auth_reply(a)[0] == 235
    finally:
        a.stop()
        b.stop()


# --- db migrate-from-sqlite ----------------------------------------------------

SQLITE = "\n[store]\nbackend = sqlite\n"   # whatever HOSTMAIL_TEST_STORE says

def test_migrate_from_sqlite(tmp_path, pg_cluster, pg_dsn):
    (tmp_path / "old").mkdir()
    (tmp_path / "sq").mkdir()
    old = setup_demo(Hostmail(tmp_path / "old", extra=SQLITE))
    old.ctl("account", "add", "other", "--created", "2009-05-04", "--server-number", "12")
    old.ctl("domain", "add", "other", "other.test")
    old.ctl("mailbox", "add", "carol@other.test", input="carol-secret\n")
    old.ctl("account", "limits", "acme", "--per-hour", "30", "--max-recipients", "5")
    old.ctl("account", "passwd", "acme", input="acc-secret\n")
    old.ctl("account", "suspend", "other")
    old.ctl("alias", "add", "sales@acme.test", "alice@acme.test,out@far.example")
    old.ctl("domain", "catchall", "other.test", "carol@other.test")
    old.ctl("account", "contact", "acme", "bob@acme.test")
    con = sqlite3.connect(os.path.join(old.data_dir, "hostmail.db"))
    with con:
        now = int(time.time())
        con.execute("INSERT INTO relay_auth SELECT '192.0.2.7', id, 'alice@acme.test', ? FROM accounts"
                    " WHERE name = 'acme'", (now + 3600,))
        con.execute("INSERT INTO rate_budget SELECT id, ?, 17, ?, 23 FROM accounts WHERE name = 'acme'",
                    (now - now % 3600, now - now % 86400))
        hashes = dict(con.execute("SELECT address, password_hash FROM mailboxes"))
    con.close()

    new = pg_hostmail(tmp_path / "new", pg_dsn)
    r = new.ctl("db", "migrate-from-sqlite", old.data_dir)
    lines = dict(l.split(": ", 1) for l in r.stdout.splitlines())
    assert lines == {
        "accounts": "2 copied, 2 in PostgreSQL",
        "suspended accounts": "1 copied, 1 in PostgreSQL",
        "ACC passwords": "1 copied, 1 in PostgreSQL",
        "limit overrides": "1 copied, 1 in PostgreSQL",
        "domains": "2 copied, 2 in PostgreSQL",
        "mailboxes": "3 copied, 3 in PostgreSQL",
        "relay grants": "1 copied, 1 in PostgreSQL",
        "rate counters": "1 copied, 1 in PostgreSQL",
        "ACC sessions": "0 copied, 0 in PostgreSQL",
        "DKIM keys": "2 copied, 2 in PostgreSQL",      # other.test's RSA and Ed25519 keys
        "aliases": "1 copied, 1 in PostgreSQL",
        "catch-alls": "1 copied, 1 in PostgreSQL",
        "account contacts": "1 copied, 1 in PostgreSQL",
    }
    assert new.ctl("alias", "list").stdout == "sales@acme.test alice@acme.test,out@far.example\n"
    assert new.ctl("domain", "catchall", "other.test").stdout == "carol@other.test\n"
    assert new.ctl("account", "contact", "acme").stdout == "bob@acme.test\n"
    db = pg_dsn.split("dbname=")[1]
    # the fleet publishes and signs with the keys the customers already have
    def dkim_lines(h):
        return [l for l in h.ctl("domain", "dns", "other.test").stdout.splitlines() if "_domainkey." in l]
    assert len(dkim_lines(old)) == 2 and dkim_lines(new) == dkim_lines(old)
    assert dict(pg_cluster.psql("SELECT address, password_hash FROM mailboxes", db)) == hashes
    show = new.ctl("account", "show", "other").stdout
    assert "status: suspended" in show and "created: 2009-05-04" in show and "server_number: 12" in show
    show = new.ctl("account", "show", "acme").stdout
    assert "recipients_per_hour: 30\n" in show and "max_recipients: 5\n" in show
    assert new.ctl("relay", "list").stdout.startswith("192.0.2.7 acme alice@acme.test ")

    # a second copy is refused, and nothing changes; --force replaces
    r = new.ctl("db", "migrate-from-sqlite", os.path.join(old.data_dir, "hostmail.db"), check=False)
    assert r.returncode == 1
    assert "already holds 2 accounts, 2 domains and 3 mailboxes" in r.stderr
    new.ctl("account", "add", "extra")
    r = new.ctl("db", "migrate-from-sqlite", old.data_dir, "--force")
    assert "accounts: 2 copied, 2 in PostgreSQL" in r.stdout
    assert new.ctl("account", "list").stdout.split("\n")[0].startswith("acme ")
    new.ctl("account", "add", "later")            # ids go on after the copied ones
    assert len(new.ctl("account", "list").stdout.splitlines()) == 3

    # the copied password hashes work as they are
    new.start()
    try:
        assert smtp_auth_reply(new)[0] == 235
        assert smtp_auth_reply(new, user="carol@other.test", pw="carol-secret")[0] == 535  # suspended
    finally:
        new.stop()

    r = new.ctl("db", "migrate-from-sqlite", str(tmp_path / "nothing-here"), check=False)
    assert r.returncode == 1 and "no SQLite store there" in r.stderr
    sq = Hostmail(tmp_path / "sq", extra=SQLITE)
    r = sq.ctl("db", "migrate-from-sqlite", old.data_dir, check=False)
    assert r.returncode == 1 and "copies into PostgreSQL" in r.stderr
