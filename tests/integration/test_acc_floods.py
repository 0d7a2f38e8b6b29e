"""The Account Control Center under attack (issue 24): its connection caps,
the deadlines of a TLS handshake and of a request however slowly it
trickles, strict HTTP/1.1 (every request-smuggling ambiguity is refused
and the connection closed, with the security headers on the refusal),
and its sessions: ended by a password change or `account logout`, capped
per account without touching other accounts' sessions."""
import re
import socket
import ssl
import time

import pytest

from acc_client import AccClient
from test_acc import ACME_PW, acc, logged_in  # noqa: F401 (the fixture)

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                    "Referrer-Policy", "Cache-Control", "Strict-Transport-Security")


def tls_socket(hm, source=None, timeout=10):
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    raw = socket.create_connection(("127.0.0.1", hm.acc_port), timeout=timeout,
                                   source_address=(source, 0) if source else None)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_all(s, limit=1 << 20):
    """Everything until the server closes (or the socket times out)."""
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ssl.SSLError, ConnectionError):
        pass
    return data


def exchange(hm, raw):
    """Send raw request bytes over TLS; the answer, and whether the server
    closed the connection after it."""
    s = tls_socket(hm)
    s.sendall(raw)
    data = read_all(s)
    s.close()
    return data


def status_of(answer):
    line = answer.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 "), answer[:200]
    return int(line.split()[1])


def headers_of(answer):
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip() for h in head if ":" in h}


# --- strict HTTP/1.1 ---------------------------------------------------------

HOST = b"Host: localhost\r\n"
FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"

