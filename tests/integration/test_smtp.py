"""The SMTP receiving server, as a client sees it: greeting and extensions,
delivery into the Maildir with exact content, recipients policy, command
sequence and syntax errors, limits, pipelining, SMTP smuggling, IPv6 and
signals. Real clients only: smtplib, swaks and raw sockets."""
import os
import re
import signal
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import (RawSMTP, message_files, queue_files, queued_id, wait_for)

HOST = "mx.test.example"
ENH_RE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} ")


def smtp(server, **kw):
    return smtplib.SMTP("127.0.0.1", server.smtp_port, local_hostname="client.test",
                        timeout=kw.pop("timeout", 10))


def raw(server, ehlo=True):
    c = RawSMTP(server.smtp_port)
    g = c.reply()
    assert g.code == 220, g
    if ehlo:
        r = c.cmd("EHLO client.test")
        assert r.code == 250, r
    return c


def split_delivered(data):
    """Split a delivered file into (Return-Path line, Delivered-To line,
    the Received: header (unfolded), the rest = the message as sent)."""
    lines = data.split(b"\n")
    assert lines[0].startswith(b"Return-Path: "), data[:300]
    assert lines[1].startswith(b"Delivered-To: "), data[:300]
    assert lines[2].startswith(b"Received: "), data[:300]
    i = 3
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    received = b" ".join(l.strip() for l in lines[2:i])
    rest = b"\n".join(lines[i:])
    return lines[0], lines[1], received, rest


def lf(msg):
    return msg.replace(b"\r\n", b"\n")


MSG = (b"From: Sender <sender@example.org>\r\n"
       b"To: Alice <alice@acme.test>\r\n"
       b"Subject: exact content check\r\n"
       b"Message-Id: <exact-1@example.org>\r\n"
       b"\r\n"
       b"First line of the body.\r\n"
       b".hello starts with a dot\r\n"
       b"..two dots\r\n"
       b".\r\n"
       b"a line with trailing spaces   \r\n"
       b"\tand a tab\r\n"
       b"\r\n"
       b"last line\r\n")


# --- greeting, EHLO, HELO ----------------------------------------------------

def test_greeting_names_the_host(server):
    c = RawSMTP(server.smtp_port)
    g = c.reply()
    assert g.code == 220
    assert g.lines[-1].split()[0] == HOST, g
    c.close()


def test_ehlo_extensions(server):
    s = smtp(server)
    code, msg = s.ehlo("client.test")
    assert code == 250
    assert msg.split(b"\n")[0].split()[0] == HOST.encode(), msg
    assert s.has_extn("pipelining")
    assert s.has_extn("size") and s.esmtp_features["size"].strip() == "1048576"
    assert s.has_extn("8bitmime")
    assert s.has_extn("enhancedstatuscodes")
    s.quit()


def test_helo(server):
    c = raw(server, ehlo=False)
    r = c.cmd("HELO client.test")
    assert r.code == 250 and len(r.lines) == 1, r
    assert HOST in r.lines[0]
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("QUIT").code == 221
    c.close()


def test_every_reply_has_an_enhanced_status_code(server):
    """RFC 2034: every reply except the greeting and HELO/EHLO carries an
    enhanced code (354 is an intermediate reply: RFC 3463 has no class 3)."""
    c = raw(server)
    cmds = ["NOOP", "HELP", "VRFY alice", "RCPT TO:<alice@acme.test>", "FOO",
            "MAIL FROM:bad", "MAIL FROM:<s@example.org>", "MAIL FROM:<s@example.org>",
            "RCPT TO:<alice@acme.test>", "RCPT TO:<nobody@acme.test>",
            "RCPT TO:<x@elsewhere.test>", "RSET", "MAIL FROM:<s@example.org>",
            "RCPT TO:<alice@acme.test>"]
    bad = []
    for cmd in cmds:
        r = c.cmd(cmd)
        for line in r.lines:
            if not ENH_RE.match(line):
                bad.append((cmd, r.code, line))
    r = c.cmd("DATA")
    assert r.code == 354
    c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
    r = c.reply()
    assert r.code == 250
    if not ENH_RE.match(r.lines[0]):
        bad.append(("<end of data>", r.code, r.lines[0]))
    r = c.cmd("QUIT")
    if not ENH_RE.match(r.lines[0]):
        bad.append(("QUIT", r.code, r.lines[0]))
    assert not bad, bad


