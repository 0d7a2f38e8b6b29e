"""TLS, SMTP AUTH, authorized relay and sender affiliation (issue 3), as a
customer's mail program sees them. Real clients only: swaks, curl, msmtp,
Python's smtplib and ssl, openssl s_client, and raw sockets for the
protocol edge cases (pipelined plaintext behind STARTTLS)."""
import base64
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import RUN_AS, Hostmail, RawSMTP, setup_demo

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
BOB = "bob@acme.test"
REMOTE = "someone@remote.example"


# --- helpers -----------------------------------------------------------------

def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def plain(user, pw):
    return b64(f"\0{user}\0{pw}")


def ctx(hm, **kw):
    """A client SSLContext that trusts only the test CA."""
    c = ssl.create_default_context(cafile=hm.pki["ca"])
    if "maximum_version" in kw:
        c.maximum_version = kw["maximum_version"]
    return c


def add_other(hm):
    """A second hosting account, "other", with domain other.test."""
    hm.ctl("account", "add", "other")
    hm.ctl("domain", "add", "other", "other.test")
    hm.ctl("mailbox", "add", "carol@other.test", input="carol-secret\n")


def smtp_plain(hm, port=None, source=None, host="127.0.0.1"):
    s = smtplib.SMTP(host, port or hm.smtp_port, local_hostname="client.test", timeout=15,
                     source_address=(source, 0) if source else None)
    s.ehlo()
    return s


def smtp_tls(hm, port=None, source=None, host="127.0.0.1"):
    """smtplib after STARTTLS (certificate verified against the test CA) and EHLO."""
    s = smtp_plain(hm, port, source, host)
    code, _ = s.starttls(context=ctx(hm))
    assert code == 220
    s.ehlo()
    return s


def smtp_auth(hm, port=None, user=ALICE, pw=ALICE_PW, source=None):
    s = smtp_tls(hm, port, source)
    code, text = s.docmd("AUTH", "PLAIN " + plain(user, pw))
    assert code == 235, (code, text)
    return s


def msg(frm=ALICE, to=BOB, subject="test", body="Hello.\r\n", extra=""):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}"
            f"Message-ID: <{time.time_ns()}@acme.test>\r\n\r\n{body}").encode()


