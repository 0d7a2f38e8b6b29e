"""Mail programs that set themselves up: Mozilla autoconfig and Autodiscover
answers from the ACC listener (well-formed XML with the account's own host,
legacy and new scheme, the configured ports; the same answer whatever the
local part, none for other domains), msmtp and fetchmail configured only
from the autoconfig answer sending and fetching, the Apple profile read by
plistlib, the settings as JSON, [acc] public_ports and the provider's
identity, and plain HTTP on the ACC's port redirected to HTTPS.

The host names in the answers (acme.mail.example.net, mail007.example.net)
do not resolve here: the clients connect to 127.0.0.1 and check the
certificate against the name from the answer (msmtp tls_host_override,
fetchmail via), as they would after a DNS lookup."""
import http.client
import json
import os
import plistlib
import socket
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

from acc_client import AccClient

ACME_PW = "acme-account-pw"
AD_REQ = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"""
AD_NS = {"a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}


def with_legacy(hm):
    """acme (created today: acme.mail.example.net) from the demo fixture,
    plus oldco, created 2009 on server 7 (mail007.example.net)."""
    hm.ctl("account", "add", "oldco", "--created", "2009-03-01", "--server-number", "7")
    hm.ctl("domain", "add", "oldco", "old.example")
    hm.ctl("mailbox", "add", "info@old.example", input="info-secret-1\n")
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    return hm


def autoconfig(hm, address, path="/mail/config-v1.1.xml", host=None):
    q = "?" + urllib.parse.urlencode({"emailaddress": address}) if address is not None else ""
    headers = {"Host": host} if host else None
    return AccClient(hm).get(path + q, headers=headers)


def servers(xml_text):
    """[(direction, type, hostname, port, socketType, username)] in order."""
    root = ET.fromstring(xml_text)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    prov = root.find("emailProvider")
    out = []
    for el in prov:
        if el.tag in ("incomingServer", "outgoingServer"):
            out.append((el.tag, el.get("type"), el.findtext("hostname"), int(el.findtext("port")),
                        el.findtext("socketType"), el.findtext("username")))
            assert el.findtext("authentication") == "password-cleartext"
    return prov, out


def test_mozilla_autoconfig_for_the_new_and_the_legacy_scheme(server):
    hm = with_legacy(server)
    for address, host in (("alice@acme.test", "acme.mail.example.net"),
                          ("info@old.example", "mail007.example.net")):
        for path in ("/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"):
            r = autoconfig(hm, address, path)
            assert r.status == 200, r
            assert r.header("Content-Type") == "text/xml; charset=utf-8"
            prov, got = servers(r.body)
            assert prov.findtext("domain") == address.split("@")[1]
            assert prov.findtext("displayName") == "hostmail"
            assert got == [
                ("incomingServer", "pop3", host, hm.pop3s_port, "SSL", "%EMAILADDRESS%"),
                ("incomingServer", "pop3", host, hm.pop3_port, "STARTTLS", "%EMAILADDRESS%"),
                ("outgoingServer", "smtp", host, hm.submissions_port, "SSL", "%EMAILADDRESS%"),
                ("outgoingServer", "smtp", host, hm.submission_port, "STARTTLS", "%EMAILADDRESS%"),
                ("outgoingServer", "smtp", host, hm.smtp_port, "STARTTLS", "%EMAILADDRESS%"),
                ("outgoingServer", "smtp", host, hm.smtp_port2, "STARTTLS", "%EMAILADDRESS%"),
            ]
    # fetched from autoconfig.DOMAIN without the address (Host names the domain)
    r = autoconfig(hm, None, host=f"autoconfig.old.example:{hm.acc_port}")
    assert r.status == 200 and servers(r.body)[1][0][2] == "mail007.example.net"


def test_answers_never_tell_whether_a_mailbox_exists(server):
    hm = with_legacy(server)
    real = autoconfig(hm, "alice@acme.test")
    ghost = autoconfig(hm, "nobody-at-all@acme.test")
    assert real.status == ghost.status == 200 and real.body == ghost.body
    assert b"alice" not in real.body
    for other in ("alice@not-hosted.test", "alice@acme.test.evil", "no-at-sign", ""):
        r = autoconfig(hm, other)
        assert r.status == 404, (other, r)
        assert b"acme.mail.example.net" not in r.body
    c = AccClient(hm)
    answers = []
    for address in ("alice@acme.test", "nobody-at-all@acme.test"):
        r = c.request("POST", "/autodiscover/autodiscover.xml", raw_body=AD_REQ.format(address),
                      headers={"Content-Type": "text/xml"})
        assert r.status == 200, r
        answers.append(r.text.replace(address, "ADDRESS"))
    assert answers[0] == answers[1]
    r = c.request("POST", "/autodiscover/autodiscover.xml", raw_body=AD_REQ.format("x@not-hosted.test"),
                  headers={"Content-Type": "text/xml"})
    assert r.status == 404 and "example.net" not in r.text


def test_autodiscover_pox(server):
    hm = with_legacy(server)
    c = AccClient(hm)
    for path, address, host in (("/autodiscover/autodiscover.xml", "alice@acme.test", "acme.mail.example.net"),
                                ("/Autodiscover/Autodiscover.xml", "Info@Old.Example", "mail007.example.net")):
        r = c.request("POST", path, raw_body=AD_REQ.format(address), headers={"Content-Type": "text/xml"})
        assert r.status == 200 and r.header("Content-Type") == "text/xml; charset=utf-8", r
        root = ET.fromstring(r.body)
        acct = root.find("a:Response/a:Account", AD_NS)
        assert acct.findtext("a:AccountType", namespaces=AD_NS) == "email"
        assert acct.findtext("a:Action", namespaces=AD_NS) == "settings"
        protos = {p.findtext("a:Type", namespaces=AD_NS): p for p in acct.findall("a:Protocol", AD_NS)}
        assert sorted(protos) == ["POP3", "SMTP"]
        want = {"POP3": hm.pop3s_port, "SMTP": hm.submissions_port}
        for t, p in protos.items():
            assert p.findtext("a:Server", namespaces=AD_NS) == host
            assert int(p.findtext("a:Port", namespaces=AD_NS)) == want[t]
            assert p.findtext("a:LoginName", namespaces=AD_NS) == address.lower()
            assert p.findtext("a:SSL", namespaces=AD_NS) == "on"
            assert p.findtext("a:AuthRequired", namespaces=AD_NS) == "on"
    # not XML with an address: 400, and a form token is not needed (nor wanted)
    r = c.request("POST", "/autodiscover/autodiscover.xml", raw_body="<Autodiscover/>",
                  headers={"Content-Type": "text/xml"})
    assert r.status == 400


def test_msmtp_and_fetchmail_configured_from_the_autoconfig_answer_alone(server, tmp_path):
    hm = server
    _, got = servers(autoconfig(hm, "alice@acme.test").body)
    smtp = next(s for s in got if s[0] == "outgoingServer")      # the recommended one
    pop = next(s for s in got if s[0] == "incomingServer")
    user = smtp[5].replace("%EMAILADDRESS%", "alice@acme.test")
    rc = tmp_path / "msmtprc"
    rc.write_text("\n".join([
        "account default", "host 127.0.0.1", f"tls_host_override {smtp[2]}", f"port {smtp[3]}",
        "tls on", f"tls_starttls {'on' if smtp[4] == 'STARTTLS' else 'off'}",
        f"tls_trust_file {hm.pki['ca']}", "auth on", f"user {user}", "password alice-secret",
        "from alice@acme.test", "domain client.test"]) + "\n")
    rc.chmod(0o600)
    r = subprocess.run(["msmtp", "-C", str(rc), "-a", "default", "alice@acme.test"],
                       input=b"From: alice@acme.test\r\nTo: alice@acme.test\r\nSubject: autoconfigured\r\n\r\n"
                             b"sent by an autoconfigured msmtp\r\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    hm.wait_messages("alice@acme.test", 1)

    out, home = tmp_path / "fetched.mbox", tmp_path / "fmhome"
    home.mkdir()
    fm = tmp_path / "fetchmailrc"
    user = pop[5].replace("%EMAILADDRESS%", "alice@acme.test")
    tls = "ssl" if pop[4] == "SSL" else "sslproto tls1.2+"
    fm.write_text(f"""set no syslog
