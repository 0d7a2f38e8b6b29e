"""The ACC's DNS pages (issue 17): a customer sees, per domain of their
account, the records to publish (the same as `hostmailctl domain dns`),
and a check that looks them up in DNS (a real dnsmasq on a loopback port,
serving what the customer "published": some right, one wrong, one
missing) and says which is which."""
import html
import os
import re

import pytest

from acc_client import AccClient
from conftest import Hostmail, setup_demo
from test_outbound import DNS, DNSMASQ

pytestmark = pytest.mark.skipif(not os.path.exists(DNSMASQ), reason="dnsmasq not installed")
ACME_PW = "acme-acc-secret"


def zone(h, domain):
    """{(owner name, type): [strings]} from hostmailctl domain dns."""
    out = {}
    for line in h.ctl("domain", "dns", domain).stdout.splitlines():
        m = re.match(r"^(\S+)\. 3600 IN (TXT|MX) (.*)$", line)
        if m:
            vals = re.findall(r'"([^"]*)"', m.group(3)) if m.group(2) == "TXT" else [m.group(3)]
            out[(m.group(1), m.group(2))] = vals
    return out


@pytest.fixture
def world(tmp_path):
    dns = DNS(tmp_path)                     # its port now; records once the keys exist
    (tmp_path / "h").mkdir()
    h = Hostmail(tmp_path / "h", extra=f"\n[delivery]\ndns_servers = 127.0.0.1:{dns.port}\n")
    setup_demo(h)
    h.ctl("account", "add", "other")
    h.ctl("domain", "add", "other", "other.test")
    h.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    h.ctl("domain", "dkim", "acme.test")    # setup_demo adds it --no-dkim
    z = zone(h, "acme.test")
    rsa = next(v for (n, t), v in z.items() if n.endswith("-rsa._domainkey.acme.test"))
    ed = next(n for (n, t) in z if n.endswith("-ed25519._domainkey.acme.test"))
    rsa_name = next(n for (n, t) in z if n.endswith("-rsa._domainkey.acme.test"))
    assert len(rsa) == 2                   # published as the two strings it was given
    # (no shell: dnsmasq gets each string as it is, one per comma)
    dns.start("--mx-host=acme.test,mx.test.example,10",
              "--txt-record=" + ",".join([rsa_name] + rsa),
              f"--txt-record={ed},v=DKIM1; k=ed25519; p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
              "--txt-record=acme.test,v=spf1 mx a:mx.test.example -all")
    h.start()
    try:
        yield h, z
    finally:
        try:
            h.stop()
        finally:
            dns.stop()


def client(h):
    c = AccClient(h)
    r = c.login("acme", ACME_PW)
    assert r.status == 303, r
    return c


def test_dns_page_shows_the_records_to_publish(world):
    h, z = world
    r = client(h).get("/dns")
    assert r.status == 200, r
    text = html.unescape(r.text)
    assert h.ctl("domain", "dns", "acme.test").stdout in text      # exactly what the operator sees
    assert "other.test" not in text                                # another account's domain
    assert 'href="/dns/check?domain=acme.test"' in r.text
    assert 'href="/dns">DNS records</a>' in r.text                 # in the navigation


def test_check_says_which_records_are_there_missing_or_wrong(world):
    h, z = world
    r = client(h).get("/dns/check?domain=acme.test")
    assert r.status == 200, r
    rows = {html.unescape(what): result for result, what in
            re.findall(r'<tr class="(\w+)"><td>([^<]*)</td>', r.text)}
    rsa = next(w for w in rows if w.startswith("DKIM hm1-rsa"))
    ed = next(w for w in rows if w.startswith("DKIM hm1-ed25519"))
    assert rows == {"MX": "ok", rsa: "ok", ed: "wrong", "SPF": "ok", "DMARC": "missing"}, \
        r.text[r.text.find("<table"):]
    assert "holds another key" in r.text and "not found: publish the record above" in r.text


def test_check_of_another_accounts_domain_is_not_found(world):
    h, _ = world
    c = client(h)
    for d in ("other.test", "nowhere.test", "not a domain"):
        r = c.get("/dns/check?domain=" + d.replace(" ", "%20"))
        assert r.status == 404, (d, r)
    assert AccClient(h).get("/dns").status == 303          # no session: to the login page