# --- delivery ----------------------------------------------------------------

def test_deliver_with_smtplib_exact_content(server):
    s = smtp(server)
    s.ehlo()
    assert s.mail("sender@example.org")[0] == 250
    assert s.rcpt("alice@acme.test")[0] == 250
    code, text = s.data(MSG)
    s.quit()
    assert code == 250, text
    assert re.match(rb"^2\.0\.0 Ok: queued as \S+$", text), text
    qid = queued_id(text)

    msgs = server.wait_messages("alice@acme.test", 1)
    assert len(msgs) == 1
    data = msgs[0]
    assert b"\r" not in data, "Maildir file must have LF line ends"
    rp, dt, received, rest = split_delivered(data)
    assert rp == b"Return-Path: <sender@example.org>"
    assert dt == b"Delivered-To: alice@acme.test"
    assert HOST.encode() in received, received
    # the message exactly as sent, dot-unstuffed, with LF line ends
    assert rest == lf(MSG)
    assert b"\n.hello starts with a dot\n..two dots\n.\n" in rest
    # the queue id shows in the log
    assert qid in server.logtext()


def big_message(tag):
    """About 0.9 MB (the test server takes 1 MB): many pieces the server writes to its spool (128 KB each),
    lines that start with a dot, long lines, a CR and an LF that sit at
    every offset of a piece boundary sooner or later."""
    lines = [b"From: Sender <sender@example.org>", b"To: Alice <alice@acme.test>",
             b"Subject: %s" % tag, b""]
    for i in range(15000):
        lines.append(b"." * (i % 3) + b"line %d " % i + b"x" * (i * 7 % 90))
        if i % 1000 == 0:
            lines.append(b"y" * 990)
    return b"\r\n".join(lines) + b"\r\n"


def test_large_message_exact_through_data_and_bdat(server):
    """A message far larger than one spool write arrives byte for byte,
    sent with DATA (dot-stuffed by smtplib) and with BDAT in uneven chunks."""
    msg = big_message(b"big data")
    s = smtp(server)
    s.ehlo()
    assert s.mail("sender@example.org")[0] == 250
    assert s.rcpt("alice@acme.test")[0] == 250
    code, text = s.data(msg)
    s.quit()
    assert code == 250, text

    msg2 = big_message(b"big bdat")
    c = raw(server)
    try:
        assert c.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
        cuts = [0, 1, 131071, 131073 + 65536, 700001, len(msg2)]
        for a, b in zip(cuts, cuts[1:]):
            last = b" LAST" if b == len(msg2) else b""
            c.send(b"BDAT %d%s\r\n" % (b - a, last) + msg2[a:b])
            r = c.reply()
            assert r.code == 250, r
        assert "queued as" in r.lines[0], r
    finally:
        c.close()

    msgs = server.wait_messages("alice@acme.test", 2)
    bodies = sorted(split_delivered(m)[3] for m in msgs)
    assert bodies == sorted([lf(msg), lf(msg2)])


def test_maildir_name_has_size(server):
    s = smtp(server)
    s.sendmail("sender@example.org", ["alice@acme.test"], MSG)
    s.quit()
    assert len(server.wait_messages("alice@acme.test", 1)) == 1
    (path,) = message_files(server, "alice@acme.test")
    assert os.path.dirname(path).endswith("/new")
    m = re.search(r",S=(\d+)", os.path.basename(path))
    assert m, path
    assert int(m.group(1)) == os.path.getsize(path)
    md = server.maildir("alice@acme.test")
    for sub in ("tmp", "new", "cur"):
        assert os.path.isdir(os.path.join(md, sub))


def test_deliver_with_swaks_exact_content(server, tmp_path):
    body = (b"From: swaks@example.org\r\n"
            b"To: alice@acme.test\r\n"
            b"Subject: sent by swaks\r\n"
            b"\r\n"
            b"swaks body line\r\n"
            b".leading dot\r\n"
            b"end\r\n")
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(server.smtp_port),
                        "--ehlo", "client.test", "--from", "swaks@example.org",
                        "--to", "alice@acme.test", "--data", "-", "--timeout", "10"],
                       # swaks ends the data with its own CRLF before the "."
                       input=body[:-2], capture_output=True, timeout=30)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out + r.stderr.decode()
    assert re.search(r"<-\s+250 2\.0\.0 Ok: queued as \S+", out), out
    msgs = server.wait_messages("alice@acme.test", 1)
    assert len(msgs) == 1
    rp, dt, received, rest = split_delivered(msgs[0])
    assert rp == b"Return-Path: <swaks@example.org>"
    assert dt == b"Delivered-To: alice@acme.test"
    assert HOST.encode() in received
    assert rest == lf(body)