poll {pop[2]} via 127.0.0.1 protocol {pop[1]} port {pop[3]}
  user "{user}" password "alice-secret" is "nobody" here
  {tls} sslcertck sslcertfile "{hm.pki['ca']}" sslcommonname "{pop[2]}"
  mda "/bin/sh -c 'cat >> {out}'"
""")
    fm.chmod(0o600)
    r = subprocess.run(["fetchmail", "-f", str(fm), "-v", "--nodetach"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"sent by an autoconfigured msmtp" in out.read_bytes()


def logged_in(hm, account="acme", password=ACME_PW):
    c = AccClient(hm)
    assert c.login(account, password).status == 303
    return c


def test_apple_profile_parses_with_the_right_hosts(server):
    hm = with_legacy(server)
    for account, pw, address, host in (("acme", ACME_PW, "alice@acme.test", "acme.mail.example.net"),
                                       ("oldco", "oldco-pass", "info@old.example", "mail007.example.net")):
        if account == "oldco":
            hm.ctl("account", "passwd", "oldco", input="oldco-pass\n")
        c = logged_in(hm, account, pw)
        r = c.get("/mail/profile.mobileconfig?address=" + urllib.parse.quote(address))
        assert r.status == 200, r
        assert r.header("Content-Type") == "application/x-apple-aspen-config"
        assert r.header("Content-Disposition").startswith("attachment; filename=")
        p = plistlib.loads(r.body)
        assert p["PayloadType"] == "Configuration" and p["PayloadVersion"] == 1
        (mail,) = p["PayloadContent"]
        assert mail["PayloadType"] == "com.apple.mail.managed"
        assert mail["EmailAccountType"] == "EmailTypePOP" and mail["EmailAddress"] == address
        assert mail["IncomingMailServerHostName"] == mail["OutgoingMailServerHostName"] == host
        assert mail["IncomingMailServerPortNumber"] == hm.pop3s_port
        assert mail["OutgoingMailServerPortNumber"] == hm.submissions_port
        assert mail["IncomingMailServerUseSSL"] is True and mail["OutgoingMailServerUseSSL"] is True
        assert mail["IncomingMailServerUsername"] == address
        assert not any("Password" in k and k != "OutgoingPasswordSameAsIncomingPassword" for k in mail)
        # the same profile again replaces itself: the same UUIDs
        again = plistlib.loads(c.get("/mail/profile.mobileconfig?address=" + urllib.parse.quote(address)).body)
        assert again["PayloadUUID"] == p["PayloadUUID"]
    # with the password only when asked for, through the form (token needed)
    c = logged_in(hm)
    r = c.post("/mail/profile.mobileconfig", {"address": "alice@acme.test", "password": "alice-secret"})
    assert r.status == 403
    r = c.post("/mail/profile.mobileconfig", {"csrf": c.csrf(), "address": "alice@acme.test",
                                               "password": "alice-secret"})
    assert r.status == 200
    assert plistlib.loads(r.body)["PayloadContent"][0]["IncomingPassword"] == "alice-secret"
    assert "alice-secret" not in hm.logtext()
    # another account's mailbox: like a missing one
    assert c.get("/mail/profile.mobileconfig?address=info%40old.example").status == 404
    assert c.get("/mail/settings.json?address=info%40old.example").status == 404


def test_settings_json_and_mail_page_tables_match_mailbox_show(server):
    hm = with_legacy(server)
    c = logged_in(hm)
    shown = hm.ctl("mailbox", "show", "alice@acme.test").stdout.splitlines()
    r = c.get("/mail/settings.json?address=alice%40acme.test")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    j = json.loads(r.body)
    lines = []
    for side in ("incoming", "outgoing"):
        for i, s in enumerate(j[side]):
            assert s["host"] == j["host"] == "acme.mail.example.net" and s["username"] == "alice@acme.test"
            assert s["recommended"] == (i == 0)
            lines.append(f"{side}: {s['protocol']} {s['host']} port {s['port']} {s['security']}"
                         + (" (recommended)" if i == 0 else ""))
    assert lines == [l for l in shown if l.startswith(("incoming:", "outgoing:"))]
    assert j["max_message_size"] == 1048576
    page = c.get("/mail").text
    assert '<table class="server" id="mb0-in">' in page and '<table class="server" id="mb0-out">' in page
    assert f'data-field="port">{hm.pop3s_port}</span>' in page
    assert f'data-field="port">{hm.submissions_port}</span>' in page
    assert "<b class=\"maxsize\">1 MB</b>" in page
    for guide in ("thunderbird", "outlook", "apple-mail", "ios", "android"):
        g = c.get(f"/help/{guide}?address=bob%40acme.test")
        assert g.status == 200 and "acme.mail.example.net" in g.text and "bob@acme.test" in g.text, guide
    assert c.get("/help/thunderbird?address=info%40old.example").status == 404
    # the account holder's own page lists its domains, not another account's
    acct = c.get("/account").text
    assert '<ul id="domain-list"><li>acme.test</li></ul>' in acct and "old.example" not in acct


def test_public_ports_and_the_providers_identity(make_server):
    hm = make_server("")
    extra = f"""[acc]
