"""The connection layer every protocol shares (src/daemon/conn.c): a TLS
connection ends with the server's close_notify; a session is never freed
while one of its worker jobs runs, even when its TLS handshake deadline
passes meanwhile (port 465, whose POP-before-SMTP lookup runs during the
handshake); a reader that stops reading is closed, one still reading is
not."""
import os
import signal
import socket
import ssl
import subprocess
import time

from conftest import Hostmail, setup_demo
from pg import store_config

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"


def ctx_for(hm):
    c = ssl.create_default_context(cafile=hm.pki["ca"])
    c.check_hostname = False
    # Python's default takes a bare EOF for a close_notify: tell them apart
    c.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return c


def lines_until(sock, prefix, limit=65536):
    data = b""
    while prefix not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def ends_with_close_notify(tls):
    """After the server closed: did it say so in TLS (close_notify), rather
    than just closing the TCP connection? unwrap() sends ours and reads
    theirs; a bare EOF raises."""
    try:
        tls.unwrap()
        return True
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError, OSError):
        return False


def test_every_tls_connection_ends_with_close_notify(server):
    hm = server
    # 465: implicit TLS, QUIT
    s = ctx_for(hm).wrap_socket(socket.create_connection(("127.0.0.1", hm.submissions_port), timeout=10))
    assert lines_until(s, b"\r\n").startswith(b"220 ")
    s.sendall(b"QUIT\r\n")
    assert lines_until(s, b"221").startswith(b"221")
    assert ends_with_close_notify(s)
    # 587: STARTTLS, then QUIT
    raw = socket.create_connection(("127.0.0.1", hm.submission_port), timeout=10)
    lines_until(raw, b"\r\n")
    raw.sendall(b"EHLO client.test\r\n")
    lines_until(raw, b"250 ")
    raw.sendall(b"STARTTLS\r\n")
    assert lines_until(raw, b"\r\n").startswith(b"220")
    s = ctx_for(hm).wrap_socket(raw)
    s.sendall(b"QUIT\r\n")
    assert lines_until(s, b"221").startswith(b"221")
    assert ends_with_close_notify(s)
    # 995: POP3S, QUIT
    s = ctx_for(hm).wrap_socket(socket.create_connection(("127.0.0.1", hm.pop3s_port), timeout=10))
    assert lines_until(s, b"\r\n").startswith(b"+OK")
    s.sendall(b"QUIT\r\n")
    assert lines_until(s, b"\r\n").startswith(b"+OK")
    assert ends_with_close_notify(s)
    # the ACC, Connection: close
    s = ctx_for(hm).wrap_socket(socket.create_connection(("127.0.0.1", hm.acc_port), timeout=10))
    s.sendall(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert lines_until(s, b"</html>").startswith(b"HTTP/1.1 200")
    assert ends_with_close_notify(s)


def postgres_pids(cluster):
    """The cluster's processes: the postmaster and its children."""
    with open(os.path.join(cluster.dir, "data", "postmaster.pid")) as f:
        master = int(f.readline())
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [master] + [int(p) for p in out.split()]


def test_handshake_deadline_while_a_job_runs(tmp_path, pg_cluster, pg_dsn):
    """On 465 the POP-before-SMTP lookup runs while the client is still in
    its TLS handshake. With the database frozen the lookup waits out the
    statement timeout (3 s) while the handshake deadline (1 s) passes: the
    connection is closed at once, its state freed only when the lookup
    returns (under ASan, a use-after-free would fail this test), and the
    daemon goes on serving."""
    hm = Hostmail(tmp_path, extra=store_config(pg_dsn, "3s") + "[smtp]\ntls_handshake_timeout = 1\n")
    hm.ctl("db", "init")
    setup_demo(hm)
    hm.start()
    try:
        pids = postgres_pids(pg_cluster)
        for p in pids:
            os.kill(p, signal.SIGSTOP)
        try:
            s = socket.create_connection(("127.0.0.1", hm.submissions_port), timeout=10)
            t = time.time()
            assert s.recv(100) == b""                  # no handshake: closed by the deadline
            assert time.time() - t < 2.9               # before the lookup could have returned
            s.close()
        finally:
            for p in pids:
                os.kill(p, signal.SIGCONT)
        hm.wait_log("disconnect")                      # freed once the lookup returned
        assert "TLS handshake timeout" in hm.logtext()
        s = ctx_for(hm).wrap_socket(socket.create_connection(("127.0.0.1", hm.submissions_port), timeout=10))
        assert lines_until(s, b"\r\n").startswith(b"220 ")
        s.close()
    finally:
        hm.stop()


def test_a_reader_that_stops_is_closed(make_server):
    """A client that stops reading a long RETR (the kernel's buffers fill)
    is not reading: it is closed after the idle time (at most twice it)."""
    hm = make_server("[pop3]\ntimeout = 2\nallow_plaintext_auth = yes\n")
    md = hm.maildir(ALICE)
    body = b"Subject: big\r\n\r\n" + (b"y" * 76 + b"\r\n") * (8 * 1024 * 1024 // 78)
    with open(os.path.join(md, "new", "1.big"), "wb") as f:
        f.write(body)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.connect(("127.0.0.1", hm.pop3_port))
    s.settimeout(20)
    lines_until(s, b"\r\n")
    s.sendall(f"USER {ALICE}\r\nPASS {ALICE_PW}\r\n".encode())
    lines_until(s, b"Logged in")
    s.sendall(b"RETR 1\r\n")
    s.recv(4096)                                       # then read nothing more
    hm.wait_log("idle timeout")                        # else a stalled reader was never closed
    s.close()


def test_a_client_gone_during_the_failed_login_delay(server):
    """A wrong password is answered after a delay; a client that leaves
    during it (as password guessers do) leaves nothing behind: its session
    is freed (the ASan build's leak check at exit would say otherwise),
    and the daemon serves on."""
    import base64
    for i in range(3):
        s = ctx_for(server).wrap_socket(socket.create_connection(("127.0.0.1", server.submissions_port),
                                                                 timeout=10))
        lines_until(s, b"\r\n")
        s.sendall(b"EHLO client.test\r\n")
        lines_until(s, b"250 ")
        cred = base64.b64encode(b"\0" + ALICE.encode() + b"\0wrong-password").decode()
        s.sendall(f"AUTH PLAIN {cred}\r\n".encode())
        server.wait_log("smtp authentication failed", count=i + 1)   # the check is done: the delay runs
        s.close()                                      # before the 535
    server.wait_log(r"smtp\[\d+\] ip=\S+: disconnect", count=3)   # the delays end with nobody to answer
    s = ctx_for(server).wrap_socket(socket.create_connection(("127.0.0.1", server.submissions_port), timeout=10))
    assert lines_until(s, b"\r\n").startswith(b"220 ")
    s.close()
    assert server.logtext().count("disconnect") >= 3