def test_swaks_default_message(server):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.smtp_port}",
                        "--to", "alice@acme.test", "--from", "someone@example.org",
                        "--header", "Subject: swaks-default-token"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    msgs = server.wait_messages("alice@acme.test", 1)
    assert len(msgs) == 1 and b"Subject: swaks-default-token\n" in msgs[0]


def test_null_sender(server):
    s = smtp(server)
    s.ehlo()
    assert s.mail("<>")[0] == 250
    assert s.rcpt("alice@acme.test")[0] == 250
    assert s.data(b"Subject: bounce\r\n\r\nnull sender\r\n")[0] == 250
    s.quit()
    msgs = server.wait_messages("alice@acme.test", 1)
    assert msgs and msgs[0].startswith(b"Return-Path: <>\n")


def test_multiple_recipients_each_get_a_copy(server):
    s = smtp(server)
    refused = s.sendmail("sender@example.org", ["alice@acme.test", "bob@acme.test"],
                         b"Subject: for both\r\n\r\nhello both\r\n")
    s.quit()
    assert refused == {}
    a = server.wait_messages("alice@acme.test", 1)
    b = server.wait_messages("bob@acme.test", 1)
    assert len(a) == 1 and len(b) == 1
    assert b"\nDelivered-To: alice@acme.test\n" in b"\n" + a[0]
    assert b"\nDelivered-To: bob@acme.test\n" in b"\n" + b[0]
    assert split_delivered(a[0])[3] == split_delivered(b[0])[3] == b"Subject: for both\n\nhello both\n"


def test_recipient_case_insensitive(server):
    s = smtp(server)
    s.ehlo()
    assert s.mail("sender@example.org")[0] == 250
    assert s.rcpt("ALICE@ACME.TEST")[0] == 250
    assert s.rcpt("bob@Acme.Test")[0] == 250
    assert s.data(b"Subject: case\r\n\r\nupper case rcpt\r\n")[0] == 250
    s.quit()
    assert len(server.wait_messages("alice@acme.test", 1)) == 1
    assert len(server.wait_messages("bob@acme.test", 1)) == 1
    # no second Maildir under an upper-case name
    assert sorted(os.listdir(os.path.join(server.data_dir, "mail"))) == ["acme.test"]


def test_8bit_body_kept(server):
    body = "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße, café, 日本\r\n".encode()
    s = smtp(server)
    s.ehlo()
    assert s.mail("sender@example.org", ["BODY=8BITMIME"])[0] == 250
    assert s.rcpt("alice@acme.test")[0] == 250
    assert s.data(body)[0] == 250
    s.quit()
    msgs = server.wait_messages("alice@acme.test", 1)
    assert split_delivered(msgs[0])[3] == lf(body)


# --- recipient policy ---------------------------------------------------------

def test_unknown_user_in_hosted_domain(server):
    c = raw(server)
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    r = c.cmd("RCPT TO:<nobody@acme.test>")
    assert r.code == 550 and r.enh == "5.1.1", r
    c.cmd("QUIT")


def test_relay_denied(server):
    c = raw(server)
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    for rcpt in ("someone@other.test", "alice@sub.acme.test", "alice@acme.test.evil.example"):
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        assert r.code == 554 and r.enh == "5.7.1", (rcpt, r)
    c.cmd("QUIT")


@pytest.mark.parametrize("path", [
    "<@acme.test:alice@other.test>",          # source route to a foreign domain
    "<@acme.test,@mx.test.example:alice@other.test>",
    "<alice%other.test@acme.test>",            # percent hack via a hosted domain
    "<alice%acme.test@other.test>",
    "<\"alice@acme.test\"@other.test>",        # quoted local part with an @
    "<alice@acme.test@other.test>",
    "<alice@other.test!acme.test>",
    "<other.test!alice@acme.test>",            # bang path
    "<alice@[127.0.0.1]>",                     # address literal: not hosted
])
def test_tricky_recipient_never_delivered(server, path):
    c = raw(server)
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    r = c.cmd(f"RCPT TO:{path}")
    assert r.code in (501, 550, 553, 554), (path, r)
    assert r.code != 550 or r.enh == "5.1.1", r
    assert r.code != 554 or r.enh == "5.7.1", r
    # DATA with no valid recipient is refused too
    r = c.cmd("DATA")
    assert r.code in (503, 554), r
    c.cmd("QUIT")
    c.close()
    server.wait_sessions_done()
    mail = os.path.join(server.data_dir, "mail")
    assert not os.path.isdir(mail) or sorted(os.listdir(mail)) in ([], ["acme.test"])
    assert server.messages("alice@acme.test") == []
    assert queue_files(server, "env") == []


