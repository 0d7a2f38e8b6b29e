"""hostmailctl: every verb, its output, and that bad input is refused with
exit 1 (or 2 for wrong usage), one clear line, and no change to the data."""
import os
import sqlite3
import warnings

import pytest

from conftest import ON_PG, Hostmail, free_port, sqlite_only

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt  # removed in Python 3.13; used only to double-check hashes
    except ImportError:
        crypt = None


def dump(hm):
    """Every row of every table, to show that a refused command changed nothing."""
    tables = [r[0] for r in hm.sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename" if ON_PG else
        "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: sorted(hm.sql(f"SELECT * FROM {t}"), key=repr) for t in tables}


def stored_hash(hm, address):
    rows = hm.sql("SELECT password_hash FROM mailboxes WHERE address = ?", (address,))
    return rows[0][0] if rows else None


def fails(hm, *args, input=None, code=1, says=None):
    r = hm.ctl(*args, input=input, check=False)
    assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
    if code == 1:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hostmailctl: "), r.stderr
    if says:
        assert says in r.stderr, r.stderr
    return r


def kv(text):
    out = {}
    for line in text.strip().splitlines():
        k, _, v = line.partition(": ")
        out[k] = v
    return out


@pytest.fixture
def full(tmp_path):
    """A configuration with every listener and non-default values, so that
    mailbox show can only be right if it reads them."""
    ports = {k: free_port() for k in ("sub", "subs", "pop3", "pop3s")}
    extra = f"""
[listen]
submission = 127.0.0.1:{ports['sub']}
submissions = 127.0.0.1:{ports['subs']}, [::1]:{ports['subs']}
pop3 = 127.0.0.1:{ports['pop3']}
pop3s = 127.0.0.1:{ports['pop3s']}

[relay]
pop_before_smtp_minutes = 45
"""
    h = Hostmail(tmp_path, extra=extra)
    h.ports = ports
    yield h
    h.stop()


# ---- usage ----

def test_help_and_usage_errors(hm):
    r = hm.ctl("-h")
    assert r.returncode == 0 and "usage: hostmailctl" in r.stdout
    assert "mailbox show ADDRESS" in r.stdout
    for args in ([], ["account"], ["bogus", "verb"], ["account", "frobnicate", "x"],
                 ["account", "show"], ["account", "show", "a", "b"], ["domain", "add", "acme"],
                 ["mailbox", "add"], ["queue", "list", "extra"],
                 ["account", "add", "x", "--server-number", "seven"],
                 ["account", "add", "x", "--colour", "red"], ["account", "add", "x", "--created"]):
        r = hm.ctl(*args, check=False)
        assert r.returncode == 2, (args, r.stderr)
        assert "usage: hostmailctl" in r.stderr


def test_usage_error_is_one_line_naming_the_fault_and_the_verbs_help(hm):
    for args, says, verb in (
            (["account", "show"], "account show: an argument is missing", "account show"),
            (["queue", "list", "extra"], "queue list: too many arguments", "queue list"),
            (["account", "add", "x", "--colour", "red"], "account add: unknown option", "account add"),
            (["account", "add", "x", "--server-number", "seven"], "--server-number needs a number", "account add"),
            (["bogus", "verb"], "unknown command: bogus verb", None)):
        r = hm.ctl(*args, check=False)
        lines = r.stderr.splitlines()
        assert r.returncode == 2 and len(lines) == 1, (args, r.stderr)
        assert lines[0].startswith("hostmailctl: ") and says in lines[0], lines
        assert lines[0].endswith(f"(usage: hostmailctl help {verb})" if verb else "(usage: hostmailctl help)")
        if verb:   # the pointer leads to that verb's usage, and only it
            h = hm.ctl("help", *verb.split())
            assert h.stdout.startswith(f"  {verb} ") and "mailbox" not in h.stdout, h.stdout
    h = hm.ctl("help", "queue", "list").stdout
    assert "--json" in h and "AGE" in h and "next=" in h   # queue list's help matches its output
    assert "account resume NAME" in hm.ctl("help", "account", "resume").stdout
    assert len(hm.ctl("help", "mailbox").stdout.splitlines()) >= 5
    assert hm.ctl("help", "nothing", check=False).returncode == 2


def test_passwords_obey_the_acc_rule_unless_forced(hm):
    hm.ctl("account", "add", "acme")
    hm.ctl("domain", "add", "acme", "acme.test", "--no-dkim")
    before = dump(hm)
    r = fails(hm, "mailbox", "add", "bob@acme.test", input="short\n", says="at least 8 characters")
    assert "--force" in r.stderr
    assert dump(hm) == before
    hm.ctl("mailbox", "add", "bob@acme.test", "--force", input="short\n")
    fails(hm, "mailbox", "passwd", "bob@acme.test", input="1234567\n", says="at least 8 characters")
    hm.ctl("mailbox", "passwd", "bob@acme.test", input="12345678\n")
    fails(hm, "account", "passwd", "acme", input="tiny\n", says="at least 8 characters")
    hm.ctl("account", "passwd", "acme", "--force", input="tiny\n")
    fails(hm, "account", "list", "--force", code=2)


def test_json_listings(hm):
    import json
    hm.ctl("account", "add", "acme", "--server-number", "7", "--created", "2010-01-02")
    hm.ctl("domain", "add", "acme", "acme.test", "--no-dkim")
    hm.ctl("mailbox", "add", "bob@acme.test", input="bob-secret\n")
    assert json.loads(hm.ctl("account", "list", "--json").stdout) == [
        {"name": "acme", "status": "active", "created": "2010-01-02", "server_number": 7}]
    assert json.loads(hm.ctl("domain", "list", "acme", "--json").stdout) == [
        {"domain": "acme.test", "account": "acme", "spam": "default"}]
    assert json.loads(hm.ctl("mailbox", "list", "--json").stdout) == [
        {"address": "bob@acme.test", "domain": "acme.test", "account": "acme"}]
    assert json.loads(hm.ctl("relay", "list", "--json").stdout) == []
    assert json.loads(hm.ctl("queue", "list", "--json").stdout) == []
    assert json.loads(hm.ctl("token", "list", "--json").stdout) == []


def test_missing_config_is_an_error(hm):
    import subprocess
    from conftest import HOSTMAILCTL
    r = subprocess.run([HOSTMAILCTL, "-c", os.path.join(hm.dir, "nope.ini"), "account", "list"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("hostmailctl: ") and "nope.ini" in r.stderr


# ---- accounts ----

def test_account_lifecycle(hm):
    hm.ctl("account", "add", "acme")
    hm.ctl("account", "add", "oldco", "--created", "2009-03-01", "--server-number", "7")
    hm.ctl("account", "add", "zeta", "--created=2012-01-02", "--server-number=12")
    lines = hm.ctl("account", "list").stdout.splitlines()
    assert [l.split()[0] for l in lines] == ["acme", "oldco", "zeta"]
    assert lines[1] == "oldco active 2009-03-01 7"
    assert lines[2] == "zeta active 2012-01-02 12"

    hm.ctl("domain", "add", "oldco", "old.example")
    hm.ctl("domain", "add", "oldco", "old2.example")
    hm.ctl("mailbox", "add", "a@old.example", input="pw-a-secret\n")
    hm.ctl("mailbox", "add", "b@old2.example", input="pw-b-secret\n")
    show = kv(hm.ctl("account", "show", "oldco").stdout)
    assert show == {"name": "oldco", "status": "active", "created": "2009-03-01",
                    "server_number": "7", "smtp_host": "mail007.example.net",
                    "domains": "old.example, old2.example", "mailboxes": "2",
                    "recipients_per_hour": "500 (default)", "recipients_per_day": "2000 (default)",
                    "max_recipients": "100 (default)",
                    "mailbox_quota_bytes": "0", "mailbox_quota_messages": "0"}
    assert kv(hm.ctl("account", "show", "acme").stdout)["domains"] == "none"
    assert kv(hm.ctl("account", "show", "acme").stdout)["smtp_host"] == "acme.mail.example.net"

    hm.ctl("account", "suspend", "oldco")
    assert kv(hm.ctl("account", "show", "oldco").stdout)["status"] == "suspended"
    assert "oldco suspended" in hm.ctl("account", "list").stdout
    hm.ctl("account", "resume", "oldco")
    assert kv(hm.ctl("account", "show", "oldco").stdout)["status"] == "active"

    hm.ctl("account", "remove", "oldco")
    assert "oldco" not in hm.ctl("account", "list").stdout
    assert hm.ctl("domain", "list").stdout == ""
    assert hm.ctl("mailbox", "list").stdout == ""
    assert os.path.isdir(hm.maildir("a@old.example"))  # mail is never deleted by accident
    fails(hm, "account", "show", "oldco", says="oldco")


def test_account_errors_change_nothing(hm):
    hm.ctl("account", "add", "acme")
    before = dump(hm)
    fails(hm, "account", "add", "acme", says="already exists")
    fails(hm, "account", "add", "Acme", says="invalid account name")
    fails(hm, "account", "add", "-acme", says="invalid account name")
    fails(hm, "account", "add", "a_b", says="invalid account name")
    fails(hm, "account", "add", "x" * 33, says="invalid account name")
    fails(hm, "account", "add", "bad", "--created", "2009-02-29", says="invalid date")
    fails(hm, "account", "add", "bad", "--created", "yesterday", says="invalid date")
    fails(hm, "account", "add", "bad", "--server-number", "-3", says="server number")
    for verb in ("show", "suspend", "resume", "remove"):
        fails(hm, "account", verb, "ghost", says="ghost")
    assert dump(hm) == before


# ---- domains ----

def test_domains(hm):
    hm.ctl("account", "add", "acme")
    hm.ctl("account", "add", "other")
    hm.ctl("domain", "add", "acme", "Acme.TEST")
    hm.ctl("domain", "add", "acme", "shop.acme.test")
    hm.ctl("domain", "add", "other", "other.test")
    assert hm.ctl("domain", "list").stdout.splitlines() == [
        "acme.test acme spam=default", "other.test other spam=default", "shop.acme.test acme spam=default"]
    assert hm.ctl("domain", "list", "other").stdout == "other.test other spam=default\n"
    fails(hm, "domain", "list", "ghost", says="account ghost does not exist")

    before = dump(hm)
    r = fails(hm, "domain", "add", "other", "acme.test")
    assert "acme.test" in r.stderr and "another account" in r.stderr and "acme" in r.stderr.split(",")[-1]
    fails(hm, "domain", "add", "other", "ACME.test", says="another account, acme")
    fails(hm, "domain", "add", "acme", "acme.test", says="already belongs to account acme")
    fails(hm, "domain", "add", "ghost", "new.test", says="account ghost does not exist")
    for bad in ("nodot", "a..b", "-a.test", "a_b.test", "1.2.3.4", "x/y.test", "a.test."):
        fails(hm, "domain", "add", "acme", bad, says="invalid domain")
    fails(hm, "domain", "remove", "ghost.test", says="ghost.test")
    assert dump(hm) == before

    hm.ctl("mailbox", "add", "x@shop.acme.test", input="pw-secret\n")
    hm.ctl("domain", "remove", "SHOP.acme.test")
    assert "shop.acme.test" not in hm.ctl("domain", "list").stdout
    assert hm.ctl("mailbox", "list").stdout == ""  # its mailboxes went with it


# ---- mailboxes ----

@pytest.fixture
def acme(hm):
    hm.ctl("account", "add", "acme")
    hm.ctl("domain", "add", "acme", "acme.test")
    return hm


def test_mailbox_add_makes_maildir_and_yescrypt_hash(acme):
    hm = acme
    hm.ctl("mailbox", "add", "Alice@Acme.Test", input="alice secret\r\n")
    assert hm.ctl("mailbox", "list").stdout == "alice@acme.test\n"
    for sub in ("tmp", "new", "cur"):
        assert os.path.isdir(os.path.join(hm.maildir("alice@acme.test"), sub))
    h = stored_hash(hm, "alice@acme.test")
    assert h.startswith("$y$")
    if crypt:
        assert crypt.crypt("alice secret", h) == h  # the \r\n is not part of it
        assert crypt.crypt("alice secret\r", h) != h


def test_mailbox_passwd(acme):
    hm = acme
    hm.ctl("mailbox", "add", "bob@acme.test", input="old-password\n")
    h1 = stored_hash(hm, "bob@acme.test")
    hm.ctl("mailbox", "passwd", "BOB@acme.test", input="new-password\n")
    h2 = stored_hash(hm, "bob@acme.test")
    assert h2 != h1 and h2.startswith("$y$")
    if crypt:
        assert crypt.crypt("new-password", h2) == h2
    fails(hm, "mailbox", "passwd", "bob@acme.test", input="\n", says="empty password")
    fails(hm, "mailbox", "passwd", "bob@acme.test", input="", says="empty password")
    fails(hm, "mailbox", "passwd", "ghost@acme.test", input="x\n", says="does not exist")
    assert stored_hash(hm, "bob@acme.test") == h2


def test_mailbox_errors_change_nothing(acme):
    hm = acme
    hm.ctl("account", "add", "other")
    hm.ctl("domain", "add", "other", "other.test")
    hm.ctl("mailbox", "add", "bob@acme.test", input="pw-secret\n")
    before = dump(hm)
    fails(hm, "mailbox", "add", "carol@acme.test", input="\n", says="empty password")
    fails(hm, "mailbox", "add", "carol@acme.test", input="", says="empty password")
    fails(hm, "mailbox", "add", "bob@acme.test", input="pw-secret\n", says="already exists")
    fails(hm, "mailbox", "add", "BOB@ACME.TEST", input="pw-secret\n", says="already exists")
    fails(hm, "mailbox", "add", "carol@unhosted.test", input="pw-secret\n", says="not hosted")
    for bad in ("carol", "@acme.test", "carol@", ".carol@acme.test", "carol.@acme.test",
                "ca..rol@acme.test", "a/b@acme.test", "../etc@acme.test", "ca rol@acme.test",
                '"carol"@acme.test', "carol@acme_test", "carol@[127.0.0.1]"):
        fails(hm, "mailbox", "add", bad, input="pw-secret\n", says="invalid mailbox address")
    fails(hm, "mailbox", "remove", "ghost@acme.test", says="does not exist")
    fails(hm, "mailbox", "show", "ghost@acme.test", says="does not exist")
    fails(hm, "mailbox", "list", "unhosted.test", says="not hosted")
    assert dump(hm) == before
    assert not os.path.exists(hm.maildir("carol@acme.test"))
    assert not os.path.exists(os.path.join(hm.data_dir, "mail", "unhosted.test"))


def test_mailbox_list_and_remove(acme):
    hm = acme
    hm.ctl("account", "add", "other")
    hm.ctl("domain", "add", "other", "other.test")
    for a in ("zed@acme.test", "amy@acme.test", "x@other.test"):
        hm.ctl("mailbox", "add", a, input="pw-secret\n")
    assert hm.ctl("mailbox", "list").stdout.splitlines() == [
        "amy@acme.test", "x@other.test", "zed@acme.test"]
    assert hm.ctl("mailbox", "list", "ACME.test").stdout.splitlines() == [
        "amy@acme.test", "zed@acme.test"]
    hm.ctl("mailbox", "remove", "Zed@acme.test")
    assert hm.ctl("mailbox", "list", "acme.test").stdout == "amy@acme.test\n"
    assert os.path.isdir(hm.maildir("zed@acme.test"))  # the mail itself stays


# ---- mailbox show: the settings a customer needs ----

def test_mailbox_show_legacy_and_new(full):
    hm, p = full, full.ports
    hm.ctl("account", "add", "oldco", "--created", "2009-03-01", "--server-number", "7")
    hm.ctl("domain", "add", "oldco", "old.example")
    hm.ctl("mailbox", "add", "info@old.example", input="pw-secret\n")
    hm.ctl("account", "add", "acme", "--created", "2015-05-05", "--server-number", "3")
    hm.ctl("domain", "add", "acme", "acme.test")
    hm.ctl("mailbox", "add", "alice@acme.test", input="pw-secret\n")

    smtp_ports = (f"{hm.smtp_port}, {hm.smtp_port2} (STARTTLS); {p['sub']} (STARTTLS); "
                  f"{p['subs']} (SSL/TLS)")
    pop3_ports = f"{p['pop3']} (STLS); {p['pop3s']} (SSL/TLS)"
    out = hm.ctl("mailbox", "show", "INFO@old.example").stdout
    assert [l.split(":")[0] for l in out.splitlines()] == [
        "username", "smtp_host", "smtp_ports", "pop3_host", "pop3_ports", "auth",
        "pop_before_smtp", "max_message_size", "incoming", "incoming",
        "outgoing", "outgoing", "outgoing", "outgoing",
        # the quota and the autoresponder (docs/quotas.md, docs/vacation.md)
        "quota_bytes", "quota_messages", "quota_used_bytes", "quota_used_messages", "quota_percent",
        "vacation"]
    # the servers as a mail program's setup asks for them, recommended first
    assert [l for l in out.splitlines() if l.startswith(("incoming", "outgoing"))] == [
        f"incoming: POP3 mail007.example.net port {p['pop3s']} SSL/TLS (recommended)",
        f"incoming: POP3 mail007.example.net port {p['pop3']} STARTTLS",
        f"outgoing: SMTP mail007.example.net port {p['subs']} SSL/TLS (recommended)",
        f"outgoing: SMTP mail007.example.net port {p['sub']} STARTTLS",
        f"outgoing: SMTP mail007.example.net port {hm.smtp_port} STARTTLS",
        f"outgoing: SMTP mail007.example.net port {hm.smtp_port2} STARTTLS",
    ]
    assert {k: v for k, v in kv(out).items()
            if k not in ("incoming", "outgoing") and not k.startswith(("quota_", "vacation"))} == {
        "username": "info@old.example",
        "smtp_host": "mail007.example.net",
        "smtp_ports": smtp_ports,
        "pop3_host": "mail007.example.net",
        "pop3_ports": pop3_ports,
        "auth": "required, with TLS",
        "pop_before_smtp": "45 minutes",
        "max_message_size": "1048576 bytes (1 MiB)",
    }
    new = kv(hm.ctl("mailbox", "show", "alice@acme.test").stdout)
    assert new["smtp_host"] == new["pop3_host"] == "acme.mail.example.net"
    assert new["smtp_ports"] == smtp_ports and new["username"] == "alice@acme.test"


def test_mailbox_show_only_configured_listeners(acme):
    hm = acme
    hm.ctl("mailbox", "add", "a@acme.test", input="pw-secret\n")
    s = kv(hm.ctl("mailbox", "show", "a@acme.test").stdout)
    assert s["smtp_ports"] == (f"{hm.smtp_port}, {hm.smtp_port2} (STARTTLS); {hm.submission_port} (STARTTLS); "
                               f"{hm.submissions_port} (SSL/TLS)")
    assert s["pop3_ports"] == f"{hm.pop3_port} (STLS); {hm.pop3s_port} (SSL/TLS)"
    assert s["pop_before_smtp"] == "90 minutes"


def test_mailbox_show_omits_unconfigured_listeners(tmp_path):
    hm = Hostmail(tmp_path)
    hm.write_config()
    with open(hm.config) as f:
        text = f.read()
    text = "\n".join(l for l in text.splitlines() if not l.startswith(("pop3", "submission")))
    with open(hm.config, "w") as f:
        f.write(text + "\n")
    hm.ctl("account", "add", "acme")
    hm.ctl("domain", "add", "acme", "acme.test")
    hm.ctl("mailbox", "add", "a@acme.test", input="pw-secret\n")
    s = kv(hm.ctl("mailbox", "show", "a@acme.test").stdout)
    assert s["smtp_ports"] == f"{hm.smtp_port}, {hm.smtp_port2} (STARTTLS)"
    assert s["pop3_ports"] == "none"


def test_hostname_patterns_from_config(tmp_path):
    hm = Hostmail(tmp_path, extra="""
[hostnames]
legacy_pattern = smtp{server}.provider.test
pattern = {user}.smtp.provider.test
legacy_cutover = 2020-01-01
""")
    hm.ctl("account", "add", "before", "--created", "2019-12-31", "--server-number", "42")
    hm.ctl("account", "add", "onday", "--created", "2020-01-01", "--server-number", "42")
    assert kv(hm.ctl("account", "show", "before").stdout)["smtp_host"] == "smtp042.provider.test"
    assert kv(hm.ctl("account", "show", "onday").stdout)["smtp_host"] == "onday.smtp.provider.test"


# ---- queue ----

def test_queue_list_empty(hm):
    r = hm.ctl("queue", "list")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    os.makedirs(os.path.join(hm.data_dir, "queue"), exist_ok=True)
    r = hm.ctl("queue", "list")
    assert r.returncode == 0 and r.stdout == ""


# ---- the database itself ----

@sqlite_only()
def test_database_is_wal_with_schema_version(acme):
    con = sqlite3.connect(os.path.join(acme.data_dir, "hostmail.db"))
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == 8
        assert [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version")] == [1, 2, 3, 4, 5, 6, 7, 8]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"accounts", "domains", "mailboxes", "relay_auth", "rate_budget", "acc_sessions",
                "dkim_keys", "domain_spam"} <= tables
    finally:
        con.close()
    mode = os.stat(os.path.join(acme.data_dir, "hostmail.db")).st_mode & 0o777
    assert mode & 0o077 == 0  # password hashes and DKIM private keys: the owner's only


def test_account_limits(hm):
    hm.ctl("account", "add", "acme")
    hm.ctl("account", "limits", "acme", "--per-hour", "5", "--max-recipients", "3")
    show = kv(hm.ctl("account", "show", "acme").stdout)
    assert show["recipients_per_hour"] == "5"
    assert show["recipients_per_day"] == "2000 (default)"
    assert show["max_recipients"] == "3"
    hm.ctl("account", "limits", "acme", "--per-hour", "default")
    assert kv(hm.ctl("account", "show", "acme").stdout)["recipients_per_hour"] == "500 (default)"
    assert hm.ctl("account", "limits", "acme", "--per-day", "many", check=False).returncode == 2
    assert hm.ctl("account", "limits", "acme", "--max-recipients", "0", check=False).returncode == 1
    r = hm.ctl("account", "limits", "nobody", "--per-day", "1", check=False)
    assert r.returncode == 1 and "nobody" in r.stderr
