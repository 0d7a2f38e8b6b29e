#!/usr/bin/env python3
"""Write the seed corpora tests/fuzz/corpus/<harness>/ : real transcripts
and the attack classes of the issues (relay tricks, SMTP smuggling end-of-
data variants, shell metacharacters, CR/LF/NUL in parameters, overlong
lines, huge BDAT sizes, bad base64). Run again after editing; files are
named by content so reruns are stable."""
import base64
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def put(harness, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


PATHS = [
    "<alice@acme.test>", "<>", "<postmaster>", "<Postmaster@acme.test>",
    "<user%other.example@acme.test>", "<@a.example:b@c.example>", "<@a,@b:u@d.example>",
    '<"u@d.example"@acme.test>', '<"a b\\"c"@acme.test>', "<host!user@acme.test>",
    "<host!user>", "<user@[192.0.2.1]>", "<user@[IPv6:2001:db8::1]>", "<user@[300.1.1.1]>",
    "<;sleep 66;>", "<`id`@acme.test>", "<$(reboot)@acme.test>", "<a|b@acme.test>",
    "<a\r\nRCPT TO:<x@evil.example>@acme.test>", "<a\x00b@acme.test>", "<a@acme.test\r>",
    "<" + "a" * 65 + "@acme.test>", "<a@" + "b" * 64 + ".test>", "<a@" + ("x." * 130) + "test>",
    "<ünïcode@acme.test>", "<a@bücher.example>", "<a..b@acme.test>", "<.a@acme.test>",
    "<a@-acme.test>", "<a@acme.test.>", "<a@@acme.test>", "<a@acme.test", "a@acme.test",
    "<<a@acme.test>>", "<a@acme.test> trailing", "< a@acme.test >",
]

MAIL_PARAMS = ["", " SIZE=1000", " SIZE=99999999999999999999999", " SIZE=-1", " SIZE=",
               " BODY=8BITMIME", " BODY=BINARYMIME", " BODY=junk", " SMTPUTF8", " AUTH=<>",
               " AUTH=alice@acme.test", " SIZE=10 SIZE=20", " X-UNKNOWN=1", " =x", " SIZE=1\x00",
               " SIZE=1\r", " RET=FULL ENVID=abc", " " + "P" * 600 + "=1"]


def smtp_cmd():
    h = "fuzz_smtp_cmd"
    for v in ["HELO mx.example", "EHLO mx.example", "EHLO [192.0.2.1]", "EHLO [IPv6:::1]",
              "HELO", "EHLO a b", "ehlo MX.Example", "DATA", "RSET", "NOOP", "NOOP x", "QUIT",
              "VRFY alice", "EXPN list", "HELP", "STARTTLS", "AUTH PLAIN", "AUTH LOGIN",
              "AUTH PLAIN " + base64.b64encode(b"\0alice@acme.test\0pw").decode(),
              "BDAT 0 LAST", "BDAT 100", "BDAT 18446744073709551615 LAST",
              "BDAT 18446744073709551616", "BDAT 99999999999999999999999999 LAST", "BDAT -1",
              "BDAT 10 LASTX", "BDAT  10", "BDAT 10 LAST extra", "MAIL", "RCPT", "XYZZY",
              "MAIL FROM:<a@b.example> " + "x" * 4000, "\x00MAIL FROM:<>", "MA\x01IL FROM:<>",
              "MAIL\tFROM:<>", "mail from:<>", "MAIL FROM: <a@b.example>", "RCPT TO:<postmaster>"]:
        put(h, v)
    for p in PATHS:
        for prm in ("", " SIZE=100", " BODY=8BITMIME SMTPUTF8"):
            put(h, "MAIL FROM:" + p + prm)
        put(h, "RCPT TO:" + p)
    for prm in MAIL_PARAMS:
        put(h, "MAIL FROM:<a@b.example>" + prm)


def addr():
    for p in PATHS:
        put("fuzz_addr", p)
        put("fuzz_addr", p.strip("<>"))


CRLF = "\r\n"
BODY = ("From: Alice <alice@acme.test>\r\nTo: bob@acme.test\r\nSubject: hi\r\n"
        "Message-Id: <1@acme.test>\r\n\r\nHello\r\n..stuffed line\r\n.\r\n")


def data_decode():
    h = "fuzz_data_decode"
    for prefix in (b"\x00\x00", b"\x10\x30", b"\xff\x07"):
        for body in [BODY, "\r\n.\r\n", ".\r\n", "a\n.\nb\r\n.\r\n", "a\r.\rb\r\n.\r\n",
                     "a\n.\r\nb\r\n.\r\n", "a\r\n.\nb\r\n.\r\n", "a\r\n.\rb\r\n.\r\n",
                     "a\r\n..\r\n.\r\n", "a\r\n.x\r\n", "\r\r\n.\r\n", "a\r\n.\r", "a\r\n.",
                     "a\r\n.\r\nMAIL FROM:<x@evil.example>\r\n", "x" * 300 + "\r\n.\r\n",
                     "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", ".\r\r\n.\r\n", "\x00.\r\n\r\n.\r\n"]:
            put(h, prefix + body.encode())


def sasl():
    h = "fuzz_sasl"
    for raw in [b"\0alice@acme.test\0secret", b"alice@acme.test\0alice@acme.test\0pw",
                b"bob@acme.test\0alice@acme.test\0pw", b"\0\0", b"\0alice\0", b"alice",
                b"\0" + b"a" * 300 + b"\0pw", b"\0a\0" + b"p" * 300, b"\0a\0p\0extra", b""]:
        put(h, base64.b64encode(raw))
    for s in ["=", "====", "QQ", "QQ=", "QQ==", "QR==", "QUJD", "QUJ=RA==", "Q===", "Q\r\nQ==",
              "*", "QUJD\x00", "QU JD", "-_-_", "YWxpY2U=\n", "A" * 8191]:
        put(h, s)


def header_from():
    h = "fuzz_header_from"
    for hdr in [
        "From: alice@acme.test\r\n\r\n",
        "From: Alice <alice@acme.test>\r\nTo: x@y\r\n\r\n",
        'From: "Doe, John" <john@acme.test>, bob@other.example\r\n\r\n',
        "From: (comment) alice@acme.test (another)\r\n\r\n",
        "From: group: a@acme.test, b@acme.test;\r\n\r\n",
        "From: Alice\r\n <alice@acme.test>\r\n\r\n",
        "From: alice@acme.test\r\nFrom: evil@evil.example\r\n\r\n",
        "FROM: alice@ACME.TEST\n\n",
        "From: <alice@acme.test\r\n\r\n",
        "From: alice\r\n\r\n",
        "From: \"a@evil.example\" <alice@acme.test>\r\n\r\n",
        "From: alice@[192.0.2.1]\r\n\r\n",
        "From: =?utf-8?q?x?= <alice@acme.test>\r\n\r\n",
        "Subject: no from\r\n\r\n",
        "From: " + ", ".join(f"u{i}@d{i}.example" for i in range(20)) + "\r\n\r\n",
        "From: a@b\rc.example\r\n\r\n", "From: a@acme.test\x00.evil\r\n\r\n",
        "From:" + " " * 5000 + "a@acme.test\r\n\r\n",
    ]:
        put(h, hdr)


ENV = ("V 1\nI {id}\nA 1700000000\nS alice@acme.test\nC 192.0.2.1\nH client.example\n"
       "U acme\nZ 1234\nN 2\nR L bob@acme.test\nR R carol@remote.example\nE\n")


def envelope():
    h = "fuzz_envelope"
    e = ENV.format(id="0000000000000000ABCD")
    put(h, e)
    put(h, e + "D 0\n")
    put(h, e + "D 0\nT 1 1700000300 4.4.1%20connection%20refused\n")
    put(h, e + "F 1 5.1.1%20no%20such%20user\nD 0\n")
    put(h, e + "D 1")              # torn last record
    put(h, e + "D 99\n")           # index out of range
    put(h, e + "D 18446744073709551616\n")
    put(h, e.replace("N 2", "N 100000"))
    put(h, e.replace("N 2", "N 99999999999"))
    put(h, e.replace("V 1", "V 3"))
    # version 2: the message between the version line and the header
    body = "Subject: hi\r\n\r\nhello\r\n"
    v2 = e.replace("V 1\n", "V 2 %020d\n%s" % (len(body), body)).replace("Z 1234", "Z %d" % len(body))
    put(h, v2)
    put(h, v2 + "D 0\nD 1")
    put(h, v2.replace("V 2 %020d" % len(body), "V 2 %020d" % (len(body) + 1)))
    put(h, v2.replace("V 2 %020d" % len(body), "V 2 99999999999999999999"))
    put(h, v2[:30])
    put(h, e.replace("S alice@acme.test", "S "))
    put(h, e.replace("S alice@acme.test", "S %0D%0AX-Injected%3A%201"))
    put(h, e.replace("S alice@acme.test", "S %zz"))
    put(h, e.replace("Z 1234", "Z -5"))
    put(h, e[:40])
    put(h, e.replace("\n", "\r\n"))
    put(h, e.replace("R L bob", "R X bob"))
    put(h, e.replace("bob@acme.test", "b" * 5000))


CONFIG = """[server]
hostname = mail.example.net
data_dir = /var/lib/hostmail
user = hostmail

[listen]
smtp = 0.0.0.0:25, 0.0.0.0:2525
submission = 0.0.0.0:587
submissions = 0.0.0.0:465
pop3 = 0.0.0.0:110
pop3s = 0.0.0.0:995
acc = 127.0.0.1:8443

[tls]
certificate = /etc/hostmail/tls/default.crt
key = /etc/hostmail/tls/default.key
sni_dir = /etc/hostmail/tls/sni

[relay]
pop_before_smtp_minutes = 90

[pop3]
allow_plaintext_auth = no

[limits]
message_size = 41943040
max_recipients = 100
recipients_per_hour = 500
recipients_per_day = 2000

[queue]
retry_schedule = 5m, 10m, 20m, 40m, 1h, 2h, 4h
max_age = 5d

[delivery]
dns_servers =
mx_port = 25

[hostnames]
legacy_pattern = mail{server}.example.net
pattern = {user}.mail.example.net
legacy_cutover = 2011-06-01
"""


def config():
    h = "fuzz_config"
    put(h, CONFIG)
    put(h, "")
    put(h, "[server]\nhostname = " + "h" * 400 + "\n")
    put(h, "[listen]\nsmtp = [::1]:25, 127.0.0.1:2525, [fe80::1%eth0]:25\n")
    put(h, "[listen]\nsmtp = " + ", ".join(f"127.0.0.{i}:25" for i in range(20)) + "\n")
    put(h, "[listen]\nsmtp = 127.0.0.1:99999\n")
    put(h, "[queue]\nretry_schedule = " + ", ".join(["1s"] * 20) + "\nmax_age = 99999999999d\n")
    put(h, "[limits]\nmessage_size = 18446744073709551616\nmax_recipients = -1\n")
    put(h, "[nosuch]\nx = 1\n")
    put(h, "[server\nhostname\n= x\n;comment\n#c\n")
    put(h, "[hostnames]\nlegacy_cutover = 2011-13-45\npattern = {user}{user}{server}\n")


def session():
    h = "fuzz_smtp_session"
    base = "EHLO client.example\r\n"
    msgs = []
    msgs.append(base + "MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@acme.test>\r\nDATA\r\n" + BODY + "QUIT\r\n")
    msgs.append("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@acme.test>\r\nRCPT TO:<alice@acme.test>\r\nDATA\r\n"
                "Subject: x\r\n\r\nbody\r\n.\r\nRSET\r\nQUIT\r\n")
    # pipelined with BDAT (CHUNKING)
    msgs.append(base + "MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@acme.test>\r\nBDAT 12\r\n"
                "Subject: a\r\nBDAT 8 LAST\r\n\r\nbody\r\nQUIT\r\n")
    msgs.append(base + "MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@acme.test>\r\nBDAT 18446744073709551615 LAST\r\nxx")
    msgs.append(base + "MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@acme.test>\r\nBDAT 99999999999 LAST\r\n" + "x" * 9000)
    msgs.append(base + "BDAT 5 LAST\r\nhello")
    # relay tricks, unauthorized
    for p in ["<user%other.example@acme.test>", "<@a.example:b@c.example>", '<"u@d.example"@acme.test>',
              "<host!user@acme.test>", "<carol@remote.example>", "<alice@ACME.TEST>", "<postmaster>"]:
        msgs.append(base + "MAIL FROM:<x@remote.example>\r\nRCPT TO:" + p + "\r\nDATA\r\nSubject: r\r\n\r\nx\r\n.\r\nQUIT\r\n")
    # smuggling end-of-data variants: the smuggled MAIL must stay message text
    for eod in ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r"]:
        msgs.append(base + "MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@acme.test>\r\nDATA\r\nSubject: s\r\n\r\nx"
                    + eod + "MAIL FROM:<admin@acme.test>\r\nRCPT TO:<bob@acme.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n")
    msgs.append(base + "MAIL FROM:<;sleep 66;>\r\nMAIL FROM:<`reboot`@x.example>\r\nQUIT\r\n")
    msgs.append(base + "MAIL FROM:<a@b.example> SIZE=1\x00\r\nMAIL FROM:<a@b.example>\rRCPT TO:<alice@acme.test>\r\n")
    msgs.append(base + "MAIL FROM:<a@b.example>\nRCPT TO:<alice@acme.test>\nDATA\nx\n.\n")
    msgs.append(base + "A" * 5000 + "\r\nNOOP\r\n")
    msgs.append(base + "MAIL FROM:<a@b.example> SIZE=99999999999\r\nQUIT\r\n")
    msgs.append(base + "DATA\r\nSubject: early\r\n\r\n.\r\n")   # DATA before MAIL
    msgs.append("MAIL FROM:<a@b.example>\r\n")                  # before EHLO
    msgs.append(base + "AUTH PLAIN " + base64.b64encode(b"\0alice@acme.test\0secret-password").decode() + "\r\n")
    msgs.append(base + "AUTH PLAIN\r\n!!!notbase64\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\n")
    msgs.append(base + "STARTTLS\r\nEHLO x\r\n")
    msgs.append(base + "VRFY alice\r\nEXPN all\r\nHELP\r\nNOOP\r\nRSET\r\nQUIT\r\n")
    # authorized client (first byte bit 0): affiliation and From: checks
    auth = [base + "MAIL FROM:<alice@acme.test>\r\nRCPT TO:<carol@remote.example>\r\nDATA\r\n"
            "From: Alice <alice@acme.test>\r\nSubject: out\r\n\r\nhi\r\n.\r\nQUIT\r\n",
            base + "MAIL FROM:<alice@acme.test>\r\nRCPT TO:<carol@remote.example>\r\nDATA\r\n"
            "From: evil@evil.example\r\n\r\nhi\r\n.\r\nQUIT\r\n",
            base + "MAIL FROM:<mallory@evil.example>\r\nRCPT TO:<carol@remote.example>\r\nQUIT\r\n",
            base + "MAIL FROM:<alice@acme.test>\r\n" + "".join(f"RCPT TO:<r{i}@remote.example>\r\n" for i in range(8))
            + "DATA\r\nFrom: alice@acme.test\r\n\r\n.\r\n"]
    for m in msgs:
        for mode in (b"\x00", b"\x02"):
            put(h, mode + m.encode("utf-8", "surrogateescape"))
    for m in auth:
        for mode in (b"\x01", b"\x03"):
            put(h, mode + m.encode())


def pop3():
    h = "fuzz_pop3_cmd"
    for l in ["USER alice@acme.test", "PASS secret", "PASS pass with spaces", "APOP alice 0123456789abcdef",
              "AUTH", "AUTH PLAIN", "AUTH PLAIN " + base64.b64encode(b"\0alice@acme.test\0pw").decode(),
              "AUTH PLAIN =", "STLS", "CAPA", "QUIT", "STAT", "LIST", "LIST 1", "LIST 0", "LIST -1",
              "LIST 99999999999999999999", "RETR 1", "RETR", "RETR 1 2", "DELE 1", "NOOP", "RSET",
              "TOP 1 10", "TOP 1", "TOP 1 -1", "TOP 1 99999999999999999999", "UIDL", "UIDL 3",
              "user alice", "USER", "USER " + "a" * 600, "PASS " + "p" * 600, "RETR 1\x00", "XTND",
              "LIST 1 ", "LIST  1", "\x00", "RETR 0x10", "RETR +1"]:
        put(h, l)
    # encoder inputs: first byte is the TOP line limit selector
    for msg in ["Subject: a\n\nbody\n.dot\n..two\nlast", "Subject: a\n\n", "no header end", ".\n.\n", "\r\n.\r\n"]:
        put(h, "\x00" + msg)


def pop3_session():
    """Whole POP3 sessions (fuzz_pop3_session): alice@acme.test, "secret"."""
    h = "fuzz_pop3_session"
    login = "USER alice@acme.test\r\nPASS secret\r\n"
    plain = "AUTH PLAIN " + base64.b64encode(b"\0alice@acme.test\0secret").decode() + "\r\n"
    for s in [
        login + "STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 2 1\r\nDELE 1\r\nQUIT\r\n",
        login + "DELE 1\r\nDELE 2\r\nRSET\r\nDELE 3\r\nLIST\r\nNOOP\r\n",       # no QUIT: nothing deleted
        login + "DELE 1\r\nRETR 1\r\nLIST 1\r\nUIDL 1\r\nDELE 1\r\nQUIT\r\n",
        plain + "STAT\r\nRETR 2\r\nRETR 3\r\nQUIT\r\n",
        "AUTH PLAIN\r\n" + base64.b64encode(b"\0alice@acme.test\0secret").decode() + "\r\nLIST\r\nQUIT\r\n",
        "AUTH PLAIN\r\n*\r\nCAPA\r\n",
        "CAPA\r\nUSER alice@acme.test\r\nPASS wrong\r\nUSER alice@acme.test\r\nPASS secret\r\nSTAT\r\n",
        "PASS secret\r\nSTAT\r\nRETR 1\r\nSTLS\r\nQUIT\r\n",
        login + "TOP 1 0\r\nTOP 2 99999999999\r\nTOP 3 -1\r\nRETR 4\r\nLIST 0\r\nQUIT\r\n",
        login + "STLS\r\nAPOP alice 0123\r\nXTND\r\n\x00\r\nRETR 1\r\n" + "NOOP\r\n" * 20 + "QUIT\r\n",
        login.replace("\r\n", "\n") + "LIST\nRETR 2\nQUIT\n",                    # LF only
        "USER " + "a" * 5000 + "\r\n" + login + "STAT\r\n",
        login + "RETR 1\r\n" * 50 + "QUIT\r\n",
    ]:
        put(h, s)


def smtp_reply():
    h = "fuzz_smtp_reply"
    for r in ["220 mx.example ESMTP", "250-mx.example\n250-PIPELINING\n250-SIZE 10240000\n250-STARTTLS\n250-8BITMIME\n250 SMTPUTF8",
              "250", "250-", "553", "550 5.1.1 <x@y>: user unknown", "250-a\n251 b", "250-a\n250-b\n250",
              "421 4.7.0 try later", "2500 x", "25", "abc", "250 " + "x" * 5000, "250-SIZE\n250 SIZE 99999999999999999999999",
              "250-x\r\n250 y", "354 go ahead", "250-\x00\x01\xff\n250 ok", "\n".join(["250-x"] * 120) + "\n250 y",
              "452 4.5.3 too many", "250 2.0.0 ok"]:
        put(h, r)


def milter():
    """Filter reply streams (rspamd's and opendkim's answers at the end of
    a message, garbage, cut packets), then "\\0\\0HDR\\0" and a header section."""
    import struct
    h = "fuzz_milter"

    def pk(cmd, data=b""):
        return struct.pack(">I", len(data) + 1) + cmd + data
    streams = [
        pk(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)),
        pk(b"h", b"X-Spam\0Yes\0") + pk(b"m", b"\0\0\0\1Subject\0*** SPAM *** hi\0") + pk(b"c"),
        pk(b"i", b"\0\0\0\0Authentication-Results\0rspamd; dkim=pass header.d=a.test; spf=fail\0") + pk(b"a"),
        pk(b"h", b"Authentication-Results\0mx.test; dkim=pass (forged)\0") + pk(b"m", b"\0\0\0\2X-A\0\0"),
        pk(b"y", b"550 5.7.1 Gtube pattern\0"), pk(b"y", b"250 nope\0"), pk(b"y", b"451"),
        pk(b"b", b"new body\n") + pk(b"+", b"<x@y>\0") + pk(b"-", b"<a@b>\0") + pk(b"2", b"<x@y>\0N=1\0"),
        pk(b"e", b"<new@from>\0") + pk(b"q", b"held\0") + pk(b"p") + pk(b"s") + pk(b"t") + pk(b"d"),
        b"HTTP/1.0 200 OK\r\n\r\n", b"\xff\xff\xff\xff", b"\0\0\0\0", pk(b"h", b"X\0no nul"),
    ]
    heads = [b"", b"Subject: hi\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
             b"Authentication-Results: MX.TEST; dkim=pass\r\nAuthentication-Results: x; spf=pass\r\n\r\n",
             b"Received: from a\r\n\tby b\r\nSubject: folded\r\n continued\r\n\r\nbody",
             b"no colon line\r\nSubject: x\r\n", b" leading space: x\r\n", b"A:\nB:\n\n"]
    for s in streams:
        put(h, s)
        for hd in heads:
            put(h, s + b"\0\0HDR\0" + hd)