def send_data(s, data):
    """DATA through smtplib's low-level API: (code, text) of the final reply."""
    code, text = s.docmd("DATA")
    assert code == 354, (code, text)
    s.send(data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
    return s.getreply()


def run(args, input=None, timeout=30):
    r = subprocess.run(args, input=input, capture_output=True, timeout=timeout,
                       stdin=None if input is not None else subprocess.DEVNULL)
    return r.returncode, r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def swaks(hm, *args, port=None, server="127.0.0.1"):
    return run(["swaks", "--server", server, "--port", str(port or hm.smtp_port),
                "--helo", "client.test", "--timeout", "20",
                "--tls-verify", "--tls-ca-path", hm.pki["ca"], *args])


def curl(hm, url, *args, message=None, tmp_path=None):
    path = os.path.join(tmp_path, f"curl-{time.time_ns()}.eml")
    with open(path, "wb") as f:
        f.write(message or msg())
    return run(["curl", "-sS", "-v", "--max-time", "20", "--cacert", hm.pki["ca"],
                "--upload-file", path, url, *args])


def msmtp(hm, tmp_path, port, recipient, *, starttls=True, user=ALICE, pw=ALICE_PW,
          frm=ALICE, host="127.0.0.1", tls_host=None, message=None):
    conf = os.path.join(tmp_path, f"msmtprc-{time.time_ns()}")
    lines = ["defaults", "account default", f"host {host}", f"port {port}",
             "tls on", f"tls_starttls {'on' if starttls else 'off'}",
             f"tls_trust_file {hm.pki['ca']}", "auth on", f"user {user}",
             f"password {pw}", f"from {frm}", "domain client.test"]
    if tls_host:
        lines.append(f"tls_host_override {tls_host}")
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(conf, 0o600)
    return run(["msmtp", "-C", conf, "-a", "default", "--debug", recipient],
               input=message or msg(frm=frm, to=recipient))


def s_client(hm, *args, port=None, starttls=True):
    """openssl s_client; returns (exit code, output)."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port or hm.smtp_port}"]
    if starttls:
        cmd += ["-starttls", "smtp"]
    return run(cmd + list(args), timeout=20)


def subject_cn(out):
    m = re.search(r"^subject=.*?CN ?= ?([^,\n/]+)", out, re.M)
    return m.group(1).strip() if m else None


def raw_tls(c, hm, server_hostname="localhost"):
    """Switch a RawSMTP (just after the 220 to STARTTLS) to TLS."""
    assert c.buf == b"", f"plaintext after the 220: {c.buf!r}"
    c.sock = ctx(hm).wrap_socket(c.sock, server_hostname=server_hostname)
    return c


def raw_ehlo(c):
    r = c.cmd("EHLO client.test")
    assert r.code == 250, r
    return r


def queue_list(hm):
    return hm.ctl("queue", "list").stdout


def received_headers(message):
    """Received: fields, unfolded (the Maildir copy may use LF or CRLF)."""
    text = message.decode("utf-8", "replace").replace("\r\n", "\n")
    head = text.split("\n\n", 1)[0]
    unfolded = re.sub(r"\n[ \t]+", " ", head)
    return [l for l in unfolded.split("\n") if l.lower().startswith("received:")]


def wait_log(hm, needle, timeout=10.0, count=1):
    """Wait for count lines with needle (plain text) in hm's log."""
    return bool(hm.wait_log(re.escape(needle), timeout, count))


# --- AUTH only under TLS -------------------------------------------------------

def test_auth_not_offered_before_tls_and_refused_538(server):
    for port in (server.smtp_port, server.submission_port):
        s = smtp_plain(server, port)
        assert s.has_extn("starttls")
        assert not s.has_extn("auth"), s.esmtp_features
        code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
        assert code == 538 and text.startswith(b"5.7.11"), (port, code, text)
        code, text = s.docmd("AUTH", "LOGIN")
        assert code == 538, (code, text)
        s.quit()
    # a real client: swaks refuses to go on because AUTH is not advertised
    rc, out = swaks(server, "--auth", "PLAIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB)
    assert rc == 28, out
    assert "AUTH" not in "".join(l for l in out.splitlines() if l.startswith("<-  250"))


def test_auth_offered_after_starttls_not_starttls_again(server):
    s = smtp_tls(server)
    assert not s.has_extn("starttls")
    assert s.has_extn("auth")
    assert set(s.esmtp_features["auth"].upper().split()) == {"PLAIN", "LOGIN"}
    code, text = s.docmd("STARTTLS")
    assert code == 503, (code, text)
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert (code, text[:5]) == (235, b"2.7.0"), (code, text)
    s.ehlo()
    assert not s.has_extn("auth"), "AUTH offered again after authenticating"
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 503, (code, text)
    s.quit()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_starttls_auth_delivers(server, mech):
    rc, out = swaks(server, "--tls", "--auth", mech, "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB, "--h-From", f'"Alice" <{ALICE}>',
                    "--h-Subject", f"via swaks {mech}")
    assert rc == 0, out
    assert "235 2.7.0" in out
    assert "=== TLS peer DN=\"/CN=mx.test.example\"" in out, out
    msgs = server.wait_messages(BOB, 1)
    assert len(msgs) == 1 and f"via swaks {mech}".encode() in msgs[0]


def test_wrong_password_535_after_delay_and_logged(server):
    t0 = time.time()
    rc, out = swaks(server, "--tls", "--auth", "PLAIN", "--au", ALICE, "--ap", "not-it",
                    "--from", ALICE, "--to", BOB)
    elapsed = time.time() - t0
    assert rc == 28, out
    assert "535 5.7.8" in out, out
    assert elapsed >= 0.9, f"535 came after {elapsed:.2f}s, expected a ~1s delay"
    # fail2ban-style: every failure logged with the client IP
    assert wait_log(server, "authentication failed: ip=127.0.0.1 user=alice@acme.test")
    assert "not-it" not in server.logtext(), "password written to the log"
    # an unknown user gets exactly the same answer (no user enumeration)
    s = smtp_tls(server)
    code, text = s.docmd("AUTH", "PLAIN " + plain("nobody@acme.test", "x"))
    assert (code, text[:5]) == (535, b"5.7.8"), (code, text)
    s.quit()
    assert server.messages(BOB) == []


def test_failure_delay_does_not_stall_other_sessions(server):
    s = smtp_tls(server)
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=s.docmd("AUTH", "PLAIN " + plain(ALICE, "wrong"))))
    t.start()
    wait_log(server, "smtp authentication failed")      # checked: the 1 s delay runs
    other = smtp_tls(server)
    assert other.docmd("AUTH", "PLAIN " + plain(BOB, "bob-secret"))[0] == 235
    assert other.noop()[0] == 250
    assert "r" not in result, "another session waited for the failure delay"
    other.quit()
    t.join(10)
    assert result["r"][0] == 535
    s.quit()


def test_auth_plain_and_login_forms(server):
    s = smtp_tls(server)
    # PLAIN, empty initial response: 334 with an empty challenge, then the response
    code, text = s.docmd("AUTH", "PLAIN")
    assert (code, text) == (334, b""), (code, text)
    code, text = s.docmd(plain(ALICE, ALICE_PW))
    assert code == 235, (code, text)
    s.quit()

    # LOGIN, challenge form (the 334 texts are base64 "Username:" / "Password:")
    s = smtp_tls(server)
    code, text = s.docmd("AUTH", "LOGIN")
    assert (code, base64.b64decode(text)) == (334, b"Username:"), (code, text)
    code, text = s.docmd(b64(ALICE))
    assert (code, base64.b64decode(text)) == (334, b"Password:"), (code, text)
    code, text = s.docmd(b64(ALICE_PW))
    assert code == 235, (code, text)
    s.quit()

    # LOGIN with the user name as initial response
    s = smtp_tls(server)
    code, text = s.docmd("AUTH", "LOGIN " + b64(ALICE))
    assert (code, base64.b64decode(text)) == (334, b"Password:"), (code, text)
    code, text = s.docmd(b64(ALICE_PW))
    assert code == 235, (code, text)
    s.quit()

    # user name case does not matter (the full address is the user name)
    s = smtp_tls(server)
    code, text = s.docmd("AUTH", "PLAIN " + plain("Alice@ACME.test", ALICE_PW))
    assert code == 235, (code, text)
    s.quit()

    # smtplib's own login (picks PLAIN)
    s = smtp_tls(server)
    code, text = s.login(ALICE, ALICE_PW)
    assert code == 235
    s.quit()