def test_source_route_to_hosted_domain_is_ignored(server):
    """RFC 5321 4.1.2 / C: the route is ignored; the mailbox is alice@acme.test."""
    c = raw(server)
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    r = c.cmd("RCPT TO:<@other.test:alice@acme.test>")
    assert r.code in (250, 501, 553), r
    c.cmd("QUIT")


# --- command sequence and syntax -----------------------------------------------

def test_sequence_and_syntax_errors(server):
    c = raw(server)
    r = c.cmd("RCPT TO:<alice@acme.test>")
    assert r.code == 503 and r.enh == "5.5.1", r
    r = c.cmd("DATA")
    assert r.code == 503, r
    r = c.cmd("MAIL FROM:bad")
    assert r.code == 501 and r.enh and r.enh.startswith("5."), r
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    r = c.cmd("MAIL FROM:<s@example.org>")
    assert r.code == 503 and r.enh == "5.5.1", r
    r = c.cmd("DATA")
    assert r.code in (503, 554), r
    r = c.cmd("RCPT TO:alice@acme.test")   # no angle brackets
    assert r.code in (250, 501), r
    c.cmd("QUIT")


def test_unknown_command(server):
    c = raw(server)
    r = c.cmd("FROBNICATE now")
    assert r.code == 500 and r.enh == "5.5.2", r
    assert c.cmd("NOOP").code == 250
    c.cmd("QUIT")


def test_vrfy_help_noop(server):
    c = raw(server)
    r = c.cmd("VRFY alice")
    assert r.code == 252, r
    r2 = c.cmd("VRFY nobody")
    assert r2.code == 252, r2          # no enumeration: same answer for a non-user
    assert c.cmd("HELP").code == 214
    r = c.cmd("NOOP")
    assert r.code == 250 and r.enh == "2.0.0", r
    c.cmd("QUIT")


def test_rset_clears_the_transaction(server):
    c = raw(server)
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    r = c.cmd("RSET")
    assert r.code == 250 and r.enh == "2.0.0", r
    r = c.cmd("RCPT TO:<alice@acme.test>")
    assert r.code == 503, r
    assert c.cmd("MAIL FROM:<t@example.org>").code == 250
    assert c.cmd("RCPT TO:<bob@acme.test>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: after rset\r\n\r\nbody\r\n.\r\n")
    assert c.reply().code == 250
    c.cmd("QUIT")
    assert len(server.wait_messages("bob@acme.test", 1)) == 1
    assert server.messages("alice@acme.test") == []
    assert server.messages("bob@acme.test")[0].startswith(b"Return-Path: <t@example.org>\n")


def test_quit_closes(server):
    c = raw(server)
    r = c.cmd("QUIT")
    assert r.code == 221 and r.enh == "2.0.0", r
    assert c.closed(timeout=5)


def test_overlong_command_line(server):
    c = raw(server)
    r = c.cmd("NOOP " + "x" * 10000)
    assert r.code == 500 and r.enh == "5.5.6", r
    # exactly one reply for that line: the next command gets its own reply
    r = c.cmd("NOOP")
    assert r.code == 250, r
    r = c.cmd("MAIL FROM:<" + "a" * 9000 + "@example.org>")
    assert r.code == 500 and r.enh == "5.5.6", r
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: after overlong\r\n\r\nstill fine\r\n.\r\n")
    assert c.reply().code == 250
    assert c.cmd("QUIT").code == 221
    assert len(server.wait_messages("alice@acme.test", 1)) == 1


def test_long_body_lines_are_not_command_lines(server):
    """A 20000-byte line inside DATA is message content, not an error."""
    body = b"Subject: long line\r\n\r\n" + b"y" * 20000 + b"\r\nend\r\n"
    s = smtp(server)
    assert s.sendmail("s@example.org", ["alice@acme.test"], body) == {}
    s.quit()
    msgs = server.wait_messages("alice@acme.test", 1)
    assert split_delivered(msgs[0])[3] == lf(body)