def acc_form():
    h = "fuzz_acc_form"
    for b in ["csrf=abc&password=x&password2=x", "a=1&a=2&b=", "=", "&&&", "a=%00", "a=%zz", "a=%2",
              "a=b+c%20d", "x" * 9000, "address=alice%40acme.test&confirm=yes", "a=\x00", "a=b;c=d",
              "a=%C3%A9", "%=%"]:
        put(h, "__Host-hm_session=0123456789abcdef; other=1\n" + b)
    # the harness's one session (fuzz_acc_form.c SID, CSRF): logged-in forms
    sid = "5e551015" * 8
    csrf = "c5afc5af" * 8
    for ck in ["__Host-__Host-hm_session=" + sid, "other=1; __Host-hm_session=" + sid + " ; x=2", "__Host-__Host-hm_session=" + sid[:-1],
               "__Host-__Host-hm_session=" + sid + "0", "__Host-hm_login=" + csrf, "__Host-hm_login=" + csrf.upper(), "__Host-__Host-hm_session=" + sid.upper()]:
        for b in ["csrf=" + csrf + "&address=a%40acme.test", "csrf=" + csrf[:-1], "csrf=" + csrf + "&csrf=x",
                  "csrf=%63" + csrf[1:], "account=acme&password=pw&csrf=" + csrf, "csrf="]:
            put(h, ck + "\n" + b)
    put(h, "__Host-hm_session=\n")
    put(h, "a=1;__Host-hm_session=" + "z" * 300 + "\nx=1")
    put(h, ";;; __Host-hm_session ; =\n")