def test_auth_cancel_malformed_and_unknown_mechanism(server):
    s = smtp_tls(server)
    code, text = s.docmd("AUTH", "PLAIN")
    assert code == 334
    code, text = s.docmd("*")
    assert code == 501, (code, text)
    code, text = s.docmd("AUTH", "LOGIN")
    assert code == 334
    code, text = s.docmd(b64(ALICE))
    assert code == 334
    code, text = s.docmd("*")
    assert code == 501, (code, text)
    code, text = s.docmd("AUTH", "PLAIN !!!not-base64!!!")
    assert code == 501, (code, text)
    code, text = s.docmd("AUTH", "CRAM-MD5")
    assert code == 504, (code, text)
    # the session is still usable, and none of this counted as a failed password
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 235, (code, text)
    s.quit()
    assert "authentication failed" not in server.logtext()


def test_wrong_password_plain_and_login_forms(server):
    s = smtp_tls(server)
    # PLAIN: an authorization identity other than the authenticated user is refused
    code, text = s.docmd("AUTH", "PLAIN " + b64(f"{BOB}\0{ALICE}\0{ALICE_PW}"))
    assert code in (501, 535), (code, text)
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, "bob-secret"))
    assert (code, text[:5]) == (535, b"5.7.8"), (code, text)
    code, text = s.docmd("AUTH", "LOGIN")
    s.docmd(b64(ALICE))
    code, text = s.docmd(b64("wrong"))
    assert (code, text[:5]) == (535, b"5.7.8"), (code, text)
    # not authorized: relaying still refused in this session
    code, _ = s.docmd("MAIL", f"FROM:<{ALICE}>")
    assert code == 250
    code, text = s.docmd("RCPT", f"TO:<{REMOTE}>")
    assert (code, text[:5]) == (554, b"5.7.1"), (code, text)
    # a right password afterwards still works (2 failures < 5)
    s.docmd("RSET")
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 235, (code, text)
    s.quit()


def test_auth_before_ehlo_and_during_transaction(server):
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=15)
    s.ehlo("client.test")
    s.starttls(context=ctx(server))
    # after STARTTLS the EHLO is forgotten: AUTH needs a new one
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 503, (code, text)
    s.ehlo("client.test")
    code, _ = s.docmd("MAIL", "FROM:<x@remote.example>")
    assert code == 250
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 503, (code, text)
    s.quit()


# --- throttling ----------------------------------------------------------------

