"""Aliases, catch-all, postmaster@/abuse@ and forwarding loops (issue 19,
part A; docs/routing.md), with real SMTP clients against a real hostmaild.
Outside targets stay queued here (the suite's DNS resolves nothing):
test_srs.py delivers them to a receiving Postfix."""
import os
import smtplib
import ssl
import time
import uuid

from conftest import RawSMTP, queue_files, wait_for

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"


def send(hm, sender, rcpts, subject, extra_headers=""):
    """From outside (the MX role, no AUTH): the message, queued as one."""
    msg = (f"{extra_headers}From: <{sender}>\r\nTo: <{rcpts[0]}>\r\nSubject: {subject}\r\n"
           f"Message-ID: <{uuid.uuid4()}@sender.example>\r\n\r\nHello.\r\n")
    with smtplib.SMTP(hm.host, hm.smtp_port, local_hostname="client.example", timeout=20) as s:
        refused = s.sendmail(sender, rcpts, msg.encode())
    assert not refused, refused


def with_subject(hm, address, subject, n=1):
    """Wait until address's Maildir has n messages with that subject."""
    def got():
        found = [m for m in hm.messages(address) if f"Subject: {subject}".encode() in m]
        return found if len(found) >= n else None
    return wait_for(got, timeout=30, what=f"{subject} in {address}")


def subj():
    return "alias-" + uuid.uuid4().hex[:10]


def rcpt_code(hm, rcpt, sender="someone@sender.example"):
    c = RawSMTP(hm.smtp_port)
    try:
        c.reply()
        c.cmd("EHLO client.example")
        assert c.cmd(f"MAIL FROM:<{sender}>").code == 250
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        c.cmd("QUIT")
        return r
    finally:
        c.close()


def test_alias_with_two_targets_delivers_to_both(server):
    hm = server
    hm.ctl("alias", "add", "sales@acme.test", "alice@acme.test,bob@acme.test")
    assert hm.ctl("alias", "list", "acme.test").stdout == "sales@acme.test alice@acme.test,bob@acme.test\n"
    s = subj()
    send(hm, "someone@sender.example", ["Sales@ACME.test"], s)
    for who in (ALICE, "bob@acme.test"):
        msg = with_subject(hm, who, s)[0]
        assert b"Delivered-To: sales@acme.test" in msg
    assert "forwarded to 2 target(s)" in hm.logtext()
    # removed: unknown again
    hm.ctl("alias", "remove", "sales@acme.test")
    r = rcpt_code(hm, "sales@acme.test")
    assert r.code == 550 and r.text.startswith("5.1.1")


def test_alias_keeping_a_copy(server):
    hm = server
    hm.ctl("alias", "add", "bob@acme.test", "bob@acme.test", "alice@acme.test")
    s = subj()
    send(hm, "someone@sender.example", ["bob@acme.test"], s)
    with_subject(hm, ALICE, s)
    with_subject(hm, "bob@acme.test", s)
    time.sleep(0.5)
    assert len([m for m in hm.messages("bob@acme.test") if s.encode() in m]) == 1


def test_catch_all_is_off_by_default_then_takes_unknown_addresses(server):
    hm = server
    r = rcpt_code(hm, "whoever@acme.test")
    assert r.code == 550 and r.text.startswith("5.1.1")
    assert hm.ctl("domain", "catchall", "acme.test").stdout == "off\n"
    hm.ctl("domain", "catchall", "acme.test", "bob@acme.test")
    assert hm.ctl("domain", "catchall", "acme.test").stdout == "bob@acme.test\n"
    s = subj()
    send(hm, "someone@sender.example", ["whoever@acme.test"], s)
    assert b"Delivered-To: whoever@acme.test" in with_subject(hm, "bob@acme.test", s)[0]
    # a real mailbox still gets its own mail
    s2 = subj()
    send(hm, "someone@sender.example", [ALICE], s2)
    with_subject(hm, ALICE, s2)
    assert not [m for m in hm.messages("bob@acme.test") if s2.encode() in m]
    hm.ctl("domain", "catchall", "acme.test", "off")
    assert rcpt_code(hm, "whoever@acme.test").code == 550
    bad = hm.ctl("domain", "catchall", "nothere.test", "bob@acme.test", check=False)
    assert bad.returncode == 1 and "not hosted" in bad.stderr