def acc_http():
    h = "fuzz_acc_http"
    sid = "5e551015" * 8
    csrf = "c5afc5af" * 8
    host = "Host: acc.fuzz.example\r\n"
    ck = "Cookie: __Host-hm_session=" + sid + "\r\n"

    def post(path, body, cookie=ck, ctype="application/x-www-form-urlencoded", extra=""):
        return ("POST " + path + " HTTP/1.1\r\n" + host + cookie + "Content-Type: " + ctype + "\r\n"
                + extra + "Content-Length: " + str(len(body.encode())) + "\r\n\r\n" + body)

    reqs = ["GET / HTTP/1.1\r\n" + host + "\r\n",
            "GET /login HTTP/1.1\r\n" + host + "\r\n",
            "GET /overview HTTP/1.1\r\n" + host + "\r\n",            # not logged in: redirect
            "HEAD / HTTP/1.1\r\n" + host + "\r\n", "PUT / HTTP/1.1\r\n" + host + "\r\n",
            "GET /nosuch HTTP/1.1\r\n" + host + "\r\n", "GET /login HTTP/1.0\r\n\r\n",
            "GET http://acc.fuzz.example/overview HTTP/1.1\r\n" + host + ck + "\r\n",
            "GET /%2e%2e/etc/passwd HTTP/1.1\r\n" + host + "\r\n", "GET //overview HTTP/1.1\r\n\r\n",
            "GET /mail?x=%00 HTTP/1.1\r\n" + host + ck + "\r\n",
            "GET / HTTP/1.1\r\n" + host + "X-Long: " + "a" * 9000 + "\r\n\r\n",
            "garbage\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            post("/login", "account=acme&password=secret-password&csrf=" + csrf, cookie="Cookie: __Host-hm_login=" + csrf + "\r\n"),
            post("/login", "account=acme&password=wrong&csrf=" + csrf, cookie="Cookie: __Host-hm_login=" + csrf + "\r\n"),
            post("/login", "account=acme&password=x&csrf=bad", cookie=""),
            post("/login", "account=acme", ctype="text/plain"),
            post("/logout", "csrf=" + csrf),
            post("/mail/add", "csrf=" + csrf + "&local=new&domain=acme.test&password=longenough1&password2=longenough1"),
            post("/mail/add", "csrf=" + csrf + "&local=a%0D%0Ab&domain=evil.example&password=x&password2=y"),
            post("/mail/passwd", "csrf=" + csrf + "&address=alice%40acme.test&password=longenough2&password2=longenough2"),
            post("/mail/remove", "csrf=" + csrf + "&address=nobody%40acme.test&confirm=yes"),
            post("/mail/remove", "csrf=wrong&address=alice%40acme.test&confirm=yes"),
            post("/mail/add", "csrf=" + csrf + "&" + "a=b&" * 3000),
            post("/mail/add", "csrf=" + csrf, extra="Content-Length: 5\r\n"),
            "POST /mail/add HTTP/1.1\r\n" + host + ck + "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 99999999999999999999\r\n\r\nx",
            "POST /mail/add HTTP/1.1\r\n" + host + ck + "Content-Length: 100\r\n\r\ntorn",
            ]
    for path in ("/overview", "/mail", "/mail/remove?address=alice%40acme.test", "/relay", "/budget",
                 "/mail/remove?address=" + "%41" * 400):
        reqs.append("GET " + path + " HTTP/1.1\r\n" + host + ck + "\r\n")
    # mail programs setting themselves up (no login), and the settings in other shapes
    ad = ('<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/'
          'outlook/requestschema/2006"><Request><EMailAddress>{}</EMailAddress></Request></Autodiscover>')
    for path in ("/mail/config-v1.1.xml?emailaddress=alice%40acme.test",
                 "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=x%40acme.test",
                 "/mail/config-v1.1.xml?emailaddress=%40", "/mail/config-v1.1.xml"):
        reqs.append("GET " + path + " HTTP/1.1\r\n" + host + "\r\n")
    reqs.append("GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: autoconfig.acme.test:443\r\n\r\n")
    for addr in ("alice@acme.test", "nobody@elsewhere.example", "a&amp;b@acme.test", "", "<x>"):
        reqs.append(post("/autodiscover/autodiscover.xml", ad.format(addr), cookie="", ctype="text/xml"))
    reqs.append(post("/Autodiscover/Autodiscover.xml", "<a:EMailAddress>alice@acme.test</a:EMailAddress>",
                     cookie="", ctype="text/xml"))
    for path in ("/mail/settings.json?address=alice%40acme.test", "/mail/profile.mobileconfig?address=alice%40acme.test",
                 "/help/thunderbird", "/help/ios?address=alice%40acme.test", "/help/android?address=nobody%40x.example"):
        reqs.append("GET " + path + " HTTP/1.1\r\n" + host + ck + "\r\n")
    reqs.append(post("/mail/profile.mobileconfig", "csrf=" + csrf + "&address=alice%40acme.test&password=p%3Cw%3E"))
    for r in reqs:
        put(h, r)
    # pipelined: a page, then a change, then the page again
    put(h, "GET /mail HTTP/1.1\r\n" + host + ck + "\r\n" + post("/mail/remove", "csrf=" + csrf + "&address=x%40acme.test&confirm=yes")
        + "GET /overview HTTP/1.1\r\n" + host + ck + "Connection: close\r\n\r\n")
    put(h, "")


