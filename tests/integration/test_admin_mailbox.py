"""A mailbox's quota and autoresponder through the admin API
(docs/admin-api.md, docs/quotas.md, docs/vacation.md): a real hostmaild
driven with curl, every answer checked against the served OpenAPI
document, and each value set one way read back the other: what the API
sets is what `hostmailctl mailbox show` prints, what hostmailctl sets is
what the API answers, and a refusal has hostmailctl's words."""
import smtplib

import pytest

from conftest import message_files, wait_for
from test_admin_api import ALICE, Admin, ctl_error

BOB = "bob@acme.test"
MB = "/api/mailboxes/{address}"
QUOTA = "/api/mailboxes/{address}/quota"
VAC = "/api/mailboxes/{address}/vacation"
LIMITS = "/api/accounts/{name}/limits"
G = 1 << 30


def path(template, address):
    return template.replace("{address}", address.replace("@", "%40"))


def shown(h, *args):
    """hostmailctl's key: value lines as a dict."""
    out = h.ctl(*args).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


@pytest.fixture
def api(tmp_path):
    a = Admin(tmp_path)
    yield a
    a.h.stop()


def test_quota_set_by_api_is_what_hostmailctl_shows_and_back(api):
    h = api.h
    q = api.do("GET", path(MB, ALICE), MB, 200)["quota"]
    assert q == {"bytes": 0, "messages": 0, "account_default": True, "local": True,
                 "used_bytes": 0, "used_messages": 0, "percent": 0}

    m = api.do("PUT", path(QUOTA, ALICE), QUOTA, 200, {"bytes": 2 * G, "messages": 500})
    assert m["quota"]["bytes"] == 2 * G and m["quota"]["messages"] == 500
    assert m["quota"]["account_default"] is False
    s = shown(h, "mailbox", "show", ALICE)
    assert s["quota_bytes"] == str(2 * G) and s["quota_messages"] == "500"
    h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="mailbox quota alice@acme\.test 2147483648')
    # hostmailctl's sizes; an absent member stays as it is
    m = api.do("PUT", path(QUOTA, ALICE), QUOTA, 200, {"bytes": "500M"})
    assert (m["quota"]["bytes"], m["quota"]["messages"]) == (500 << 20, 500)

    # the reverse: hostmailctl sets, the API reads
    h.ctl("mailbox", "quota", ALICE, "1G", "--messages", "default")
    q = api.do("GET", path(MB, ALICE), MB, 200)["quota"]
    assert (q["bytes"], q["messages"]) == (G, 0)

    # the account's default for its mailboxes, both ways
    a = api.do("PUT", "/api/accounts/acme/limits", LIMITS, 200,
               {"mailbox_quota_bytes": "2G", "mailbox_quota_messages": 1000})
    assert a["limits"]["mailbox_quota_bytes"] == 2 * G and a["limits"]["mailbox_quota_messages"] == 1000
    acct = shown(h, "account", "show", "acme")
    assert acct["mailbox_quota_bytes"] == str(2 * G) and acct["mailbox_quota_messages"] == "1000"
    # null: back to the account's default
    q = api.do("PUT", path(QUOTA, ALICE), QUOTA, 200, {"bytes": None, "messages": None})["quota"]
    assert (q["bytes"], q["messages"], q["account_default"]) == (2 * G, 1000, True)
    s = shown(h, "mailbox", "show", ALICE)
    assert s["quota_bytes"] == f"{2 * G} (account default)" and s["quota_messages"] == "1000 (account default)"
    assert api.do("GET", path(MB, BOB), MB, 200)["quota"]["bytes"] == 2 * G
    h.ctl("account", "limits", "acme", "--mailbox-quota", "0")
    assert api.do("GET", "/api/accounts/acme", "/api/accounts/{name}", 200)["limits"]["mailbox_quota_bytes"] == 0
    assert api.do("GET", path(MB, ALICE), MB, 200)["quota"]["bytes"] == 0
    # a recipient limit and the mailbox default in one request
    a = api.do("PUT", "/api/accounts/acme/limits", LIMITS, 200, {"max_recipients": 20, "mailbox_quota_bytes": 4096})
    assert a["limits"]["max_recipients"] == {"value": 20, "default": False}
    assert a["limits"]["mailbox_quota_bytes"] == 4096


def test_quota_usage_comes_from_the_maildir(api):
    h = api.h
    api.do("PUT", path(QUOTA, ALICE), QUOTA, 200, {"bytes": 1 << 20})
    with smtplib.SMTP("127.0.0.1", h.smtp_port, local_hostname="client.test", timeout=15) as s:
        s.sendmail("someone@remote.test", [ALICE], b"Subject: hello\r\n\r\n" + b"x" * 10000 + b"\r\n")
    wait_for(lambda: message_files(h, ALICE), 20, "the delivery")
    # the message is linked before maildirsize counts it (as Dovecot does): wait for the count
    wait_for(lambda: api.call("GET", path(MB, ALICE))[1]["quota"]["used_messages"] == 1, 20, "the usage")
    q = api.do("GET", path(MB, ALICE), MB, 200)["quota"]
    assert 10000 < q["used_bytes"] < 20000 and q["percent"] == q["used_bytes"] * 100 // (1 << 20)
    s = shown(h, "mailbox", "show", ALICE)
    assert s["quota_used_bytes"] == str(q["used_bytes"]) and s["quota_used_messages"] == "1"