def test_too_many_errors_disconnects(make_server):
    h = make_server("[smtp]\nmax_errors = 3\n")
    c = RawSMTP(h.smtp_port)
    assert c.reply().code == 220
    assert c.cmd("EHLO client.test").code == 250
    codes = []
    for i in range(6):
        try:
            c.send(f"BOGUS{i}\r\n")
            r = c.reply()
        except (EOFError, ConnectionError):
            break
        codes.append(r.code)
        if r.code == 421:
            break
    assert 421 in codes, codes
    assert codes.index(421) <= 3, codes          # at the 3rd or 4th error
    assert all(code == 500 for code in codes[:codes.index(421)]), codes
    assert c.closed(timeout=5)
    # a fresh session is fine
    c2 = RawSMTP(h.smtp_port)
    assert c2.reply().code == 220
    assert c2.cmd("NOOP").code == 250
    c2.close()


def test_idle_timeout(make_server):
    h = make_server("[smtp]\ntimeout = 2\n")
    c = RawSMTP(h.smtp_port, timeout=10)
    assert c.reply().code == 220
    assert c.cmd("EHLO client.test").code == 250
    t0 = time.time()
    r = c.reply()
    elapsed = time.time() - t0
    assert r.code == 421 and r.enh == "4.4.2", r
    assert 1.5 <= elapsed <= 6, elapsed
    assert c.closed(timeout=5)


def test_idle_timeout_before_ehlo_and_in_data(make_server):
    h = make_server("[smtp]\ntimeout = 2\ndata_timeout = 2\n")
    c = RawSMTP(h.smtp_port, timeout=10)
    assert c.reply().code == 220
    r = c.reply()
    assert r.code == 421, r
    assert c.closed(timeout=5)
    # stalled in the middle of DATA: 421, nothing delivered
    c = RawSMTP(h.smtp_port, timeout=10)
    assert c.reply().code == 220
    assert c.cmd("EHLO client.test").code == 250
    assert c.cmd("MAIL FROM:<s@example.org>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: stalled\r\n\r\npartial")
    r = c.reply()
    assert r.code == 421, r
    assert c.closed(timeout=5)
    h.wait_sessions_done()
    assert h.messages("alice@acme.test") == []
    assert queue_files(h, "env") == []
    assert queue_files(h, "tmp") == []


# --- pipelining ---------------------------------------------------------------

def test_pipelining_one_transaction(server):
    c = raw(server)
    c.send(b"MAIL FROM:<p@example.org>\r\n"
           b"RCPT TO:<alice@acme.test>\r\n"
           b"RCPT TO:<nobody@acme.test>\r\n"
           b"RCPT TO:<bob@acme.test>\r\n"
           b"DATA\r\n")
    codes = [c.reply().code for _ in range(5)]
    assert codes == [250, 250, 550, 250, 354], c.transcript
    c.send(b"Subject: pipelined\r\n\r\none write\r\n.\r\nQUIT\r\n")
    r = c.reply()
    assert r.code == 250 and queued_id(r.text), r
    assert c.reply().code == 221
    assert len(server.wait_messages("alice@acme.test", 1)) == 1
    assert len(server.wait_messages("bob@acme.test", 1)) == 1


