"""Floods that must not take the service down (issue 24): running out of
file descriptors (a daemon started with a small RLIMIT_NOFILE, filled by
connections from many loopback addresses) costs little CPU and a bounded
amount of log, and once the flood ends SMTP and POP3 answer again; during
a flood of ACC password checks a POP3 login and an SMTP AUTH are answered
promptly (one fair hashing queue for every service)."""
import os
import resource
import socket
import time

from conftest import Hostmail, setup_demo, wait_for
from test_pop3 import pop_login

FD_LIMIT = 160


def small_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def flood(port, sources, per_source, into):
    """Connect per_source times from each source address; keep the sockets."""
    for src in sources:
        for _ in range(per_source):
            s = socket.socket()
            s.setblocking(False)
            s.bind((src, 0))
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            into.append(s)


def test_descriptor_exhaustion_does_not_spin(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))   # this test holds a few hundred
    hm = Hostmail(tmp_path)
    setup_demo(hm)
    socks = []
    try:
        hm.start(preexec_fn=small_nofile)
        pid = hm.proc.pid
        log = hm.logtext()
        assert "RLIMIT_NOFILE allows 160" in log, log[-2000:]
        # 12 addresses x 20 connections (under the per-address cap of 50) on
        # SMTP, then a few on POP3 and the ACC: more than the limit
        sources = [f"127.0.0.{i}" for i in range(2, 14)]
        flood(hm.smtp_port, sources, 20, socks)
        flood(hm.pop3_port, sources[:4], 5, socks)
        flood(hm.acc_port, sources[:4], 5, socks)
        wait_for(lambda: "Too many open files" in hm.logtext(), 15, "the descriptor limit")
        assert open_fds(pid) >= FD_LIMIT - 5
        # hold: the listeners must rest, not spin
        log_size, cpu = os.path.getsize(hm.log_path), cpu_seconds(pid)
        time.sleep(3)                   # deliberate: the window CPU and log are measured over
        cpu_used = cpu_seconds(pid) - cpu
        log_grown = os.path.getsize(hm.log_path) - log_size
        assert cpu_used < 1.0, f"{cpu_used} s of CPU in 3 s at the descriptor limit"
        assert log_grown < 20000, f"the log grew by {log_grown} bytes in 3 s"
        assert hm.proc.poll() is None
    finally:
        for s in socks:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        # the flood is over: a normal client is served
        def greeted():
            try:
                with socket.create_connection(("127.0.0.1", hm.smtp_port), timeout=5) as c:
                    return c.recv(512).startswith(b"220 ")
            except OSError:
                return False
        wait_for(greeted, 15, "a 220 after the flood", interval=0.2)
        p = pop_login(hm)
        assert p.stat()[0] == 0
        p.quit()
        assert "(repeated" in hm.logtext() or hm.logtext().count("Too many open files") < 50
    finally:
        hm.stop()


# --- password checks are fair across services ----------------------------------

def test_logins_stay_prompt_during_an_acc_password_change_flood(server):
    """24 addresses each post 10 ACC password changes at once (240
    requests, each a password check); a POP3 login and an SMTP AUTH with
    the right password, made once every one of them is in, are answered
    while ACC checks queued before them still wait. Before the fair queue
    they waited behind every queued ACC check (9-11 s). No time limit:
    the order of the answers shows it, however loaded the machine."""
    import smtplib
    import ssl
    import threading
    from acc_client import AccClient
    from test_acc import ACME_PW, logged_in

    server.ctl("account", "passwd", "acme", input=ACME_PW + "\n")
    owner = logged_in(server)
    token = owner.csrf()
    statuses = []
    sent = []
    lock = threading.Lock()
    go = threading.Event()

    def attacker(src):
        c = AccClient(server, source=src)
        c.cookies = dict(owner.cookies)
        c.timeout = 120                              # a loaded machine is slow, not wrong
        go.wait()
        try:
            r = c.request("POST", "/account/password",
                          form={"csrf": token, "current": "wrong-password",
                                "password": "x-new-password", "password2": "x-new-password"},
                          sent=lambda: sent.append(1))
            st = r.status
            if st == 503:                            # refused at once, with when to come back
                assert r.header("Retry-After") == "5", r
        except OSError as e:
            st = repr(e)
        with lock:
            statuses.append(st)

    threads = [threading.Thread(target=attacker, args=(f"127.0.1.{1 + i // 10}",)) for i in range(240)]
    for t in threads:
        t.start()
    flood_start = time.time()
    go.set()
    try:
        # every request is in, and the ACC's checks filled their share of
        # the login queue: it refuses the next
        wait_for(lambda: len(sent) + len(statuses) >= 240 and 503 in statuses, 60,
                 "every ACC request sent and the login queue's first 503")
        t0 = time.time()
        p = pop_login(server)
        pop_took = time.time() - t0
        with lock:
            checked_before_pop = statuses.count(303)
        p.quit()
        ctx = ssl.create_default_context(cafile=server.pki["ca"])
        t0 = time.time()
        with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=60) as s:
            s.starttls(context=ctx)
            s.login("alice@acme.test", "alice-secret")
        smtp_took = time.time() - t0
    finally:
        for t in threads:
            t.join(120)
    flood_took = time.time() - flood_start
    print(f"flood {flood_took:.1f} s, POP3 login {pop_took:.2f} s, SMTP AUTH {smtp_took:.2f} s, "
          f"ACC answers {sorted(set(statuses), key=str)}, checked before the POP3 login {checked_before_pop} "
          f"of {statuses.count(303)}")
    # the POP3 login overtook ACC checks that were queued before it
    assert checked_before_pop < statuses.count(303), "the POP3 login waited behind every queued ACC check"
    assert len(statuses) == 240
    # each was answered: the form again (303) or, beyond the queue's bound, 503
    assert set(statuses) <= {303, 503}, statuses
    assert 503 in statuses                           # the queue is bounded
    log = server.logtext()
    assert log.count("acc: account=acme ip=127.0.1.7 account password change refused") <= 5