def test_quota_refusals(api):
    h = api.h
    for body, field in (({}, "bytes"), ({"bytes": -5}, "bytes"), ({"bytes": "lots"}, "bytes"),
                        ({"bytes": True}, "bytes"), ({"bytes": 1, "messages": "x"}, "messages"),
                        ({"bytes": 1, "colour": 1}, "colour")):
        e = api.do("PUT", path(QUOTA, ALICE), QUOTA, 400, body)
        assert e["field"] == field, (body, e)
    assert shown(h, "mailbox", "show", ALICE)["quota_bytes"] == "none (account default)"
    e = api.do("PUT", path(QUOTA, "nobody@acme.test"), QUOTA, 404, {"bytes": 1})
    assert e["error"] == ctl_error(h, "mailbox", "show", "nobody@acme.test")
    e = api.do("PUT", "/api/accounts/acme/limits", LIMITS, 400, {"mailbox_quota_bytes": "big", "max_recipients": 5})
    assert e["field"] == "mailbox_quota_bytes"
    assert shown(h, "account", "show", "acme")["max_recipients"] != "5"     # nothing changed
    e = api.do("PUT", "/api/accounts/nobody/limits", LIMITS, 404, {"mailbox_quota_bytes": 1})
    assert e["error"] == ctl_error(h, "account", "limits", "nobody", "--mailbox-quota", "1")
    e = api.do("PUT", path(QUOTA, ALICE), QUOTA, 403, {"bytes": 1}, token=api.ro)
    assert "read-only" in e["error"]


def test_vacation_set_by_api_is_what_hostmailctl_shows_and_back(api):
    h = api.h
    v = api.do("GET", path(VAC, ALICE), VAC, 200, token=api.ro)
    assert v == {"address": ALICE, "enabled": False, "subject": "", "text": "", "start": None, "end": None}

    v = api.do("PUT", path(VAC, ALICE), VAC, 200, {"enabled": True, "subject": "Away", "text": "Back on Monday.\n",
                                                   "start": "2026-12-20", "end": "2027-01-03"})
    assert v["enabled"] is True and v["start"] == "2026-12-20" and v["end"] == "2027-01-03"
    assert h.ctl("mailbox", "vacation", ALICE, "show").stdout == (
        "vacation: on\nsubject: Away\nstart: 2026-12-20\nend: 2027-01-03\ntext:\nBack on Monday.\n")
    assert shown(h, "mailbox", "show", ALICE)["vacation"] == "on"
    assert api.do("GET", path(MB, ALICE), MB, 200)["vacation"] is True
    h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="mailbox vacation alice@acme\.test on"')

    # the reverse; options name what changes, the rest stays
    h.ctl("mailbox", "vacation", ALICE, "on", "--subject", "Out of office", "--end", "-")
    v = api.do("GET", path(VAC, ALICE), VAC, 200)
    assert (v["subject"], v["text"], v["start"], v["end"]) == ("Out of office", "Back on Monday.\n", "2026-12-20", None)
    v = api.do("PUT", path(VAC, ALICE), VAC, 200, {"enabled": True, "start": None})
    assert v["start"] is None and v["subject"] == "Out of office"

    # DELETE: off, the text kept for next time (hostmailctl ... off)
    v = api.do("DELETE", path(VAC, ALICE), VAC, 200)
    assert v["enabled"] is False and v["text"] == "Back on Monday.\n"
    assert h.ctl("mailbox", "vacation", ALICE, "show").stdout.startswith("vacation: off\n")
    assert shown(h, "mailbox", "show", ALICE)["vacation"] == "off"


def test_vacation_refusals_have_hostmailctl_words(api):
    h = api.h
    # bob has never had one: turning it on needs a text
    e = api.do("PUT", path(VAC, BOB), VAC, 400, {"enabled": True})
    assert e["field"] == "text" and e["error"] == ctl_error(h, "mailbox", "vacation", BOB, "on")
    api.do("PUT", path(VAC, ALICE), VAC, 200, {"enabled": True, "text": "Away.", "start": "2026-12-20"})
    e = api.do("PUT", path(VAC, ALICE), VAC, 400, {"enabled": True, "end": "2026-13-01"})
    assert e["field"] == "end"
    assert e["error"] == ctl_error(h, "mailbox", "vacation", ALICE, "on", "--end", "2026-13-01")
    e = api.do("PUT", path(VAC, ALICE), VAC, 400, {"enabled": True, "end": "2026-12-01"})
    assert e["field"] == "end" and "before the start date" in e["error"]
    assert e["error"] == ctl_error(h, "mailbox", "vacation", ALICE, "on", "--end", "2026-12-01")
    e = api.do("PUT", path(VAC, ALICE), VAC, 400, {"enabled": True, "subject": "x" * 300})
    assert e["field"] == "subject"
    assert e["error"] == ctl_error(h, "mailbox", "vacation", ALICE, "on", "--subject", "x" * 300)
    e = api.do("PUT", path(VAC, ALICE), VAC, 400, {"enabled": True, "subject": "two\nlines"})
    assert e["error"] == ctl_error(h, "mailbox", "vacation", ALICE, "on", "--subject", "two\nlines")
    for body, field in (({"text": "x"}, "enabled"), ({"enabled": "yes"}, "enabled"),
                        ({"enabled": True, "text": 5}, "text"), ({"enabled": True, "when": 1}, "when")):
        assert api.do("PUT", path(VAC, ALICE), VAC, 400, body)["field"] == field, body
    # nothing of that was stored
    assert h.ctl("mailbox", "vacation", ALICE, "show").stdout == (
        "vacation: on\nsubject: \nstart: 2026-12-20\nend: -\ntext:\nAway.\n")
    e = api.do("GET", path(VAC, "nobody@acme.test"), VAC, 404)
    assert e["error"] == ctl_error(h, "mailbox", "vacation", "nobody@acme.test", "show")
    api.do("DELETE", path(VAC, "nobody@acme.test"), VAC, 404)
    assert "read-only" in api.do("DELETE", path(VAC, ALICE), VAC, 403, token=api.ro)["error"]