public_ports = {hm.submission_port}:587, {hm.submissions_port}:465, {hm.pop3s_port}:995, {hm.smtp_port}:25
provider_name = Example Hosting & Co
provider_logo = https://cdn.example.net/logo.png
support_url = https://help.example.net/mail
"""
    hm.stop()
    hm.extra += extra
    hm.write_config()
    hm.start()
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    prov, got = servers(autoconfig(hm, "alice@acme.test").body)
    assert prov.findtext("displayName") == "Example Hosting & Co"
    assert prov.find("documentation").get("url") == "https://help.example.net/mail"
    assert [(s[3], s[4]) for s in got] == [(995, "SSL"), (hm.pop3_port, "STARTTLS"), (465, "SSL"),
                                           (587, "STARTTLS"), (hm.smtp_port2, "STARTTLS")]
    shown = hm.ctl("mailbox", "show", "alice@acme.test").stdout
    assert "outgoing: SMTP acme.mail.example.net port 587 STARTTLS\n" in shown
    assert f"smtp_ports: {hm.smtp_port2} (STARTTLS); 587 (STARTTLS); 465 (SSL/TLS)\n" in shown
    assert f"pop3_ports: {hm.pop3_port} (STLS); 995 (SSL/TLS)\n" in shown
    assert " port 25 " not in shown
    c = logged_in(hm)
    for path in ("/login", "/overview", "/mail"):
        r = c.get(path) if path != "/login" else AccClient(hm).get(path)
        assert '<b id="provider">Example Hosting &amp; Co</b>' in r.text, path
        assert '<img src="https://cdn.example.net/logo.png" alt="">' in r.text
        assert '<a class="support" id="support" href="https://help.example.net/mail">' in r.text
        assert "img-src https://cdn.example.net/logo.png;" in r.header("Content-Security-Policy")


def test_plain_http_on_the_acc_port_is_redirected_to_https(server):
    hm = server
    conn = http.client.HTTPConnection("127.0.0.1", hm.acc_port, timeout=10)
    conn.request("GET", "/mail/config-v1.1.xml?emailaddress=alice%40acme.test")
    r = conn.getresponse()
    assert r.status == 301
    assert r.getheader("Location") == (f"https://127.0.0.1:{hm.acc_port}"
                                       "/mail/config-v1.1.xml?emailaddress=alice%40acme.test")
    assert r.getheader("Connection") == "close"
    r.read()
    conn.close()
    # curl follows it to the HTTPS answer on the same port
    out = subprocess.run(["curl", "-sS", "-L", "--max-time", "20", "--cacert", hm.pki["ca"],
                          f"http://localhost:{hm.acc_port}/login"], capture_output=True, timeout=30)
    assert out.returncode == 0 and b'action="/login"' in out.stdout, out.stderr
    # nothing but the redirect in clear text: a POST is not handled either
    s = socket.create_connection(("127.0.0.1", hm.acc_port), timeout=10)
    s.sendall(b"POST /login HTTP/1.1\r\nHost: x.test\r\nContent-Length: 3\r\n\r\na=b")
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 301 ") and b"Location: https://x.test/login\r\n" in data
    assert "plain HTTP request redirected to https" in hm.logtext()