def test_throttle_after_five_failures_from_one_ip(server):
    ip = "127.0.0.7"

    def fail_once(results, i):
        try:
            s = smtp_tls(server, source=ip)
            results[i] = s.docmd("AUTH", "PLAIN " + plain(ALICE, f"wrong-{i}"))
            s.quit()
        except Exception as e:  # reported below
            results[i] = e

    # five failures at once (each is answered after the 1 s delay)
    results = [None] * 5
    threads = [threading.Thread(target=fail_once, args=(results, i)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(isinstance(r, tuple) and r[0] == 535 for r in results), results
    assert wait_log(server, f"ip={ip} blocked from authenticating")

    # now even the right password is refused from that IP, with a 4xx
    s = smtp_tls(server, source=ip)
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 454 and text.startswith(b"4.7.0"), (code, text)
    s.quit()
    rc, out = run(["swaks", "--server", "127.0.0.1", "--port", str(server.smtp_port),
                   "--local-interface", ip, "--tls", "--tls-verify", "--tls-ca-path",
                   server.pki["ca"], "--auth", "LOGIN", "--au", ALICE, "--ap", ALICE_PW,
                   "--from", ALICE, "--to", BOB])
    assert rc == 28 and "454 4.7.0" in out, out

    # other addresses are not affected
    s = smtp_tls(server, source="127.0.0.8")
    code, text = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
    assert code == 235, (code, text)
    s.quit()
    # and mail for hosted mailboxes from the blocked IP still flows (MX role)
    s = smtp_plain(server, source=ip)
    s.sendmail("x@remote.example", [BOB], msg(frm="x@remote.example"))
    s.quit()
    assert len(server.wait_messages(BOB, 1)) == 1


def test_throttle_counts_parallel_guesses(server):
    """Many guesses sent at once on parallel connections from one IP must not
    get more password verdicts than the throttle allows (5 per window)."""
    ip, n = "127.0.0.9", 12
    conns = [smtp_tls(server, source=ip) for _ in range(n)]
    results = [None] * n
    right = n // 2  # one of them has the right password

    def go(i):
        pw = ALICE_PW if i == right else f"guess-{i}"
        results[i] = conns[i].docmd("AUTH", "PLAIN " + plain(ALICE, pw))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for c in conns:
        c.close()
    verdicts = [r for r in results if r[0] in (235, 535)]
    assert len(verdicts) <= 5, f"{len(verdicts)} password verdicts from one IP: {results}"
    assert all(r[0] in (235, 535, 454) for r in results), results


# --- suspended account ------------------------------------------------------------

def test_suspended_account_cannot_send(server):
    server.ctl("account", "suspend", "acme")
    rc, out = swaks(server, "--tls", "--auth", "PLAIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB)
    assert rc == 28, out
    m = re.search(r"535 5\.7\.8 .*", out)
    assert m and "suspended (not in good standing)" in m.group(0), out
    # through 465 too
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=ctx(server),
                          timeout=15) as s:
        s.ehlo("client.test")
        code, text = s.docmd("AUTH", "PLAIN " + plain(BOB, "bob-secret"))
        assert code == 535 and b"not in good standing" in text, (code, text)
    assert server.messages(BOB) == []
    # resumed: the same credentials work again
    server.ctl("account", "resume", "acme")
    rc, out = swaks(server, "--tls", "--auth", "PLAIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB)
    assert rc == 0, out


# --- authorized relay -------------------------------------------------------------

def test_relay_refused_unless_authenticated(server):
    # plaintext and TLS alike: no authorization, no relay
    for s in (smtp_plain(server), smtp_tls(server)):
        code, _ = s.docmd("MAIL", f"FROM:<{ALICE}>")
        assert code == 250
        code, text = s.docmd("RCPT", f"TO:<{REMOTE}>")
        assert code == 554 and text.startswith(b"5.7.1"), (code, text)
        # hosted mailboxes are still accepted (MX role), any sender
        code, text = s.docmd("RCPT", f"TO:<{BOB}>")
        assert code == 250, (code, text)
        s.quit()
    rc, out = swaks(server, "--tls", "--from", ALICE, "--to", REMOTE)
    assert rc == 24 and "554 5.7.1" in out, out
    assert queue_list(server).strip() == ""

    # authenticated: any recipient, the message waits in the queue
    s = smtp_auth(server)
    code, _ = s.docmd("MAIL", f"FROM:<{ALICE}>")
    assert code == 250
    code, text = s.docmd("RCPT", f"TO:<{REMOTE}>")
    assert code == 250, (code, text)
    code, text = s.docmd("RCPT", f"TO:<{BOB}>")
    assert code == 250, (code, text)
    code, text = send_data(s, msg(to=REMOTE))
    assert code == 250, (code, text)
    qid = re.search(rb"queued as (\S+)", text).group(1).decode()
    s.quit()
    q = queue_list(server)
    line = [l for l in q.splitlines() if l.startswith(qid)]
    assert line and f"{REMOTE}=pending" in line[0] and f"<{ALICE}>" in line[0], q
    assert len(server.wait_messages(BOB, 1)) == 1


def test_swaks_relay_through_25_with_starttls(server):
    rc, out = swaks(server, "--tls", "--auth", "LOGIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", "friend@elsewhere.example")
    assert rc == 0, out
    assert "friend@elsewhere.example=pending" in queue_list(server)


# --- submission (587) and submissions (465) ---------------------------------------

def test_submission_requires_auth_even_for_local_recipients(server):
    for s in (smtp_plain(server, server.submission_port),
              smtp_tls(server, server.submission_port)):
        code, text = s.docmd("MAIL", f"FROM:<{ALICE}>")
        assert code == 530 and text.startswith(b"5.7.0"), (code, text)
        code, text = s.docmd("RCPT", f"TO:<{BOB}>")
        assert code == 503, (code, text)
        s.quit()
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=ctx(server),
                          timeout=15) as s:
        s.ehlo("client.test")
        code, text = s.docmd("MAIL", f"FROM:<{ALICE}>")
        assert code == 530 and text.startswith(b"5.7.0"), (code, text)
    rc, out = swaks(server, "--tls", "--from", ALICE, "--to", BOB, port=server.submission_port)
    assert rc == 23 and "530 5.7.0" in out, out
    assert server.messages(BOB) == []


def test_submission_587_with_auth(server, tmp_path):
    s = smtp_auth(server, server.submission_port)
    s.sendmail(ALICE, [BOB, REMOTE], msg(to=BOB, subject="via 587"))
    s.quit()
    # msmtp and curl on 587 with STARTTLS
    rc, out = msmtp(server, tmp_path, server.submission_port, BOB)
    assert rc == 0, out
    rc, out = curl(server, f"smtp://127.0.0.1:{server.submission_port}", "--ssl-reqd",
                   "--user", f"{ALICE}:{ALICE_PW}", "--mail-from", ALICE, "--mail-rcpt", BOB,
                   tmp_path=tmp_path)
    assert rc == 0, out
    assert len(server.wait_messages(BOB, 3)) == 3
    assert f"{REMOTE}=pending" in queue_list(server)


def test_submissions_465_implicit_tls(server, tmp_path):
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, context=ctx(server),
                          timeout=15) as s:
        s.ehlo("client.test")
        assert s.has_extn("auth") and not s.has_extn("starttls"), s.esmtp_features
        code, _ = s.docmd("STARTTLS")
        assert code == 503
        s.login(ALICE, ALICE_PW)
        s.sendmail(ALICE, [BOB], msg(subject="via 465 smtplib"))
    rc, out = swaks(server, "--tlsc", "--auth", "PLAIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB, port=server.submissions_port)
    assert rc == 0, out
    rc, out = curl(server, f"smtps://127.0.0.1:{server.submissions_port}",
                   "--user", f"{ALICE}:{ALICE_PW}", "--mail-from", ALICE, "--mail-rcpt", REMOTE,
                   tmp_path=tmp_path)
    assert rc == 0, out
    rc, out = msmtp(server, tmp_path, server.submissions_port, BOB, starttls=False)
    assert rc == 0, out
    assert len(server.wait_messages(BOB, 3)) == 3
    assert f"{REMOTE}=pending" in queue_list(server)
    # a plaintext client on 465 gets no SMTP greeting in clear
    c = socket.create_connection(("127.0.0.1", server.submissions_port), timeout=3)
    c.sendall(b"EHLO client.test\r\n")
    try:
        data = c.recv(100)
    except (socket.timeout, ConnectionResetError):
        data = b""
    c.close()
    assert not data.startswith(b"220") and not data.startswith(b"250"), data


def test_curl_smtp_ssl_reqd_and_wrong_password(server, tmp_path):
    rc, out = curl(server, f"smtp://127.0.0.1:{server.smtp_port}", "--ssl-reqd",
                   "--user", f"{ALICE}:{ALICE_PW}", "--mail-from", ALICE, "--mail-rcpt", REMOTE,
                   tmp_path=tmp_path)
    assert rc == 0, out
    assert "STARTTLS" in out and "235 2.7.0" in out, out
    assert f"{REMOTE}=pending" in queue_list(server)
    rc, out = curl(server, f"smtp://127.0.0.1:{server.smtp_port}", "--ssl-reqd",
                   "--user", f"{ALICE}:wrong", "--mail-from", ALICE, "--mail-rcpt", REMOTE,
                   tmp_path=tmp_path)
    assert rc == 67, out  # CURLE_LOGIN_DENIED
    assert "535 5.7.8" in out, out


def test_msmtp_wrong_password_and_foreign_sender(server, tmp_path):
    add_other(server)
    rc, out = msmtp(server, tmp_path, server.submission_port, BOB, pw="wrong")
    assert rc != 0 and "535" in out, out
    rc, out = msmtp(server, tmp_path, server.submission_port, BOB, frm="carol@other.test")
    assert rc != 0 and "553" in out, out
    assert server.messages(BOB) == []


# --- sender affiliation -----------------------------------------------------------

def test_envelope_sender_affiliation(server):
    add_other(server)
    server.ctl("domain", "add", "acme", "acme2.test")
    s = smtp_auth(server)
    cases = {
        f"<{ALICE}>": 250,
        "<bob@acme.test>": 250,            # another mailbox of the same account
        "<ALICE@ACME.TEST>": 250,          # domains compare case-insensitively
        "<sales@acme2.test>": 250,         # any domain of the account
        "<carol@other.test>": 553,         # another hosting account's domain
        "<x@unhosted.example>": 553,
        "<x@sub.acme.test>": 553,          # a subdomain is a different domain
        "<x@acme.test.evil.example>": 553,
        "<>": 553,                         # no null sender for authorized sessions
    }
    got = {}
    for sender, want in cases.items():
        code, text = s.docmd("MAIL", f"FROM:{sender}")
        got[sender] = (code, text)
        if code == 250:
            s.docmd("RSET")
    s.quit()
    bad = {k: v for k, v in got.items() if v[0] != cases[k]}
    assert not bad, bad
    for sender, (code, text) in got.items():
        if code == 553:
            assert text.startswith(b"5.7.1"), (sender, text)
    rc, out = swaks(server, "--tls", "--auth", "PLAIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", "carol@other.test", "--to", REMOTE)
    assert rc == 23 and "553 5.7.1" in out, out
    assert REMOTE not in queue_list(server)


HEADER_FROM_OK = [
    "alice@acme.test",
    "Alice <alice@acme.test>",
    '"Alice Example" <alice@acme.test>',
    '"Example, Alice" <alice@acme.test>',
    '"carol@other.test" <alice@acme.test>',   # only the address counts, not the name
    "alice@acme.test (Alice)",
    "Alice <alice@ACME.TEST>",
    "Alice <alice@acme.test>, Bob <bob@acme.test>",
    "Alice\r\n <alice@acme.test>",            # folded
    "=?utf-8?q?Alice_=C3=A9?= <alice@acme.test>",
]
HEADER_FROM_BAD = [
    "carol@other.test",
    "Carol <carol@other.test>",
    '"Alice" <carol@other.test>',
    "Alice <alice@acme.test>, Carol <carol@other.test>",
    "Carol\r\n <carol@other.test>",           # folded
    "x@unhosted.example",
    "alice@acme.test <carol@other.test>",
    "Alice <alice@sub.acme.test>",
    "alice@acme.test\r\nFrom: carol@other.test",   # a second From: field
]


def test_header_from_affiliation(server):
    add_other(server)
    failures = []
    s = smtp_auth(server)
    for i, frm in enumerate(HEADER_FROM_OK + HEADER_FROM_BAD):
        if i and i % 6 == 0:  # a few refusals per session, below the error limit
            s.quit()
            s = smtp_auth(server)
        want = 250 if frm in HEADER_FROM_OK else 550
        code, _ = s.docmd("MAIL", f"FROM:<{ALICE}>")
        assert code == 250
        code, _ = s.docmd("RCPT", f"TO:<{REMOTE}>")
        assert code == 250
        code, text = send_data(s, msg(frm=frm, to=REMOTE, subject=f"from case {i}"))
        if code != want or (want == 550 and not text.startswith(b"5.7.1")):
            failures.append((frm, code, text))
    s.quit()
    assert not failures, failures
    # only the accepted ones are queued
    assert queue_list(server).count(f"{REMOTE}=pending") == len(HEADER_FROM_OK)


def test_header_from_checked_with_bdat_and_swaks(server):
    add_other(server)
    s = smtp_auth(server)
    s.docmd("MAIL", f"FROM:<{ALICE}>")
    s.docmd("RCPT", f"TO:<{BOB}>")
    body = msg(frm="Carol <carol@other.test>")
    s.send(f"BDAT {len(body)} LAST\r\n".encode() + body)
    code, text = s.getreply()
    assert code == 550 and text.startswith(b"5.7.1"), (code, text)
    s.quit()
    rc, out = swaks(server, "--tls", "--auth", "PLAIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB, "--h-From", "Carol <carol@other.test>")
    assert rc == 26 and "550 5.7.1" in out, out
    assert server.messages(BOB) == []


def test_header_from_after_long_header_section_still_checked(server):
    """A From: placed behind a very large header section must not slip past the
    check: either it is seen and refused, or the message is refused."""
    add_other(server)
    s = smtp_auth(server)
    s.docmd("MAIL", f"FROM:<{ALICE}>")
    s.docmd("RCPT", f"TO:<{BOB}>")
    pad = "".join(f"X-Pad-{i}: {'p' * 70}\r\n" for i in range(1000))  # ~84 KB
    code, text = send_data(s, msg(frm="Carol <carol@other.test>", extra="").replace(
        b"From:", pad.encode() + b"From:", 1))
    s.quit()
    assert code >= 500, (code, text)
    assert server.messages(BOB) == []


def test_header_from_obsolete_syntax_checked(server):
    """RFC 5322 4.5.1 obs-from allows white space before the colon
    ("From : x"); readers accept it, so the check must see it too."""
    add_other(server)
    s = smtp_auth(server)
    s.docmd("MAIL", f"FROM:<{ALICE}>")
    s.docmd("RCPT", f"TO:<{BOB}>")
    code, text = send_data(s, msg().replace(b"From: alice@acme.test", b"From : carol@other.test"))
    s.quit()
    assert code == 550, (code, text)


def test_unauthenticated_mx_mail_has_no_affiliation_check(server):
    # inbound mail from the world for a hosted mailbox: any sender, any From:
    s = smtp_tls(server)
    s.sendmail("carol@other.test", [BOB], msg(frm="Carol <carol@other.test>"))
    s.sendmail("", [BOB], msg(frm="MAILER-DAEMON@remote.example"))
    s.quit()
    assert len(server.wait_messages(BOB, 2)) == 2


# --- STARTTLS state and injection --------------------------------------------------

@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_starttls_discards_pipelined_plaintext(server, family):
    if family == "ipv4":
        c = RawSMTP(server.smtp_port)
    else:
        c = RawSMTP(server.smtp_port2, host="::1", family=socket.AF_INET6)
    assert c.reply().code == 220
    raw_ehlo(c)
    # the attack: plaintext commands pipelined behind STARTTLS in one write
    c.send(b"STARTTLS\r\nMAIL FROM:<x@y>\r\nRCPT TO:<bob@acme.test>\r\n")
    r = c.reply()
    assert r.code == 220, r
    raw_tls(c, server)
    r = raw_ehlo(c)
    assert "AUTH PLAIN LOGIN" in r.lines, r
    # no leftover replies to the injected commands come out now
    r = c.cmd("NOOP")
    assert (r.code, r.lines[0]) == (250, "2.0.0 Ok"), r
    # the injected MAIL was never executed: no transaction is open
    r = c.cmd("RCPT TO:<bob@acme.test>")
    assert r.code == 503, r
    r = c.cmd("MAIL FROM:<x@remote.example>")
    assert r.code == 250, r
    c.cmd("QUIT")
    c.close()
    assert wait_log(server, "pipelined after STARTTLS"), server.logtext()[-2000:]


def test_starttls_on_submission_discards_pipelined_auth(server):
    c = RawSMTP(server.submission_port)
    assert c.reply().code == 220
    raw_ehlo(c)
    c.send(f"STARTTLS\r\nAUTH PLAIN {plain(ALICE, ALICE_PW)}\r\n".encode())
    assert c.reply().code == 220
    raw_tls(c, server)
    raw_ehlo(c)
    # the pipelined AUTH did not authenticate the TLS session
    r = c.cmd(f"MAIL FROM:<{ALICE}>")
    assert r.code == 530, r
    c.close()


def test_starttls_forgets_ehlo(server):
    c = RawSMTP(server.smtp_port)
    c.reply()
    raw_ehlo(c)
    assert c.cmd("STARTTLS").code == 220
    raw_tls(c, server)
    r = c.cmd("MAIL FROM:<x@remote.example>")
    assert r.code == 503, r
    raw_ehlo(c)
    assert c.cmd("MAIL FROM:<x@remote.example>").code == 250
    r = c.cmd("STARTTLS")
    assert r.code == 503, r
    c.close()
    s = smtp_plain(server)
    code, text = s.docmd("STARTTLS", "now")
    assert code == 501, (code, text)
    s.quit()


# --- TLS versions and ciphers --------------------------------------------------------

def test_old_tls_versions_refused(server):
    for flag in ("-tls1", "-tls1_1"):
        rc, out = s_client(server, flag, "-cipher", "DEFAULT@SECLEVEL=0")
        assert rc != 0 and "Cipher is (NONE)" in out, (flag, out)
        rc, out = s_client(server, flag, "-cipher", "DEFAULT@SECLEVEL=0",
                           port=server.submissions_port, starttls=False)
        assert rc != 0 and "Cipher is (NONE)" in out, (flag, out)
    # TLS 1.2 with a non-forward-secret cipher is refused too
    rc, out = s_client(server, "-tls1_2", "-cipher", "AES128-SHA")
    assert rc != 0, out
    rc, out = s_client(server, "-tls1_2")
    assert rc == 0 and re.search(r"Cipher is ECDHE-|Cipher is DHE-", out), out
    rc, out = s_client(server, "-tls1_3")
    assert rc == 0 and "TLSv1.3" in out, out


def test_received_header_records_tls_and_auth(server):
    s = smtp_auth(server)
    s.sendmail(ALICE, [BOB], msg(subject="tls13"))
    s.quit()
    # a TLS 1.2 client, unauthenticated (MX role): ESMTPS
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, local_hostname="client.test", timeout=15)
    s.starttls(context=ctx(server, maximum_version=ssl.TLSVersion.TLSv1_2))
    s.sendmail("x@remote.example", [BOB], msg(frm="x@remote.example", subject="tls12"))
    s.quit()
    # plaintext: ESMTP, no "using"
    s = smtp_plain(server)
    s.sendmail("x@remote.example", [BOB], msg(frm="x@remote.example", subject="plain"))
    s.quit()
    msgs = server.wait_messages(BOB, 3)
    by = {}
    for m in msgs:
        subj = re.search(rb"^Subject: (\S+)", m, re.M).group(1).decode()
        by[subj] = received_headers(m)[0]
    r13, r12, rp = by["tls13"], by["tls12"], by["plain"]
    assert re.search(r"using TLSv1\.3 with cipher TLS_\w+", r13), r13
    assert " with ESMTPSA " in r13, r13
    assert re.search(r"using TLSv1\.2 with cipher (ECDHE|DHE)-\S+", r12), r12
    assert " with ESMTPS " in r12, r12
    assert "using" not in rp and " with ESMTP " in rp, rp


def test_ipv6_starttls_auth(server):
    s = smtplib.SMTP("::1", server.smtp_port2, local_hostname="client.test", timeout=15)
    s.ehlo()
    assert not s.has_extn("auth")
    s.starttls(context=ctx(server))  # verifies the IP:::1 subjectAltName
    s.ehlo()
    assert s.has_extn("auth")
    s.login(ALICE, ALICE_PW)
    s.sendmail(ALICE, [BOB, REMOTE], msg(subject="over ipv6"))
    s.quit()
    m = server.wait_messages(BOB, 1)
    assert m and "[::1]" in received_headers(m[0])[0], m
    assert "ESMTPSA" in received_headers(m[0])[0]
    assert f"{REMOTE}=pending" in queue_list(server)
    rc, out = swaks(server, "-6", "--tls", "--auth", "LOGIN", "--au", ALICE, "--ap", ALICE_PW,
                    "--from", ALICE, "--to", BOB, server="::1", port=server.smtp_port2)
    assert rc == 0, out


def test_auth_param_on_mail(server):
    s = smtp_auth(server)
    for arg in ("AUTH=<>", f"AUTH={ALICE}"):
        code, text = s.docmd("MAIL", f"FROM:<{ALICE}> {arg}")
        assert code == 250, (arg, code, text)
        s.docmd("RSET")
    code, _ = s.docmd("MAIL", f"FROM:<{ALICE}> AUTH=<>")
    assert code == 250
    code, _ = s.docmd("RCPT", f"TO:<{BOB}>")
    assert code == 250
    code, text = send_data(s, msg(subject="auth-param"))
    assert code == 250, (code, text)
    s.quit()
    assert len(server.wait_messages(BOB, 1)) == 1


# --- certificates: SNI and reload ---------------------------------------------------

@pytest.mark.parametrize("name,cn", [
    ("mail007.example.net", "mail007.example.net"),
    ("MAIL007.Example.NET", "mail007.example.net"),
    ("acme.mail.example.net", "*.mail.example.net"),
    ("a.b.mail.example.net", "mx.test.example"),    # a wildcard covers one label only
    ("mail.example.net", "mx.test.example"),
    ("unknown.example", "mx.test.example"),
    (None, "mx.test.example"),
])
def test_sni_picks_certificate(server, name, cn):
    args = ["-servername", name] if name else ["-noservername"]
    rc, out = s_client(server, *args)
    assert rc == 0, out
    assert subject_cn(out) == cn, out
    rc, out = s_client(server, *args, port=server.submissions_port, starttls=False)
    assert rc == 0, out
    assert subject_cn(out) == cn, out


def test_sni_name_verifies_with_real_clients(server, tmp_path):
    # a customer whose mail program connects as acme.mail.example.net
    host = "acme.mail.example.net"
    rc, out = curl(server, f"smtps://{host}:{server.submissions_port}",
                   "--resolve", f"{host}:{server.submissions_port}:127.0.0.1",
                   "--user", f"{ALICE}:{ALICE_PW}", "--mail-from", ALICE, "--mail-rcpt", BOB,
                   tmp_path=tmp_path)
    assert rc == 0, out
    rc, out = msmtp(server, tmp_path, server.submission_port, BOB, tls_host="mail007.example.net")
    assert rc == 0, out
    rc, out = swaks(server, "--tls", "--tls-sni", host, "--auth", "PLAIN",
                    "--au", ALICE, "--ap", ALICE_PW, "--from", ALICE, "--to", BOB)
    assert rc == 0, out
    assert 'peer DN="/CN=*.mail.example.net"' in out, out
    assert len(server.wait_messages(BOB, 3)) == 3


def test_sighup_reloads_certificates(tmp_path):
    base = Hostmail(tmp_path)
    pki = dict(base.pki)
    d = str(tmp_path / "pki")
    shutil.copytree(pki["dir"], d)
    base.pki = dict(pki, dir=d, crt=os.path.join(d, "default.crt"),
                    key=os.path.join(d, "default.key"), sni=os.path.join(d, "sni"))
    base.write_config()
    setup_demo(base)
    base.start()
    try:
        rc, out = s_client(base, "-noservername")
        assert rc == 0 and subject_cn(out) == "mx.test.example", out

        def leaf(path, cn):
            def ossl(*a):
                subprocess.run(["openssl", *a], check=True, capture_output=True, timeout=60)
            ext = path + ".ext"
            with open(ext, "w") as f:
                f.write(f"subjectAltName=DNS:{cn},DNS:localhost,IP:127.0.0.1\n")
            ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                 "-keyout", path + ".key.new", "-out", path + ".csr")
            ossl("x509", "-req", "-in", path + ".csr", "-CA", os.path.join(d, "ca.crt"),
                 "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "3",
                 "-extfile", ext, "-out", path + ".crt.new")
            # the daemon reloads as its own user: a key it may read, as an
            # operator would give it (root:hostmail 0640)
            if RUN_AS:
                os.chown(path + ".key.new", 0, pwd.getpwnam(RUN_AS).pw_gid)
                os.chmod(path + ".key.new", 0o640)
            os.rename(path + ".key.new", path + ".key")
            os.rename(path + ".crt.new", path + ".crt")

        # renewed default certificate, and a new SNI name
        leaf(os.path.join(d, "default"), "renewed.test.example")
        leaf(os.path.join(d, "sni", "mail042.example.net"), "mail042.example.net")
        # nothing changes until SIGHUP
        rc, out = s_client(base, "-noservername")
        assert subject_cn(out) == "mx.test.example", out
        base.proc.send_signal(signal.SIGHUP)
        assert wait_log(base, "reload: configuration")
        rc, out = s_client(base, "-noservername")
        assert rc == 0 and subject_cn(out) == "renewed.test.example", out
        rc, out = s_client(base, "-servername", "mail042.example.net",
                           port=base.submissions_port, starttls=False)
        assert rc == 0 and subject_cn(out) == "mail042.example.net", out
        # the renewed certificate verifies, and AUTH works
        s = smtp_auth(base)
        s.sendmail(ALICE, [BOB], msg())
        s.quit()

        # a broken certificate at the next reload keeps the loaded ones
        with open(os.path.join(d, "default.crt"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        n = base.logtext().count("reload: configuration")
        base.proc.send_signal(signal.SIGHUP)
        wait_log(base, "reload: configuration", count=n + 1)
        assert "keeping the old certificates" in base.logtext()
        rc, out = s_client(base, "-noservername")
        assert rc == 0 and subject_cn(out) == "renewed.test.example", out
        assert base.proc.poll() is None
        assert len(base.wait_messages(BOB, 1)) == 1
    finally:
        base.stop()