def test_pipelining_transactions_back_to_back(server):
    n = 20
    c = raw(server)
    c.send(b"MAIL FROM:<p0@example.org>\r\nRCPT TO:<alice@acme.test>\r\nDATA\r\n")
    assert [c.reply().code for _ in range(3)] == [250, 250, 354]
    ids = []
    for i in range(n):
        chunk = f"Subject: pipelined {i}\r\n\r\nbody {i}\r\n.\r\n".encode()
        if i + 1 < n:
            rcpt = "bob@acme.test" if (i + 1) % 2 else "alice@acme.test"
            chunk += (f"RSET\r\nNOOP\r\nMAIL FROM:<p{i + 1}@example.org>\r\n"
                      f"RCPT TO:<{rcpt}>\r\nDATA\r\n").encode()
            c.send(chunk)
            r = c.reply()
            assert r.code == 250, r
            ids.append(queued_id(r.text))
            assert [c.reply().code for _ in range(5)] == [250, 250, 250, 250, 354], c.transcript[-8:]
        else:
            c.send(chunk + b"QUIT\r\n")
            r = c.reply()
            assert r.code == 250, r
            ids.append(queued_id(r.text))
            assert c.reply().code == 221
    assert len(set(ids)) == n and None not in ids
    a = server.wait_messages("alice@acme.test", n // 2)
    b = server.wait_messages("bob@acme.test", n // 2)
    assert len(a) == n // 2 and len(b) == n // 2
    got = sorted(int(re.search(rb"\nbody (\d+)\n", m).group(1)) for m in a + b)
    assert got == list(range(n))


def test_pipelined_commands_split_across_writes(server):
    """Replies must not depend on how the bytes are cut into packets."""
    c = raw(server)
    data = (b"MAIL FROM:<p@example.org>\r\nRCPT TO:<alice@acme.test>\r\nDATA\r\n")
    for i in range(len(data)):
        c.send(data[i:i + 1])
    assert [c.reply().code for _ in range(3)] == [250, 250, 354]
    body = b"Subject: split\r\n\r\nx\r\n.y\r\n.\r\n"
    for i in range(len(body)):
        c.send(body[i:i + 1])
        time.sleep(0.001)       # the point: one byte per packet, not coalesced
    assert c.reply().code == 250
    c.cmd("QUIT")
    msgs = server.wait_messages("alice@acme.test", 1)
    assert split_delivered(msgs[0])[3] == b"Subject: split\n\nx\ny\n"


# --- SMTP smuggling -------------------------------------------------------------

@pytest.mark.parametrize("sep", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r", b"\r.\r\n"],
                         ids=["LF.LF", "CR.CR", "LF.CRLF", "CRLF.LF", "CRLF.CR", "CR.CRLF"])
def test_smtp_smuggling(server, sep):
    c = raw(server)
    assert c.cmd("MAIL FROM:<honest@example.org>").code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("DATA").code == 354
    body = (b"Subject: honest\r\n\r\nhonest text" + sep +
            b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<bob@acme.test>\r\nDATA\r\n"
            b"Subject: injected\r\n\r\nevil\r\n.\r\n")
    c.send(body)
    # the real end of the message is here, after the injected text
    c.send(b"QUIT\r\n")
    replies = []
    while True:
        try:
            r = c.reply()
        except (EOFError, ConnectionError, socket.timeout):
            break
        replies.append(r)
        if r.code == 221 or r.code == 421:
            break
    # Replies: 250 (one message, the injected text is content) or a 5xx for
    # the bare CR/LF; never more than one "queued as", never a 354.
    codes = [r.code for r in replies]
    assert sum(1 for r in replies if queued_id(r.text)) <= 1, replies
    assert 354 not in codes, replies
    assert codes[0] == 250 or 500 <= codes[0] < 600, replies
    c.close()
    server.wait_sessions_done()
    # once the queue is empty, whatever was queued has been delivered
    wait_for(lambda: not queue_files(server, "env"), 15, "the queue to empty")
    assert server.messages("bob@acme.test") == [], "injected message delivered"
    msgs = server.messages("alice@acme.test")
    assert len(msgs) <= 1
    if msgs:
        assert b"MAIL FROM:<evil@example.org>" in msgs[0]
        assert b"Subject: injected" in msgs[0]


# --- SIZE -------------------------------------------------------------------

def test_size_declared_too_big(server):
    c = raw(server)
    r = c.cmd("MAIL FROM:<a@example.org> SIZE=2000000")
    assert r.code == 552 and r.enh == "5.3.4", r
    r = c.cmd("MAIL FROM:<a@example.org> SIZE=1000")
    assert r.code == 250, r
    c.cmd("QUIT")


def test_size_streamed_too_big(server):
    s = smtp(server, timeout=30)
    s.ehlo()
    assert s.mail("big@example.org")[0] == 250    # no SIZE= given
    assert s.rcpt("alice@acme.test")[0] == 250
    big = b"Subject: too big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 1100   # ~1.1 MB
    code, text = s.data(big)
    assert code == 552 and text.startswith(b"5.3.4"), (code, text)
    # the session goes on
    assert s.noop()[0] == 250
    assert s.mail("small@example.org")[0] == 250
    assert s.rcpt("alice@acme.test")[0] == 250
    assert s.data(b"Subject: small\r\n\r\nsmall\r\n")[0] == 250
    s.quit()
    server.wait_messages("alice@acme.test", 1)
    server.wait_sessions_done()
    wait_for(lambda: not queue_files(server, "env") and not queue_files(server, "msg"), 15,
             "the queue to empty")
    msgs = server.messages("alice@acme.test")
    assert len(msgs) == 1 and b"Subject: small" in msgs[0]
    assert queue_files(server, "tmp") == []
    assert not [f for f in queue_files(server, "msg")]


def test_size_just_under_limit_delivered(server):
    body = b"Subject: almost 1 MiB\r\n\r\n" + (b"q" * 998 + b"\r\n") * 1000   # ~1,000,025 bytes
    assert len(body) < 1048576 - 1000
    s = smtp(server, timeout=30)
    assert s.sendmail("s@example.org", ["alice@acme.test"], body) == {}
    s.quit()
    msgs = server.wait_messages("alice@acme.test", 1)
    assert len(msgs) == 1 and split_delivered(msgs[0])[3] == lf(body)


# --- IPv6 -------------------------------------------------------------------

def ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_delivery(server):
    s = smtplib.SMTP("::1", server.smtp_port2, local_hostname="client.test", timeout=10)
    code, msg = s.ehlo()
    assert code == 250
    assert s.sendmail("v6@example.org", ["alice@acme.test"], b"Subject: over IPv6\r\n\r\nv6\r\n") == {}
    s.quit()
    msgs = server.wait_messages("alice@acme.test", 1)
    assert len(msgs) == 1 and b"Subject: over IPv6" in msgs[0]


# --- signals -------------------------------------------------------------------

def test_sighup_keeps_running(server):
    c = raw(server)           # a session open across the reload
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"reload: configuration \S+ reloaded")
    assert server.proc.poll() is None, server.logtext()
    assert c.cmd("NOOP").code == 250
    c.cmd("QUIT")
    s = smtp(server)
    assert s.sendmail("s@example.org", ["alice@acme.test"], b"Subject: after HUP\r\n\r\nx\r\n") == {}
    s.quit()
    assert len(server.wait_messages("alice@acme.test", 1)) == 1


def test_sighup_reloads_configuration(server):
    with open(server.config) as f:
        cfg = f.read()
    with open(server.config, "w") as f:
        f.write(cfg.replace("hostname = mx.test.example", "hostname = mx2.test.example"))
    server.proc.send_signal(signal.SIGHUP)
    server.wait_log(r"reload: configuration \S+ reloaded")
    assert server.proc.poll() is None
    c = RawSMTP(server.smtp_port)
    g = c.reply()
    assert g.code == 220 and g.lines[-1].split()[0] == "mx2.test.example", g
    c.close()


def test_sigterm_exits_zero_promptly(server):
    c = raw(server)           # an idle open session must not hold it up
    t0 = time.time()
    server.proc.send_signal(signal.SIGTERM)
    rc = server.proc.wait(timeout=10)
    assert rc == 0, server.logtext()
    assert time.time() - t0 < 5
    c.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.smtp_port), timeout=1).close()