def test_postmaster_and_abuse_go_to_the_contact(server):
    hm = server
    # default contact: the account's first mailbox (alice@ sorts first)
    assert hm.ctl("account", "contact", "acme").stdout == "alice@acme.test (default: first mailbox)\n"
    s = subj()
    send(hm, "someone@sender.example", ["postmaster@acme.test", "Abuse@acme.test"], s)
    with_subject(hm, ALICE, s, n=2)
    # <postmaster> without a domain is this host's, not a hosted domain's
    hm.ctl("account", "contact", "acme", "bob@acme.test")
    s2 = subj()
    send(hm, "someone@sender.example", ["postmaster@acme.test"], s2)
    with_subject(hm, "bob@acme.test", s2)
    # an alias says otherwise
    hm.ctl("alias", "add", "abuse@acme.test", "alice@acme.test")
    s3 = subj()
    send(hm, "someone@sender.example", ["abuse@acme.test"], s3)
    with_subject(hm, ALICE, s3)
    assert not [m for m in hm.messages("bob@acme.test") if s3.encode() in m]


def failure_report(hm, address, needle):
    def got():
        for m in hm.messages(address):
            if b"multipart/report" in m and needle.encode() in m:
                return m
        return None
    return wait_for(got, timeout=30, what=f"failure report about {needle} for {address}")


def test_alias_loop_is_bounced_not_delivered_forever(server):
    hm = server
    hm.ctl("domain", "add", "acme", "other.test", "--no-dkim")
    hm.ctl("alias", "add", "ping@acme.test", "pong@other.test")
    hm.ctl("alias", "add", "pong@other.test", "ping@acme.test")
    s = subj()
    send(hm, ALICE, ["ping@acme.test"], s)
    report = failure_report(hm, ALICE, s)
    assert b"5.4.6" in report and b"loop" in report
    wait_for(lambda: not queue_files(hm, "env"), timeout=30, what="an empty queue")


def test_message_coming_back_through_the_same_alias_is_bounced(server):
    """As if an outside address had forwarded it back: the Delivered-To:
    field the alias added on the way out is still on top."""
    hm = server
    hm.ctl("alias", "add", "fwd@acme.test", "bob@acme.test")
    s = subj()
    send(hm, ALICE, ["fwd@acme.test"], s, extra_headers="Delivered-To: fwd@acme.test\r\nReceived: from x\r\n")
    report = failure_report(hm, ALICE, s)
    assert b"5.4.6" in report
    assert not [m for m in hm.messages("bob@acme.test") if s.encode() in m]


def test_alias_counts_once_for_the_cap_and_outside_targets_count_against_the_budget(demo):
    hm = demo
    # the cap: two recipients a message ([limits] is in the fixture's file)
    with open(hm.config) as f:
        cfg = f.read()
    with open(hm.config, "w") as f:
        f.write(cfg.replace("[limits]\n", "[limits]\nmax_recipients = 2\n", 1))
    hm.ctl("alias", "add", "team@acme.test", "alice@acme.test,bob@acme.test,x@far.example,y@far.example")
    hm.ctl("account", "limits", "acme", "--per-hour", "3")
    hm.start()
    left = 3600 - time.time() % 3600
    if left < 30:
        time.sleep(left + 1)
    s = subj()
    # two RCPTs (the cap) of which one is an alias with four targets
    send(hm, "someone@sender.example", ["team@acme.test", "bob@acme.test"], s)
    with_subject(hm, ALICE, s)
    with_subject(hm, "bob@acme.test", s, n=2)
    # the two outside targets were queued with the SRS sender and counted
    def srs_queued():
        out = hm.ctl("queue", "list").stdout
        return out if "<SRS0=" in out and "x@far.example" in out and "y@far.example" in out else None
    listing = wait_for(srs_queued, timeout=30, what="the outside copy queued")
    assert "=sender.example=someone@mx.test.example>" in listing
    # the budget of 3 has one recipient left for alice's own mail
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    ctx.check_hostname = False
    with smtplib.SMTP(hm.host, hm.submission_port, local_hostname="client.test", timeout=30) as c:
        c.starttls(context=ctx)
        c.login(ALICE, ALICE_PW)
        c.mail(ALICE)
        assert c.rcpt("one@far.example")[0] == 250
        code, text = c.rcpt("two@far.example")
        assert code == 450 and b"hourly limit of 3" in text


