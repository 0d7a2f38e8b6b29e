"""The customer's choice, per domain, of what happens to mail the spam
filter marks as spam (issue 18): the ACC page over real HTTPS (one form per
domain, the CSRF token, the account's own domains only, nothing changed
while suspended), the same choice through hostmailctl (`domain spam`,
`domain show`, `domain list`) and the admin API, stored in the account
store (SQLite or PostgreSQL, whichever the suite runs on)."""
import html
import json
import re

import pytest

from acc_client import AccClient
from test_admin_api import Admin, ctl_error

ACME_PW = "acme-account-pw"


@pytest.fixture
def acc(server):
    """The demo server (acme, acme.test) with a second domain and an ACC password."""
    server.ctl("domain", "add", "acme", "shop.acme.test", "--no-dkim")
    server.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    return server


def logged_in(hm):
    c = AccClient(hm)
    r = c.login("acme", ACME_PW)
    assert r.status == 303 and r.header("Location") == "/overview", r
    return c


def shown(page):
    """{domain: the label of its choice now} from the Spam page."""
    return {html.unescape(d): html.unescape(v)
            for d, v in re.findall(r'<b class="spam-now" data-domain="([^"]*)">([^<]*)</b>', page.text)}


def selected(page, domain):
    form = re.search(r'<form method="post" action="/spam">.{0,400}?name="domain" value="'
                     + re.escape(domain) + r'".*?</form>', page.text, re.S)
    assert form, page.text
    return re.findall(r'<option value="(\w+)" selected>', form.group(0))


def choice(hm, domain):
    return hm.ctl("domain", "spam", domain).stdout.strip()


def test_customer_chooses_for_each_domain_and_the_operator_sees_it(acc):
    c = logged_in(acc)
    page = c.get("/spam")
    assert page.status == 200 and 'href="/spam"' in page.text
    assert shown(page) == {"acme.test": "The provider's choice", "shop.acme.test": "The provider's choice"}
    # the three choices explained in the customer's words
    for words in ("subject starts with a spam mark", "exactly as it was sent", "never reaches your mailbox"):
        assert words in html.unescape(page.text)
    assert selected(page, "acme.test") == ["default"]
    # the provider's choice now ([milter] spam_action, headers by default)
    assert '<span id="spam-provider">Deliver it unchanged</span>' in page.text

    r = c.post("/spam", {"csrf": page.csrf(), "domain": "acme.test", "spam": "refuse"})
    assert r.status == 303 and r.header("Location") == "/spam"
    page = c.get("/spam")
    assert "Suspected spam for acme.test: Refuse it." in html.unescape(page.text)
    assert shown(page) == {"acme.test": "Refuse it", "shop.acme.test": "The provider's choice"}
    assert selected(page, "acme.test") == ["refuse"]
    assert choice(acc, "acme.test") == "acme.test spam=refuse"
    assert choice(acc, "shop.acme.test") == "shop.acme.test spam=default"
    assert acc.ctl("domain", "show", "acme.test").stdout == "domain: acme.test\naccount: acme\nspam: refuse\n"
    assert acc.ctl("domain", "list").stdout.splitlines() == [
        "acme.test acme spam=refuse", "shop.acme.test acme spam=default"]
    acc.wait_log(r"acc: account=acme ip=127\.0\.0\.1 set the spam choice of domain acme\.test to refuse")

    # the operator changes it: the customer sees it
    assert acc.ctl("domain", "spam", "shop.acme.test", "subject").stdout == "shop.acme.test spam=subject\n"
    assert shown(c.get("/spam"))["shop.acme.test"] == "Deliver it, with the subject marked as spam"
    r = c.post("/spam", {"csrf": page.csrf(), "domain": "shop.acme.test", "spam": "headers"})
    assert r.status == 303
    assert choice(acc, "shop.acme.test") == "shop.acme.test spam=headers"
    # and back to the provider's choice
    c.post("/spam", {"csrf": page.csrf(), "domain": "acme.test", "spam": "default"})
    assert choice(acc, "acme.test") == "acme.test spam=default"


