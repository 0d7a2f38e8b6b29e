"""Fair use (issue 6): size, recipient caps and per-account budgets,
connection limits, TLS handshake deadline, protocol abuse. Real hostmaild,
real clients (smtplib, raw sockets); every refusal checked by its reply
code and its log line."""
import select
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import RawSMTP, message_files, queue_files, setup_demo


def tls_context(hm):
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    return ctx


def auth_session(hm, source="127.0.0.1"):
    s = smtplib.SMTP("127.0.0.1", hm.smtp_port, timeout=15, source_address=(source, 0))
    s.starttls(context=tls_context(hm))
    s.login("alice@acme.test", "alice-secret")
    s.ehlo()
    return s


def rcpt_codes(s, rcpts):
    s.mail("alice@acme.test")
    out = [s.rcpt(r) for r in rcpts]
    s.rset()
    return out


def test_size_declared_over_limit(make_server):
    hm = make_server()
    c = RawSMTP(hm.smtp_port)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd("MAIL FROM:<x@client.test> SIZE=1048577")
    assert (r.code, r.enh) == (552, "5.3.4")
    r = c.cmd("MAIL FROM:<x@client.test> SIZE=1048576")
    assert r.code == 250


def test_no_room_on_disk(make_server):
    hm = make_server("[limits]\nmin_free_space = 1000000000000000000\n")
    c = RawSMTP(hm.smtp_port)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd("MAIL FROM:<x@client.test> SIZE=100")
    assert (r.code, r.enh) == (452, "4.3.1")
    assert "Insufficient system storage" in r.text
    assert "452 4.3.1" in hm.logtext()