def test_forged_srs_address_is_refused(server):
    hm = server
    r = rcpt_code(hm, "SRS0=AAAA=AB=sender.example=someone@mx.test.example", sender="")
    assert r.code == 550 and r.text.startswith("5.7.1") and "SRS" in r.text
    r = rcpt_code(hm, "SRS0=garbage@mx.test.example", sender="")
    assert r.code == 550 and r.text.startswith("5.7.1")


def test_alias_commands_refuse_bad_input(demo):
    hm = demo
    for args, words in [(("alias", "add", "x@nothere.test", "bob@acme.test"), "not hosted"),
                        (("alias", "add", "x@acme.test", "not-an-address"), ""),
                        (("alias", "remove", "nobody@acme.test"), "does not exist"),
                        (("account", "contact", "nobody"), "does not exist")]:
        r = hm.ctl(*args, check=False)
        assert r.returncode == 1 and words in r.stderr, (args, r.stderr)


def test_admin_api_aliases_catchall_contact(tmp_path):
    """The admin API's routing resources mirror hostmailctl, answers
    checked against the OpenAPI document; and an alias made there routes."""
    from test_admin_api import Admin
    a = Admin(tmp_path)
    try:
        h = a.h
        data = a.do("PUT", "/api/aliases/sales@acme.test", "/api/aliases/{address}", 200,
                    {"targets": ["Alice@acme.test", "out@far.example"]})
        assert data == {"address": "sales@acme.test", "domain": "acme.test", "account": "acme",
                        "targets": ["alice@acme.test", "out@far.example"]}
        assert h.ctl("alias", "list").stdout == "sales@acme.test alice@acme.test,out@far.example\n"
        assert a.do("GET", "/api/aliases?domain=acme.test", "/api/aliases", 200) == [data]
        assert a.do("GET", "/api/aliases/sales@acme.test", "/api/aliases/{address}", 200) == data
        err = a.do("PUT", "/api/aliases/x@nothere.test", "/api/aliases/{address}", 404, {"targets": ["a@b.test"]})
        assert "not hosted" in err["error"]
        err = a.do("PUT", "/api/aliases/x@acme.test", "/api/aliases/{address}", 400, {"targets": []})
        assert err["field"] == "targets"
        a.do("GET", "/api/aliases?domain=nothere.test", "/api/aliases", 404)
        # read-only tokens read, never change
        status, _ = a.call("PUT", "/api/aliases/y@acme.test", {"targets": ["bob@acme.test"]}, token=a.ro)
        assert status == 403

        assert a.do("GET", "/api/domains/acme.test/catchall", "/api/domains/{domain}/catchall", 200) == \
            {"domain": "acme.test", "target": None}
        assert a.do("PUT", "/api/domains/acme.test/catchall", "/api/domains/{domain}/catchall", 200,
                    {"target": "bob@acme.test"})["target"] == "bob@acme.test"
        assert h.ctl("domain", "catchall", "acme.test").stdout == "bob@acme.test\n"
        assert a.do("PUT", "/api/domains/acme.test/catchall", "/api/domains/{domain}/catchall", 200,
                    {"target": None})["target"] is None

        c = a.do("GET", "/api/accounts/acme/contact", "/api/accounts/{name}/contact", 200)
        assert c == {"account": "acme", "address": ALICE, "default": True}
        c = a.do("PUT", "/api/accounts/acme/contact", "/api/accounts/{name}/contact", 200,
                 {"address": "boss@elsewhere.example"})
        assert c == {"account": "acme", "address": "boss@elsewhere.example", "default": False}
        a.do("GET", "/api/accounts/nobody/contact", "/api/accounts/{name}/contact", 404)

        s = subj()
        send(h, "someone@sender.example", ["sales@acme.test"], s)
        with_subject(h, ALICE, s)
        a.do("DELETE", "/api/aliases/sales@acme.test", "/api/aliases/{address}", 200)
        a.do("DELETE", "/api/aliases/sales@acme.test", "/api/aliases/{address}", 404)
        assert "alias add sales@acme.test" in h.logtext()
    finally:
        a.h.stop()