def http_parse():
    """The ACC's own HTTP/1.1 parser (fuzz_http_parse): a limits byte (bit 2:
    64-byte header section, else 8 KB; bits 0-1: body limit 0, 16 or 64 KB),
    a cut byte, then the stream. Smuggling classes: CL.CL, CL.TE, TE.TE,
    obfuscated Transfer-Encoding, obs-fold, bare CR/LF, NUL, bad chunk sizes."""
    h = "fuzz_http_parse"
    host = "Host: acc.example.net\r\n"

    def req(fields="", body="", method="POST", target="/mail/add", version="HTTP/1.1"):
        return method + " " + target + " " + version + "\r\n" + host + fields + "\r\n" + body

    reqs = [
        req(method="GET", target="/mail?x=1"), req(method="HEAD", target="/overview"),
        req("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n", "account=ab\n"),
        req("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n1A;a=b;q=\"x \\\"y\"\r\n" + "z" * 26 + "\r\n0\r\nT: 1\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "0\r\n\r\n"),
        "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        req(method="GET", target="/a") + req("Content-Length: 3\r\n", "xyz") + "\r\n" + req(method="GET", fields="Connection: close\r\n"),
        req("Expect: 100-continue\r\nContent-Length: 1\r\n", "x"),
        "\r\n\r\n" + req(method="GET"), "\r\n" * 6 + req(method="GET"),
        # Content-Length
        req("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"), req("Content-Length: 3, 3\r\n", "abc"),
        req("Content-Length: +3\r\n", "abc"), req("Content-Length: -1\r\n"), req("Content-Length: 3 3\r\n", "abc"),
        req("Content-Length: 0x3\r\n", "abc"), req("Content-Length: 18446744073709551616\r\n"),
        req("Content-Length: 18446744073709551615\r\n"), req("Content-Length: 65537\r\n"),
        req("Content-Length: 17\r\n", "x" * 17),
        # Transfer-Encoding
        req("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"),
        req("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
        req("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), req("Transfer-Encoding: chunked, chunked\r\n"),
        req("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
        req("Transfer-Encoding: xchunked\r\n"), req("Transfer-Encoding:\r\n"), req("Transfer-Encoding: CHUNKED\r\n", "0\r\n\r\n"),
        req("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), req("Transfer-Encoding:\x0bchunked\r\n"),
        req("Transfer-Encoding: chunked\r\n", "0\r\n\r\n", version="HTTP/1.0"),
        req("X: a\r\nTransfer-Encoding: gzip,\r\n chunked\r\n", "0\r\n\r\n"),
        # field lines
        req("Foo@Bar: x\r\n"), req(": x\r\n"), req("NoColon\r\n"), req("X-A: a\rb\r\n"), req("X-A: a\x00b\r\n"),
        req("X-A: a\x01\r\n"), "GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        req("X-Long: " + "a" * 9000 + "\r\n"), req("".join("X-%d: v\r\n" % i for i in range(70))),
        # chunks
        req("Transfer-Encoding: chunked\r\n", "0x3\r\nabc\r\n0\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "+3\r\nabc\r\n0\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "\r\nabc\r\n0\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "10000000000000000\r\n"),
        req("Transfer-Encoding: chunked\r\n", "ffffffffffffffff\r\n"),
        req("Transfer-Encoding: chunked\r\n", "3;" + "e" * 200 + "\r\nabc\r\n0\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "3\r\nabcX\r\n0\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "3\r\nabc\n0\r\n\r\n"),
        req("Transfer-Encoding: chunked\r\n", "0\r\nX-Big: " + "v" * 1100 + "\r\n\r\n"),
        # Host
        "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n",
        # request line
        req(method="GET", version="HTTP/1.2"), req(method="GET", version="HTTP/2.0"),
        req(method="GET", version="HTTP/1.10"), req(method="GET", version="http/1.1"),
        req(method="GET", version="HTTP/1"), "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        req(method="PUT", target="/"), req(method="get", target="/"), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        req(method="GET", target="http://a/"), req(method="GET", target="*"), req(method="GET", target="/%zz"),
        req(method="GET", target="/" + "a" * 2100), "GET /" + "a" * 3000,
        req(method="GET", target="/a/b;c=d?e=%41&f=/?@:~!$'()*+,"),
    ]
    for r in reqs:
        for cfg in (b"\x02\x80", b"\x06\x10", b"\x01\xff"):
            put(h, cfg + r.encode("latin-1"))


def msg_inspect():
    h = "fuzz_msg_inspect"
    for m in [
        "From: a@b\r\nSubject: caf\u00e9\r\n\r\nbody \u2713 = x \r\n",
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + "\u00e9" * 100 + "\r\n.dot\r\n",
        "Content-Type:\r\n multipart/signed; boundary=x\r\nDKIM-Signature: v=1;\r\n\tb=abc\r\n\r\n--x\r\n",
        "Content-Transfer-Encoding: base64\r\n Content-Transfer-Encoding: x\r\nX: y",
        "\r\nno header\ttab \r\r\n",
    ]:
        put(h, m)


def srs():
    for a in ["SRS0=Z6CI=6L=example.org=alice@fwd.example", "SRS1=jSIH=hop.example==abcd=TT=orig.example=user@fwd.example",
              "srs0+abcd=tt=x.example=a=b@y", "SRS0==6L=x=y@z", "SRS1=a=b@c", "SRS0=abcd=ZZ=", "alice@example.org",
              "SRS0=" + "A" * 600 + "@x", "SRS0=abcd=6L=x.example=" + "=" * 50 + "@y"]:
        put("fuzz_srs", a)
def maildirsize():
    h = "fuzz_maildirsize"
    for m in ["10485760S,1000C\n  2048   1\n 512 1\n-512 -1\n", "5000S\n", "100C\n1 1\n", "\n10 2\n",
              "100S\n1 1\r\n", "100S", "100S\nabc 1\n", "1S,2C,3S\n", "100S\n" + "1 1\n" * 600,
              "9223372036854775807S\n9223372036854775807 1\n"]:
        put(h, m)


def vacation():
    h = "fuzz_vacation"
    for sender, hdr in [
        ("bob@x.test", "From: Bob <bob@x.test>\r\nTo: alice@acme.test\r\nSubject: Hi\r\n"
                       "Message-ID: <m1@x.test>\r\nReferences: <m0@x.test>\r\n\r\nbody"),
        ("bob@x.test", "To: x@y.test,\r\n Alice <ALICE@acme.test>\r\nSubject: a\r\n  b\r\n\r\n"),
        ("", "To: alice@acme.test\r\n\r\n"),
        ("owner-l@x.test", "To: alice@acme.test\r\n\r\n"),
        ("bob@x.test", "To: alice@acme.test\r\nList-Id: <l.x.test>\r\n\r\n"),
        ("bob@x.test", "To: alice@acme.test\r\nAuto-Submitted: auto-replied\r\n\r\n"),
        ("bob@x.test", "To: alice@acme.test\r\nPrecedence: bulk\r\n\r\n"),
        ("bob@x.test", "Cc: alice@acme.test\nSubject: bare\rcr\nReferences: <a\r@b>\n\n"),
    ]:
        put(h, sender.encode() + b"\0" + hdr.encode())


def lmtp_hop():
    h = "fuzz_lmtp_hop"
    for m in [
        "X-Hostmail-Hop: from=11 to=13 id=11.0TPKNXCBXL8006E60000\r\nFrom: a@b.example\r\n\r\nbody\r\n",
        "X-Hostmail-Hop: from=11 to=13 id=11.A\r\nX-Hostmail-Hop: from=12 to=13 id=12.B\r\n\r\n",
        "x-hostmail-hop :\r\n id=12.DEF\nSubject: x\n\nX-Hostmail-Hop: id=1\n",
        "250-node13.fleet.test\r\n250 SIZE 41943040\r\n",
        "550 5.1.1 <nobody@acme.test>: no such mailbox",
        "X-Hostmail-Hop: id=" + "9" * 200 + "\r\n",
        "\r\n\r\n", "X-Hostmail-Hop", "451",
    ]:
        put(h, m)


def main():
    for f in (smtp_cmd, addr, data_decode, sasl, header_from, envelope, config, session, pop3, pop3_session,
              smtp_reply, acc_form, acc_http, http_parse, msg_inspect, srs, maildirsize, vacation, milter,
              lmtp_hop):
        f()


if __name__ == "__main__":
    main()