def test_smtputf8_end_to_end(server):
    """RFC 6531: a UTF-8 sender with SMTPUTF8 is accepted and delivered
    (Return-Path keeps it); without the parameter, a UTF-8 address in MAIL
    or RCPT gets 553 5.6.7."""
    c = RawSMTP(server.smtp_port)
    c.reply()
    ehlo = c.cmd("EHLO client.test")
    assert "SMTPUTF8" in ehlo.lines
    sender = "jörg@bücher.test"
    r = c.cmd(f"MAIL FROM:<{sender}>".encode())
    assert (r.code, r.enh) == (553, "5.6.7"), r
    assert c.cmd("MAIL FROM:<x@client.test>").code == 250
    r = c.cmd("RCPT TO:<jörg@acme.test>".encode())
    assert (r.code, r.enh) == (553, "5.6.7"), r
    c.cmd("RSET")
    assert c.cmd(f"MAIL FROM:<{sender}> SMTPUTF8".encode()).code == 250
    assert c.cmd("RCPT TO:<alice@acme.test>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(f"From: Jörg <{sender}>\r\nSubject: Grüße\r\n\r\nÄpfel\r\n.\r\n".encode())
    assert c.reply().code == 250
    c.cmd("QUIT")
    [msg] = server.wait_messages("alice@acme.test", 1)
    assert f"Return-Path: <{sender}>".encode() in msg
    assert "Subject: Grüße\nÄpfel".encode() in msg.replace(b"\n\n", b"\n")