def test_customer_manages_aliases_and_catch_all_in_the_acc(server):
    """The ACC's Aliases page: add an alias (two targets, one outside), set
    and clear the catch-all, remove the alias; forms need the CSRF token
    and a domain of the customer's own account."""
    from acc_client import AccClient
    hm = server
    hm.ctl("account", "passwd", "acme", input="acme-account-pw\n")
    hm.ctl("account", "add", "other")
    hm.ctl("domain", "add", "other", "other.test", "--no-dkim")
    c = AccClient(hm)
    assert c.login("acme", "acme-account-pw").status == 303
    page = c.get("/aliases")
    assert page.status == 200 and "@acme.test" in page.text and "other.test" not in page.text
    token = c.csrf()
    r = c.post("/aliases/add", {"csrf": token, "local": "Team", "domain": "acme.test",
                                "targets": "bob@acme.test, friend@far.example"})
    assert r.status == 303 and r.header("Location") == "/aliases"
    page = c.get("/aliases")
    assert "The alias team@acme.test was saved." in page.text
    assert "bob@acme.test,friend@far.example" in page.text
    assert hm.ctl("alias", "list").stdout == "team@acme.test bob@acme.test,friend@far.example\n"
    s = subj()
    send(hm, "someone@sender.example", ["team@acme.test"], s)
    with_subject(hm, "bob@acme.test", s)

    # bad targets: nothing saved, the reason shown
    c.post("/aliases/add", {"csrf": token, "local": "x", "domain": "acme.test", "targets": "nonsense"})
    assert "The alias was not saved" in c.get("/aliases").text
    # another account's domain: refused, nothing made
    r = c.post("/aliases/add", {"csrf": token, "local": "x", "domain": "other.test", "targets": "bob@acme.test"})
    assert r.status == 404
    r = c.post("/aliases/catchall", {"csrf": token, "domain": "other.test", "address": "bob@acme.test"})
    assert r.status == 404
    assert hm.ctl("domain", "catchall", "other.test").stdout == "off\n"
    # no CSRF token: refused
    r = c.post("/aliases/add", {"local": "y", "domain": "acme.test", "targets": "bob@acme.test"})
    assert r.status == 403
    assert "y@acme.test" not in hm.ctl("alias", "list").stdout

    c.post("/aliases/catchall", {"csrf": token, "domain": "acme.test", "address": "alice@acme.test"})
    assert "The catch-all of acme.test is now alice@acme.test." in c.get("/aliases").text
    assert hm.ctl("domain", "catchall", "acme.test").stdout == "alice@acme.test\n"
    c.post("/aliases/catchall", {"csrf": token, "domain": "acme.test", "address": ""})
    assert hm.ctl("domain", "catchall", "acme.test").stdout == "off\n"

    c.post("/aliases/remove", {"csrf": token, "address": "team@acme.test"})
    assert "The alias team@acme.test was removed." in c.get("/aliases").text
    assert hm.ctl("alias", "list").stdout == ""


def test_sigkill_while_forwarding_loses_nothing_acknowledged(server):
    """Messages to an alias with two mailboxes and an outside target; the
    daemon is killed (SIGKILL) while the runner forwards them, and started
    again, three times. Every message acknowledged with 250 reaches both
    mailboxes (at least once: a copy queued just before the kill may be
    queued again), and each outside copy is queued with the SRS sender."""
    import random
    import signal
    hm = server
    hm.ctl("alias", "add", "all@acme.test", "alice@acme.test,bob@acme.test,far@far.example")
    rnd = random.Random(os.environ.get("HOSTMAIL_CRASH_SEED"))
    sent = []
    for cycle in range(3):
        for _ in range(10):
            s = subj()
            send(hm, "someone@sender.example", ["all@acme.test"], s)
            sent.append(s)
        time.sleep(rnd.uniform(0, 0.2))
        hm.stop(signal.SIGKILL)
        hm.start()
    for who in (ALICE, "bob@acme.test"):
        def all_there(who=who):
            got = b"".join(hm.messages(who))
            return all(f"Subject: {s}".encode() in got for s in sent)
        wait_for(all_there, timeout=60, what=f"every acknowledged message in {who}")

    def outside_copies():
        out = hm.ctl("queue", "list").stdout
        n = sum(1 for line in out.splitlines() if "<SRS0=" in line and "far@far.example" in line)
        return n >= len(sent)
    wait_for(outside_copies, timeout=60, what="an outside copy of every message")