SMUGGLING = [
    # two different Content-Length values (evhttp used the first one)
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Content-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg"),
    # the same value twice is refused too
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
    # white space before the colon (a proxy may read chunked, we length)
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc"),
    # both framings
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    # chunk size with a 0x prefix, and with a sign
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n"),
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Transfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n"),
    # a signed length
    (400, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Content-Length: +3\r\n\r\nabc"),
    # a folded header line (obs-fold)
    (400, b"GET /login HTTP/1.1\r\n" + HOST + b"X-A: 1\r\n  folded\r\n\r\n"),
    # HTTP/1.1 without Host, and with two
    (400, b"GET /login HTTP/1.1\r\n\r\n"),
    (400, b"GET /login HTTP/1.1\r\n" + HOST + b"Host: other\r\n\r\n"),
    # a bare LF line end
    (400, b"GET /login HTTP/1.1\n" + HOST + b"\r\n"),
    # an unknown version: 505, not "HTTP/1.2 200"
    (505, b"GET /login HTTP/1.2\r\n" + HOST + b"\r\n"),
    # an unknown transfer coding
    (501, b"POST /login HTTP/1.1\r\n" + HOST + FORM + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
]


@pytest.mark.parametrize("status,raw", SMUGGLING, ids=[str(i) for i in range(len(SMUGGLING))])
def test_ambiguous_requests_are_refused_and_closed(acc, status, raw):
    # a good request first on the same connection: the refusal closes it,
    # and the request after the bad one is never answered
    answer = exchange(acc, b"GET /login HTTP/1.1\r\n" + HOST + b"\r\n" + raw +
                      b"GET /login HTTP/1.1\r\n" + HOST + b"\r\n")
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert status_of(first) == 200
    i = rest.find(b"HTTP/1.1 ")
    assert i >= 0, rest[-300:]
    refusal = rest[i:]
    assert status_of(refusal) == status
    h = headers_of(refusal)
    for name in SECURITY_HEADERS:
        assert name.lower() in h, (name, h)
    assert h.get("connection") == "close"
    assert refusal.count(b"HTTP/1.1 ") == 1          # nothing answered after it
    assert f"acc: ip=127.0.0.1 refused request: {status}".encode() in open(acc.log_path, "rb").read()


def test_keep_alive_pipelined_requests_are_answered_in_order(acc):
    answer = exchange(acc, b"GET /login HTTP/1.1\r\n" + HOST + b"\r\n" +
                      b"GET /nosuch HTTP/1.1\r\n" + HOST + b"\r\n" +
                      b"HEAD /login HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]
    assert statuses == [200, 404, 200]
    assert answer.endswith(b"\r\n\r\n")              # HEAD: no body after the last head


# --- caps and deadlines -----------------------------------------------------

def test_connections_from_one_address_are_capped(make_server):
    hm = make_server("[acc]\nmax_connections_per_ip = 5\n")
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    held = []
    for _ in range(5):
        s = tls_socket(hm, source="127.0.0.21")
        held.append(s)
    # the sixth is closed at once (no TLS handshake: an implicit-TLS port
    # gets no clear-text refusal)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        s = tls_socket(hm, source="127.0.0.21", timeout=5)
        s.sendall(b"GET /login HTTP/1.1\r\n" + HOST + b"\r\n")
        if not s.recv(100):
            raise ConnectionError("closed")
    # another address is served, and so is this one once a slot is free
    assert AccClient(hm, source="127.0.0.22").get("/login").status == 200
    held.pop().close()
    deadline = time.time() + 10
    while True:
        try:
            assert AccClient(hm, source="127.0.0.21").get("/login").status == 200
            break
        except (ssl.SSLError, ConnectionError):
            assert time.time() < deadline
    for s in held:
        s.close()
    assert "acc: ip=127.0.0.21 refused: too many connections from this address" in hm.logtext()


def test_a_trickled_request_is_cut_off_at_its_deadline(make_server):
    hm = make_server("[acc]\nrequest_timeout = 2\nkeepalive_timeout = 60\n")
    s = tls_socket(hm, timeout=30)
    request = b"GET /login HTTP/1.1\r\n" + HOST + b"X-Pad: " + b"a" * 40 + b"\r\n\r\n"
    t = time.time()
    answer = b""
    try:
        for i in range(len(request)):      # a byte every 0.25 s: 20 s to send it all
            s.sendall(request[i:i + 1])
            time.sleep(0.25)                # deliberate: the client trickles its request
            if i % 4 == 0:
                s.settimeout(0.01)
                try:
                    answer += s.recv(4096)
                except (socket.timeout, ssl.SSLWantReadError):
                    pass
                s.settimeout(30)
            if answer:
                break
    except (ConnectionError, ssl.SSLError):
        pass
    answer += read_all(s)
    s.close()
    assert time.time() - t < 15                      # well before the trickle would end
    assert status_of(answer) == 408
    assert "not complete within [acc] request_timeout" in hm.logtext()


def test_a_trickled_tls_handshake_is_cut_off(make_server):
    hm = make_server("[smtp]\ntls_handshake_timeout = 2\n")
    hello = bytes.fromhex("16030100") + b"\x02\x00" + b"\x01" + b"\x00" * 40   # a ClientHello's start
    s = socket.create_connection(("127.0.0.1", hm.acc_port), timeout=30)
    t = time.time()
    closed = False
    for b in hello:
        try:
            s.sendall(bytes([b]))
        except (ConnectionError, BrokenPipeError):
            closed = True
            break
        time.sleep(0.5)                               # deliberate trickle: 20 s for the whole of it
        s.settimeout(0.01)
        try:
            if s.recv(100) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except ConnectionError:
            closed = True
            break
        s.settimeout(30)
    s.close()
    assert closed and time.time() - t < 15
    assert "acc" in hm.logtext() and "TLS handshake timeout" in hm.logtext()


# --- sessions ------------------------------------------------------------------

def test_cookies_carry_the_host_prefix(acc):
    page = AccClient(acc).get("/login")
    sc = page.set_cookies()
    assert sc and all(c.startswith("__Host-") and "Path=/" in c and "Secure" in c and "Domain" not in c
                      for c in sc), sc
    c = logged_in(acc)
    assert "__Host-hm_session" in c.cookies


def test_account_passwd_and_logout_end_sessions(acc):
    a, b = logged_in(acc), logged_in(acc)
    assert a.get("/overview").status == 200 and b.get("/overview").status == 200
    acc.ctl("account", "passwd", "acme", input="another-password\n")
    for c in (a, b):
        r = c.get("/overview")
        assert r.status == 303 and r.header("Location") == "/login"
    c = logged_in(acc, password="another-password")
    r = acc.ctl("account", "logout", "acme")
    assert r.stdout.strip() == "1 session(s) ended"
    assert c.get("/overview").status == 303


def test_an_account_password_change_ends_the_other_sessions_only(acc):
    here, elsewhere = logged_in(acc), logged_in(acc)
    token = here.csrf()
    r = here.post("/account/password", {"csrf": token, "current": "wrong-password",
                                        "password": "new-acme-pw", "password2": "new-acme-pw"})
    assert r.status == 303 and "wrong" in here.get("/account").text
    assert elsewhere.get("/overview").status == 200
    r = here.post("/account/password", {"csrf": token, "current": ACME_PW,
                                        "password": "new-acme-pw", "password2": "new-acme-pw"})
    assert r.status == 303
    page = here.get("/account")
    assert page.status == 200 and "The account password was changed" in page.text
    assert elsewhere.get("/overview").status == 303
    assert AccClient(acc).login("acme", ACME_PW).status == 403
    logged_in(acc, password="new-acme-pw")


def test_one_account_cannot_evict_another_accounts_sessions(make_server):
    hm = make_server("[acc]\nsessions_per_account = 3\n")
    hm.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    hm.ctl("account", "add", "other")
    hm.ctl("account", "passwd", "other", input="other-password\n")
    theirs = logged_in(hm, account="other", password="other-password")
    mine = [logged_in(hm) for _ in range(6)]         # twice acme's cap
    assert theirs.get("/overview").status == 200
    alive = [c.get("/overview").status for c in mine]
    assert alive == [303, 303, 303, 200, 200, 200]   # acme's own oldest ended