def test_bad_choice_wrong_token_other_accounts_domain_and_suspension_change_nothing(acc):
    acc.ctl("account", "add", "other")
    acc.ctl("domain", "add", "other", "other.test", "--no-dkim")
    c = logged_in(acc)
    token = c.csrf()
    assert "other.test" not in c.get("/spam").text

    r = c.post("/spam", {"csrf": token, "domain": "acme.test", "spam": "delete"})
    assert r.status == 303
    assert "Choose one of the offered choices. Nothing was changed." in html.unescape(c.get("/spam").text)
    r = c.post("/spam", {"domain": "acme.test", "spam": "refuse"})
    assert r.status == 403 and "did not come from this site" in r.text
    r = c.post("/spam", {"csrf": "0" * 64, "domain": "acme.test", "spam": "refuse"})
    assert r.status == 403
    assert choice(acc, "acme.test") == "acme.test spam=default"

    # another account's domain answers as one that does not exist
    r = c.post("/spam", {"csrf": token, "domain": "other.test", "spam": "refuse"})
    assert r.status == 404 and "no domain with that name" in r.text
    r = c.post("/spam", {"csrf": token, "domain": "nowhere.test", "spam": "refuse"})
    assert r.status == 404
    assert choice(acc, "other.test") == "other.test spam=default"
    acc.wait_log(r"refused to set the spam choice of domain other\.test \(not its own\)")

    acc.ctl("domain", "spam", "acme.test", "subject")
    acc.ctl("account", "suspend", "acme")
    c = logged_in(acc)
    page = c.get("/spam")
    assert page.status == 200 and 'action="/spam"' not in page.text
    assert shown(page)["acme.test"] == "Deliver it, with the subject marked as spam"
    r = c.post("/spam", {"csrf": c.csrf(), "domain": "acme.test", "spam": "refuse"})
    assert r.status == 403 and "suspended" in r.text
    assert choice(acc, "acme.test") == "acme.test spam=subject"


def test_hostmailctl_and_admin_api(tmp_path):
    api = Admin(tmp_path)
    try:
        h = api.h
        assert ctl_error(h, "domain", "spam", "acme.test", "delete") == \
            "delete is not a spam choice: subject, headers, refuse or default"
        assert ctl_error(h, "domain", "spam", "nowhere.test", "refuse") == "domain nowhere.test does not exist"
        assert ctl_error(h, "domain", "show", "nowhere.test") == "domain nowhere.test does not exist"
        assert api.do("GET", "/api/domains/acme.test/spam", "/api/domains/{domain}/spam", 200) == \
            {"domain": "acme.test", "spam": "default"}
        r = api.do("PUT", "/api/domains/acme.test/spam", "/api/domains/{domain}/spam", 200, {"spam": "refuse"})
        assert r == {"domain": "acme.test", "spam": "refuse"}
        assert choice(h, "acme.test") == "acme.test spam=refuse"
        h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="domain spam acme\.test refuse"')
        e = api.do("PUT", "/api/domains/acme.test/spam", "/api/domains/{domain}/spam", 400, {"spam": "later"})
        assert e["field"] == "spam"
        assert e["error"] == ctl_error(h, "domain", "spam", "acme.test", "later")
        api.do("PUT", "/api/domains/nowhere.test/spam", "/api/domains/{domain}/spam", 404, {"spam": "refuse"})
        api.do("GET", "/api/domains/nowhere.test/spam", "/api/domains/{domain}/spam", 404)
        status, _ = api.call("PUT", "/api/domains/acme.test/spam", {"spam": "headers"}, token=api.ro)
        assert status == 403
        doms = api.do("GET", "/api/domains", "/api/domains", 200)
        assert doms == [{"domain": "acme.test", "account": "acme", "spam": "refuse"}]
        assert json.loads(h.ctl("domain", "list", "--json").stdout) == doms
    finally:
        api.h.stop()