def test_max_recipients_per_message(make_server):
    hm = make_server("[limits]\nmax_recipients = 2\n")
    c = RawSMTP(hm.smtp_port)
    c.reply()
    c.cmd("EHLO client.test")
    assert c.cmd("MAIL FROM:<x@client.test>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("RCPT TO:<bob@acme.test>").code == 250
    r = c.cmd("RCPT TO:<alice@acme.test>")
    assert (r.code, r.enh) == (452, "4.5.3")


def test_account_override_of_max_recipients(make_server):
    hm = make_server()
    hm.ctl("account", "limits", "acme", "--max-recipients", "2")
    s = auth_session(hm)
    codes = [c for c, _ in rcpt_codes(s, ["a@remote.test", "b@remote.test", "c@remote.test"])]
    assert codes == [250, 250, 452]
    s.quit()


def test_hourly_budget_counts_across_sessions_and_restarts(make_server):
    hm = make_server()
    hm.ctl("account", "limits", "acme", "--per-hour", "3")
    s = auth_session(hm)
    s.sendmail("alice@acme.test", ["a@remote.test", "b@remote.test"],
               "From: alice@acme.test\r\nSubject: one\r\n\r\nbody\r\n")
    s.quit()
    hm.stop()
    hm.start()
    s = auth_session(hm)
    codes = rcpt_codes(s, ["c@remote.test", "d@remote.test"])
    assert codes[0][0] == 250
    code, text = codes[1]
    assert code == 450
    text = text.decode()
    assert text.startswith("4.7.1") and "hourly limit of 3 recipients reached" in text
    assert "resets at" in text and "UTC" in text
    s.quit()
    log = hm.logtext()
    assert "450 4.7.1 account=acme" in log and "hourly limit" in log


def test_daily_budget(make_server):
    hm = make_server("[limits]\nrecipients_per_day = 1\n")
    s = auth_session(hm)
    codes = rcpt_codes(s, ["a@remote.test", "b@remote.test"])
    assert codes[0][0] == 250
    assert codes[1][0] == 450 and b"daily limit of 1 recipients" in codes[1][1]
    s.quit()


def test_budget_does_not_apply_to_inbound_mx_mail(make_server):
    hm = make_server("[limits]\nrecipients_per_hour = 0\n")
    s = smtplib.SMTP("127.0.0.1", hm.smtp_port, timeout=15)
    s.sendmail("someone@internet.test", ["alice@acme.test"], "Subject: in\r\n\r\nhi\r\n")
    s.quit()
    assert len(hm.wait_messages("alice@acme.test", 1)) == 1


def test_connections_per_ip(make_server):
    hm = make_server("[limits]\nmax_connections_per_ip = 2\n")
    a, b = RawSMTP(hm.smtp_port), RawSMTP(hm.smtp_port)
    assert a.reply().code == 220 and b.reply().code == 220
    c = RawSMTP(hm.smtp_port)
    r = c.reply()
    assert (r.code, r.enh) == (421, "4.7.0")
    assert "too many connections from your address" in r.text
    assert c.closed()
    # another address is not affected
    d = RawSMTP(hm.smtp_port, host="127.0.0.1")
    d.sock.close()
    e = socket.create_connection(("127.0.0.1", hm.smtp_port), source_address=("127.0.0.2", 0), timeout=5)
    assert e.recv(100).startswith(b"220 ")
    e.close()
    # a slot is free again once a session ends
    a.cmd("QUIT")
    a.closed()                          # the slot is given back before the close (conn.c)
    f = RawSMTP(hm.smtp_port)
    assert f.reply().code == 220
    assert "refused: too many connections from this address" in hm.logtext()


def test_connections_total(make_server):
    hm = make_server("[limits]\nmax_connections = 1\n")
    a = RawSMTP(hm.smtp_port)
    assert a.reply().code == 220
    e = socket.create_connection(("127.0.0.1", hm.smtp_port), source_address=("127.0.0.3", 0), timeout=5)
    assert e.recv(200).startswith(b"421 4.7.0")
    e.close()


def test_tls_handshake_deadline(make_server):
    hm = make_server("[smtp]\ntls_handshake_timeout = 1\n")
    sock = socket.create_connection(("127.0.0.1", hm.submissions_port), timeout=10)
    start = time.time()
    assert sock.recv(100) == b""        # closed without a byte from us
    assert time.time() - start < 8
    assert "TLS handshake timeout" in hm.logtext()


def client_hello():
    """The first flight of a real TLS client (Python's ssl), as bytes."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def seconds_until_closed_while_trickling(sock, data, every=0.4, limit=15.0):
    """Send data a byte at a time; how long until the server closes."""
    start = time.time()
    for b in data:
        try:
            sock.sendall(bytes([b]))
        except OSError:
            return time.time() - start
        r, _, _ = select.select([sock], [], [], every)
        if r:
            try:
                if sock.recv(4096) == b"":
                    return time.time() - start
            except OSError:
                return time.time() - start
        if time.time() - start > limit:
            break
    return None


@pytest.mark.parametrize("port", ["submissions_port", "pop3s_port", "starttls"])
def test_tls_handshake_deadline_holds_against_a_trickling_client(make_server, port):
    """A ClientHello sent a byte every 0.4 s restarts any idle timer; the
    deadline counts from the start of the handshake and still ends it."""
    hm = make_server("[smtp]\ntls_handshake_timeout = 2\n")
    hello = client_hello()
    assert len(hello) > 100           # would take 40 s and more at this pace
    if port == "starttls":
        sock = socket.create_connection(("127.0.0.1", hm.smtp_port), timeout=10)
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(b"EHLO client.test\r\n")
        while f.readline()[3:4] == b"-":
            pass
        sock.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220")
    else:
        sock = socket.create_connection(("127.0.0.1", getattr(hm, port)), timeout=10)
    took = seconds_until_closed_while_trickling(sock, hello)
    sock.close()
    assert took is not None and took < 8, took
    assert "TLS handshake timeout" in hm.logtext()


def test_bare_lf_and_cr_are_normalized_never_end_data(make_server):
    hm = make_server()
    c = RawSMTP(hm.smtp_port)
    c.reply()
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<x@client.test>")
    c.cmd("RCPT TO:<alice@acme.test>")
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: bare\r\n\r\nline1\nline2\r.\rMAIL FROM:<evil@x>\r\n.\r\n")
    r = c.reply()
    assert r.code == 250
    msgs = hm.wait_messages("alice@acme.test", 1)
    assert len(msgs) == 1
    body = msgs[0].split(b"\n\n", 1)[1]
    # every line end became a proper one; Maildir stores LF
    assert body == b"line1\nline2\n.\nMAIL FROM:<evil@x>\n"
    assert "normalized 3 bare CR/LF" in hm.logtext()


def test_content_before_354_is_refused(make_server):
    hm = make_server()
    c = RawSMTP(hm.smtp_port)
    c.reply()
    c.cmd("EHLO client.test")
    c.send("MAIL FROM:<x@client.test>\r\nRCPT TO:<alice@acme.test>\r\nDATA\r\nSubject: early\r\n\r\nhi\r\n.\r\n")
    assert c.reply().code == 250
    assert c.reply().code == 250
    r = c.reply()
    assert (r.code, r.enh) == (554, "5.5.0")
    assert c.closed()
    hm.wait_sessions_done()
    assert message_files(hm, "alice@acme.test") == []
    assert queue_files(hm, "env") == []


@pytest.mark.parametrize("line,code", [
    ("MAIL FROM:<a\x00b@client.test>", 500),          # NUL: not a command line at all
    ("MAIL FROM:<a\rb@client.test>", 501),
    ("MAIL FROM:<" + "a" * 65 + "@client.test>", 501),
    ("MAIL FROM:<a@" + ("b" * 63 + ".") * 4 + "test>", 501),
    ("MAIL FROM:<\"unterminated@client.test>", 501),
    ("MAIL FROM:<;sleep 66;>", 501),
])
def test_hostile_parameters(make_server, line, code):
    hm = make_server()
    c = RawSMTP(hm.smtp_port)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd(line.encode("latin-1"))
    assert r.code == code
    assert queue_files(hm, "env") == []
    # refused in one log line with the IP and the code, the bytes escaped
    log = hm.logtext()
    assert "\x00" not in log and "a\rb" not in log
    refused = [l for l in log.splitlines() if f"ip=127.0.0.1: refused: reply=\"{code} 5." in l]
    assert refused, log[-2000:]


# --- more of the named cases -------------------------------------------------

def vm_hwm_kb(pid):
    """The daemon's peak resident memory (VmHWM), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def under_asan(pid):
    """ASan keeps freed memory in quarantine: peak memory says little there."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def send_big(sock, total, chunk=b"a" * 65536):
    left = total
    while left > 0:
        n = min(left, len(chunk))
        sock.sendall(chunk[:n])
        left -= n


def test_huge_lines_without_crlf_use_bounded_memory(make_server):
    """A 20 MB command line, and a 20 MB line inside a message, both without
    a line end for all that time: the first gets 500 5.5.6 and the session
    goes on, the second is stored as it streams; the daemon's peak memory
    does not grow with them, and it serves the next client."""
    hm = make_server("[limits]\nmessage_size = 41943040\n")
    pid = hm.proc.pid
    before = vm_hwm_kb(pid)
    c = RawSMTP(hm.smtp_port, timeout=60)
    c.reply()
    c.cmd("EHLO client.test")
    c.send(b"MAIL FROM:<")
    send_big(c.sock, 20 * 1024 * 1024)
    c.send(b">\r\n")
    r = c.reply()
    assert (r.code, r.enh) == (500, "5.5.6"), r
    assert c.cmd("NOOP").code == 250
    assert c.cmd("MAIL FROM:<x@client.test>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: long line\r\n\r\n")
    send_big(c.sock, 20 * 1024 * 1024, b"b" * 65536)
    c.send(b"\r\n.\r\n")
    assert c.reply().code == 250
    c.cmd("QUIT")
    msgs = hm.wait_messages("alice@acme.test", 1, timeout=60)
    assert len(msgs) == 1 and b"\n" + b"b" * (20 * 1024 * 1024) + b"\n" in msgs[0]
    if not under_asan(pid):
        grew = vm_hwm_kb(pid) - before
        assert grew < 16 * 1024, f"peak memory grew by {grew} KiB for 40 MB of long lines"
    with smtplib.SMTP("127.0.0.1", hm.smtp_port, timeout=15) as s:
        assert s.noop()[0] == 250


def test_bdat_over_the_size_limit(make_server):
    """CHUNKING: chunks that together pass message_size are read to the end
    (the session stays in step) and refused with 552 5.3.4; nothing queued."""
    hm = make_server()                       # message_size = 1 MiB
    c = RawSMTP(hm.smtp_port, timeout=30)
    c.reply()
    c.cmd("EHLO client.test")
    assert c.cmd("MAIL FROM:<x@client.test>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    chunk = b"Subject: big\r\n\r\n" + b"x" * (700 * 1024 - 16)
    c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
    first = c.reply()
    c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    last = c.reply()
    codes = (first.code, last.code)
    assert codes in ((250, 552), (552, 552)), (first, last)
    assert last.enh == "5.3.4" and "size" in last.text.lower()
    assert c.cmd("NOOP").code == 250            # still in step
    assert queue_files(hm, "env") == [] and message_files(hm, "alice@acme.test") == []


def test_hourly_budget_shared_by_auth_and_pop_before_smtp(make_server):
    """One account, two ways in: recipients relayed after SMTP AUTH and
    after POP-before-SMTP count against the same hourly budget."""
    from test_pop3 import pop_login
    hm = make_server()
    hm.ctl("account", "limits", "acme", "--per-hour", "3")
    s = auth_session(hm)
    s.sendmail("alice@acme.test", ["a@remote.test", "b@remote.test"],
               "From: alice@acme.test\r\nSubject: one\r\n\r\nbody\r\n")
    s.quit()
    p = pop_login(hm, source="127.0.0.2")
    p.quit()
    with smtplib.SMTP("127.0.0.1", hm.smtp_port, timeout=15, source_address=("127.0.0.2", 0)) as s:
        s.ehlo("client.test")
        assert s.mail("alice@acme.test")[0] == 250
        assert s.rcpt("c@remote.test")[0] == 250
        code, text = s.rcpt("d@remote.test")
        assert code == 450 and b"hourly limit of 3 recipients reached" in text, (code, text)
    assert "450 4.7.1 account=acme" in hm.logtext()


def test_account_override_of_the_daily_budget(make_server):
    """hostmailctl account limits --per-day takes effect on the next RCPT."""
    hm = make_server()
    hm.ctl("account", "limits", "acme", "--per-day", "2")
    s = auth_session(hm)
    codes = rcpt_codes(s, ["a@remote.test", "b@remote.test", "c@remote.test"])
    assert [c for c, _ in codes] == [250, 250, 450]
    assert b"daily limit of 2 recipients" in codes[2][1]
    s.quit()


def test_listen_backlog_holds_a_burst_of_connections(server):
    """Every listener keeps 1024 connections waiting to be accepted (or the
    kernel's somaxconn, if lower), not libevent's default 128: a burst of
    clients is not dropped before the daemon gets to them. The backlog of
    a listening socket is what ss shows as Send-Q."""
    with open("/proc/sys/net/core/somaxconn") as f:
        want = min(1024, int(f.read()))
    for name in ("smtp_port", "submission_port", "submissions_port", "pop3_port", "pop3s_port", "acc_port"):
        port = getattr(server, name)
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                             check=True).stdout.split()
        assert out and int(out[2]) == want, (name, out)
