"""The admin API ([listen] admin): a real hostmaild over HTTPS, driven with
curl the way a control panel would, every answer checked against the
OpenAPI document the daemon serves (python3-jsonschema), and against what
hostmailctl says about the same data: the same validation, the same words."""
import json
import os
import re
import smtplib
import ssl
import subprocess

import pytest
from jsonschema import Draft202012Validator, RefResolver

from conftest import STORE, Hostmail, free_port, setup_demo

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"


class Admin:
    """A daemon with the admin API on, and a curl-based client for it."""

    def __init__(self, tmp_path, extra=""):
        self.port = free_port()
        self.h = Hostmail(tmp_path, extra=f"[listen]\nadmin = 127.0.0.1:{self.port}\n" + extra)
        setup_demo(self.h)
        self.token = self.h.ctl("token", "add", "panel").stdout.strip()
        self.ro = self.h.ctl("token", "add", "watcher", "--read-only").stdout.strip()
        self.h.start()
        status, self.doc = self.call("GET", "/api/openapi.json", token="")
        assert status == 200 and self.doc["openapi"].startswith("3.")

    def call(self, method, path, body=None, token=None, raw=None, headers=()):
        """(status, parsed JSON) of one request, made with curl."""
        token = self.token if token is None else token
        cmd = ["curl", "-sS", "--cacert", self.h.pki["ca"], "--max-time", "30", "-X", method,
               "-w", "\n%{http_code}", "--resolve", f"mx.test.example:{self.port}:127.0.0.1",
               f"https://mx.test.example:{self.port}{path}"]
        if token:
            cmd += ["-H", f"Authorization: Bearer {token}"]
        for hd in headers:
            cmd += ["-H", hd]
        if body is not None or raw is not None:
            cmd += ["-H", "Content-Type: application/json",
                    "--data-binary", raw if raw is not None else json.dumps(body)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        text, _, code = r.stdout.rpartition("\n")
        return int(code), json.loads(text) if text else None

    def check(self, method, template, status, data):
        """data is what the document promises for this operation and status."""
        op = self.doc["paths"][template][method.lower()]
        assert str(status) in op["responses"], (method, template, status, data)
        resp = op["responses"][str(status)]
        if "$ref" in resp:
            resp = self.doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
        schema = resp["content"]["application/json"]["schema"]
        Draft202012Validator(schema, resolver=RefResolver.from_schema(self.doc)).validate(data)

    def do(self, method, path, template, want, body=None, **kw):
        """call, then check the status and the answer's shape."""
        status, data = self.call(method, path, body, **kw)
        assert status == want, (method, path, status, data)
        self.check(method, template, status, data)
        return data


@pytest.fixture
def api(tmp_path):
    a = Admin(tmp_path)
    yield a
    a.h.stop()


def ctl_error(h, *args, input=None):
    r = h.ctl(*args, input=input, check=False)
    assert r.returncode == 1, (args, r.stdout, r.stderr)
    return r.stderr.strip().removeprefix("hostmailctl: ")


def test_tokens_unauthenticated_wrong_and_read_only(api):
    h = api.h
    status, data = api.call("GET", "/api/accounts", token="")
    assert status == 401
    api.check("GET", "/api/accounts", 401, data)
    assert api.call("GET", "/api/accounts", token="stranger." + "0" * 64)[0] == 401
    forged = api.token[:-1] + ("0" if api.token[-1] != "0" else "1")
    assert api.call("GET", "/api/accounts", token=forged)[0] == 401
    h.wait_log(r"admin authentication failed: ip=127\.0\.0\.1 user=unknown")
    h.wait_log(r"admin authentication failed: ip=127\.0\.0\.1 user=panel")
    # a client's text never reaches the log as a name
    assert api.call("GET", "/api/accounts", token="evil ip=6.6.6.6." + "0" * 64)[0] == 401
    h.wait_log(r"admin authentication failed: ip=127\.0\.0\.1 user=unknown", count=2)
    assert "6.6.6.6" not in h.logtext()
    # the provider's fail2ban (contrib/fail2ban) counts each of them
    from test_logging import fail2ban_ips
    assert fail2ban_ips(h.log_path) == ["127.0.0.1"] * 3

    # read-only: every listing, no change
    rows = api.do("GET", "/api/accounts", "/api/accounts", 200, token=api.ro)
    assert [a["name"] for a in rows] == ["acme"]
    data = api.do("POST", "/api/accounts", "/api/accounts", 403, {"name": "x"}, token=api.ro)
    assert "read-only" in data["error"]
    assert "x" not in h.ctl("account", "list").stdout.split()

    # stored hashed, listed without secrets; a removed token stops at once
    with open(os.path.join(h.data_dir, "admin_tokens")) as f:
        stored = f.read()
    assert api.token.split(".")[1] not in stored and "panel rw " in stored
    assert h.ctl("token", "list").stdout == "panel rw\nwatcher ro\n"
    h.ctl("token", "remove", "watcher")
    assert api.call("GET", "/api/accounts", token=api.ro)[0] == 401
    assert ctl_error(h, "token", "remove", "watcher") == "token watcher does not exist"
    assert ctl_error(h, "token", "add", "panel") == "token panel already exists"


def test_accounts_domains_mailboxes_mirror_hostmailctl(api):
    h = api.h
    a = api.do("POST", "/api/accounts", "/api/accounts", 201, {"name": "shop", "server_number": 12})
    assert a == {"name": "shop", "status": "active", "created": a["created"], "server_number": 12}
    assert "shop active" in h.ctl("account", "list").stdout
    h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="account add shop"')

    # refusals: the status, the field at fault, and hostmailctl's own words
    e = api.do("POST", "/api/accounts", "/api/accounts", 409, {"name": "shop"})
    assert e["error"] == ctl_error(h, "account", "add", "shop")
    e = api.do("POST", "/api/accounts", "/api/accounts", 400, {"name": "Bad Name"})
    assert e["field"] == "name" and e["error"] == ctl_error(h, "account", "add", "Bad Name")
    e = api.do("POST", "/api/accounts", "/api/accounts", 400, {"name": "x", "created": "2026-02-30"})
    assert e["field"] == "created"
    assert api.do("POST", "/api/accounts", "/api/accounts", 400, {})["field"] == "name"
    assert api.do("POST", "/api/accounts", "/api/accounts", 400, {"name": 5})["field"] == "name"
    assert api.do("POST", "/api/accounts", "/api/accounts", 400, {"name": "y", "colour": 1})["field"] == "colour"
    assert "field" not in api.do("POST", "/api/accounts", "/api/accounts", 400, raw="{not json")

    d = api.do("POST", "/api/domains", "/api/domains", 201, {"account": "shop", "domain": "shop.test", "dkim": False})
    assert d == {"domain": "shop.test", "account": "shop", "spam": "default"}
    assert "shop.test shop" in h.ctl("domain", "list").stdout
    e = api.do("POST", "/api/domains", "/api/domains", 409, {"account": "shop", "domain": "acme.test"})
    assert e["error"] == ctl_error(h, "domain", "add", "shop", "acme.test", "--no-dkim")
    assert api.do("POST", "/api/domains", "/api/domains", 400, {"account": "ghost", "domain": "g.test"})["field"] == "account"
    assert api.do("GET", "/api/domains?account=shop", "/api/domains", 200) == [d]

    e = api.do("POST", "/api/mailboxes", "/api/mailboxes", 400, {"address": "bo@shop.test", "password": "short"})
    assert e["field"] == "password"
    assert e["error"] == ctl_error(h, "mailbox", "add", "bo@shop.test", input="short\n")
    api.do("POST", "/api/mailboxes", "/api/mailboxes", 201, {"address": "bo@shop.test", "password": "short", "force": True})
    m = api.do("POST", "/api/mailboxes", "/api/mailboxes", 201, {"address": "Info@shop.test", "password": "long-enough-pw"})
    assert m == {"address": "info@shop.test", "domain": "shop.test", "account": "shop",
                 "quota": {"bytes": 0, "messages": 0, "account_default": True, "local": True, "used_bytes": 0,
                           "used_messages": 0, "percent": 0}, "vacation": False}
    assert os.path.isdir(os.path.join(h.data_dir, "mail", "shop.test", "info", "new"))
    e = api.do("POST", "/api/mailboxes", "/api/mailboxes", 409, {"address": "info@shop.test", "password": "long-enough-pw"})
    assert e["error"] == ctl_error(h, "mailbox", "add", "info@shop.test", input="long-enough-pw\n")
    assert h.ctl("mailbox", "list", "shop.test").stdout == "bo@shop.test\ninfo@shop.test\n"
    assert api.do("GET", "/api/mailboxes/info%40shop.test", "/api/mailboxes/{address}", 200) == m
    api.do("PUT", "/api/mailboxes/info%40shop.test/password", "/api/mailboxes/{address}/password", 200,
           {"password": "another-long-pw"})
    api.do("GET", "/api/mailboxes/nobody%40shop.test", "/api/mailboxes/{address}", 404)

    # limits, suspension: what hostmailctl then shows
    s = api.do("PUT", "/api/accounts/shop/limits", "/api/accounts/{name}/limits", 200,
               {"max_recipients": 5, "recipients_per_day": "default"})
    assert s["limits"]["max_recipients"] == {"value": 5, "default": False}
    assert "max_recipients: 5\n" in h.ctl("account", "show", "shop").stdout
    e = api.do("PUT", "/api/accounts/shop/limits", "/api/accounts/{name}/limits", 400, {"max_recipients": 0})
    assert e["field"] == "max_recipients" and e["error"] == ctl_error(h, "account", "limits", "shop", "--max-recipients", "0")
    s = api.do("POST", "/api/accounts/shop/suspend", "/api/accounts/{name}/suspend", 200)
    assert s["status"] == "suspended" and "status: suspended" in h.ctl("account", "show", "shop").stdout
    api.do("POST", "/api/accounts/shop/resume", "/api/accounts/{name}/resume", 200)
    api.do("PUT", "/api/accounts/shop/password", "/api/accounts/{name}/password", 200, {"password": "acc-login-pw"})
    assert api.do("POST", "/api/accounts/shop/logout", "/api/accounts/{name}/logout", 200) == {"sessions_ended": 0}
    shown = api.do("GET", "/api/accounts/shop", "/api/accounts/{name}", 200)
    assert shown["domains"] == ["shop.test"] and shown["mailboxes"] == 2

    api.do("DELETE", "/api/mailboxes/bo%40shop.test", "/api/mailboxes/{address}", 200)
    api.do("DELETE", "/api/domains/shop.test", "/api/domains/{domain}", 200)
    api.do("DELETE", "/api/accounts/shop", "/api/accounts/{name}", 200)
    e = api.do("GET", "/api/accounts/shop", "/api/accounts/{name}", 404)
    assert e["error"] == ctl_error(h, "account", "show", "shop")
    for what in ("account remove shop", "mailbox remove bo@shop.test", "account suspend shop",
                 "account limits shop"):
        h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="' + re.escape(what) + '"')
    # no path outside the table, no method it does not list
    assert api.call("GET", "/api/nothing")[0] == 404
    assert api.call("DELETE", "/api/accounts")[0] == 405
    assert api.call("GET", "/api/accounts/a%2Fb")[0] == 400


def test_queue_and_relay_grants(api):
    h = api.h
    c = ssl.create_default_context(cafile=h.pki["ca"])
    s = smtplib.SMTP("127.0.0.1", h.submission_port, local_hostname="client.test", timeout=15)
    s.starttls(context=c)
    s.login(ALICE, ALICE_PW)
    s.sendmail(ALICE, ["far@remote.example"], f"From: <{ALICE}>\r\nSubject: q\r\n\r\nhi\r\n".encode())
    s.quit()
    msgs = api.do("GET", "/api/queue", "/api/queue", 200)
    assert len(msgs) == 1 and msgs[0]["sender"] == ALICE and msgs[0]["account"] == "acme"
    assert msgs[0]["recipients"][0]["address"] == "far@remote.example"
    qid = msgs[0]["id"]
    assert json.loads(h.ctl("queue", "list", "--json").stdout) == msgs
    assert api.do("GET", f"/api/queue/{qid}", "/api/queue/{id}", 200) == msgs[0]
    api.do("POST", "/api/queue/flush", "/api/queue/flush", 200)
    api.do("POST", f"/api/queue/{qid}/flush", "/api/queue/{id}/flush", 200)
    api.do("DELETE", f"/api/queue/{qid}", "/api/queue/{id}", 200)
    assert api.do("GET", "/api/queue", "/api/queue", 200) == []
    e = api.do("DELETE", f"/api/queue/{qid}", "/api/queue/{id}", 404)
    assert e["error"] == ctl_error(h, "queue", "delete", qid) == "no such message"
    h.wait_log(rf'admin: token=panel ip=127\.0\.0\.1 change="queue delete {qid}"')

    # a POP3 login's grant, listed and revoked
    import poplib
    p = poplib.POP3("127.0.0.1", h.pop3_port, timeout=15)
    p.stls(context=c)
    p.user(ALICE)
    p.pass_(ALICE_PW)
    p.quit()
    grants = api.do("GET", "/api/relay", "/api/relay", 200)
    assert [(g["ip"], g["mailbox"]) for g in grants] == [("127.0.0.1", ALICE)]
    assert json.loads(h.ctl("relay", "list", "--json").stdout) == grants
    e = api.do("DELETE", "/api/relay/not-an-ip", "/api/relay/{ip}", 400)
    assert e["field"] == "ip" and e["error"] == ctl_error(h, "relay", "revoke", "not-an-ip")
    api.do("DELETE", "/api/relay/127.0.0.1", "/api/relay/{ip}", 200)
    assert api.do("GET", "/api/relay", "/api/relay", 200) == []
    e = api.do("DELETE", "/api/relay/127.0.0.1", "/api/relay/{ip}", 404)
    assert e["error"] == ctl_error(h, "relay", "revoke", "127.0.0.1")


def ctl_keys(h, domain):
    """hostmailctl domain dkim's selector lines as (selector, algorithm, state, day)."""
    out = h.ctl("domain", "dkim", domain).stdout
    return [tuple(l.split()[1:4]) + (l.split()[5],) for l in out.splitlines() if l.startswith("selector: ")]


def api_keys(k):
    return [(s["selector"], s["algorithm"], s["state"], s["created"][:10]) for s in k["selectors"]]


def test_dkim_and_dns_mirror_hostmailctl(api):
    h = api.h
    D, T = "/api/domains/acme.test/dkim", "/api/domains/{domain}/dkim"
    answers = []

    def do(*a, **kw):
        answers.append(api.do(*a, **kw))
        return answers[-1]

    # a GET makes no keys (hostmailctl's bare verb would): a read-only token may send it
    assert do("GET", D, T, 200, token=api.ro) == {"domain": "acme.test", "selectors": []}
    e = do("POST", D + "/rotate", T + "/rotate", 403, token=api.ro)
    assert "read-only" in e["error"]
    do("POST", D + "/activate", T + "/activate", 403, {"selector": "hm1"}, token=api.ro)
    assert do("GET", D, T, 200)["selectors"] == []

    # the first rotation makes the active generation, the next one a pending one
    k = do("POST", D + "/rotate", T + "/rotate", 200)
    assert [(s["selector"], s["state"], s["generation"]) for s in k["selectors"]] == [
        ("hm1-rsa", "active", 1), ("hm1-ed25519", "active", 1)]
    assert api_keys(k) == ctl_keys(h, "acme.test")
    k = do("POST", D + "/rotate", T + "/rotate", 200)
    assert [(s["selector"], s["state"]) for s in k["selectors"]][2:] == [("hm2-rsa", "pending"), ("hm2-ed25519", "pending")]
    assert api_keys(k) == ctl_keys(h, "acme.test") == api_keys(do("GET", D, T, 200))
    e = do("POST", D + "/rotate", T + "/rotate", 409)
    assert e["error"] == ctl_error(h, "domain", "dkim", "acme.test", "--rotate")
    assert "hm2 is pending already" in e["error"]

    # activation: the selector checked as hostmailctl checks it
    e = do("POST", D + "/activate", T + "/activate", 400, {"selector": "k1"})
    assert e["field"] == "selector"
    assert e["error"] == ctl_error(h, "domain", "dkim", "acme.test", "--activate", "k1")
    assert do("POST", D + "/activate", T + "/activate", 400, {})["field"] == "selector"
    assert do("POST", D + "/activate", T + "/activate", 400, {"selector": 2})["field"] == "selector"
    assert do("POST", D + "/activate", T + "/activate", 400, {"selector": "hm2", "now": True})["field"] == "now"
    e = do("POST", D + "/activate", T + "/activate", 404, {"selector": "hm1"})
    assert e["error"] == ctl_error(h, "domain", "dkim", "acme.test", "--activate", "hm1")
    k = do("POST", D + "/activate", T + "/activate", 200, {"selector": "hm2-rsa"})
    assert [s["state"] for s in k["selectors"]] == ["retired", "retired", "active", "active"]
    assert api_keys(k) == ctl_keys(h, "acme.test")
    for what in ("domain dkim acme.test --rotate", "domain dkim acme.test --activate hm2-rsa"):
        h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="' + re.escape(what) + '"')

    # the records: hostmailctl's zone text, and the same records structured
    dns = do("GET", "/api/domains/acme.test/dns", "/api/domains/{domain}/dns", 200, token=api.ro)
    assert dns["zone"] == h.ctl("domain", "dns", "acme.test").stdout
    assert "_submission._tcp.acme.test. 3600 IN SRV" in dns["zone"]
    for r in dns["records"]:
        assert f'; {r["what"]}' in dns["zone"]
        if r["type"] == "MX":
            assert f'{r["name"]}. 3600 IN MX {r["value"]}.\n' in dns["zone"]
        else:
            assert f'{r["name"]}. 3600 IN TXT "' in dns["zone"]
    dkim = {r["name"]: r["value"] for r in dns["records"] if r["what"].startswith("DKIM")}
    assert sorted(dkim) == ["hm2-ed25519._domainkey.acme.test", "hm2-rsa._domainkey.acme.test"]
    for s in k["selectors"][2:]:
        assert dkim[f'{s["selector"]}._domainkey.acme.test'].endswith("p=" + s["public_key"])
    assert {r["what"] for r in dns["records"]} >= {"SPF", "DMARC", "MX"}

    # a domain not hosted: 404 everywhere, in hostmailctl's words
    for method, path, template, body in (("GET", "/dkim", T, None), ("POST", "/dkim/rotate", T + "/rotate", None),
                                         ("POST", "/dkim/activate", T + "/activate", {"selector": "hm1"}),
                                         ("GET", "/dns", "/api/domains/{domain}/dns", None)):
        e = do(method, "/api/domains/ghost.test" + path, template, 404, body)
        assert e["error"] == "domain ghost.test is not hosted"
    assert ctl_error(h, "domain", "dns", "ghost.test") == "domain ghost.test is not hosted"
    assert ctl_error(h, "domain", "dkim", "ghost.test") == "domain ghost.test is not hosted"

    # the private keys exist (hostmaild signs with them), and never left the node
    text = json.dumps(answers)
    assert "PRIVATE" not in text and "BEGIN" not in text and "private" not in text
    if STORE == "sqlite":
        import sqlite3
        db = sqlite3.connect(os.path.join(h.data_dir, "hostmail.db"))
        keys = [row[0] for row in db.execute("SELECT private_key FROM dkim_keys")]
        db.close()
        assert len(keys) == 4 and all("PRIVATE KEY" in p for p in keys)
        for p in keys:
            body = "".join(p.splitlines()[1:-1])
            assert body[:40] not in text


def test_off_unless_configured_and_tls_only(api, tmp_path):
    """No [listen] admin: no listener; the API's port speaks only TLS."""
    (tmp_path / "plain").mkdir()
    hm = Hostmail(tmp_path / "plain").start()
    assert "admin API" not in hm.logtext()
    r = subprocess.run(["curl", "-sS", "--max-time", "10", f"http://127.0.0.1:{api.port}/api/accounts"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 or not r.stdout.startswith("{")
    # the ACC, on the same parser, still answers the API's methods 501
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", hm.pki["ca"],
                        "-X", "DELETE", "--resolve", f"mx.test.example:{hm.acc_port}:127.0.0.1",
                        f"https://mx.test.example:{hm.acc_port}/api/accounts/acme"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "501", r.stdout + r.stderr
    hm.stop()


def test_refuses_to_start_without_a_certificate(tmp_path):
    h = Hostmail(tmp_path, extra=f"[listen]\nadmin = 127.0.0.1:{free_port()}\n")
    with open(h.config) as f:
        text = f.read()
    with open(h.config, "w") as f:
        # a certificate that does not load, and no other listener needing one to refuse first
        text = re.sub(r"^(submissions|pop3s|acc|sni_dir) = .*$", "", text, flags=re.M)
        f.write(re.sub(r"^(certificate|key) = .*$", r"\1 = /nonexistent/hostmail-test", text, flags=re.M))
    from conftest import HOSTMAILD
    r = subprocess.run([HOSTMAILD, "-c", h.config], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "[listen] admin needs [tls] certificate and key" in r.stdout + r.stderr
