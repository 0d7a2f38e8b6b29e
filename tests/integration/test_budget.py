"""Recipient budgets reserved at RCPT (issue 15): each accepted RCPT of an
authorized session takes one recipient of the account's hourly budget in
one atomic step, kept if the message is queued, given back when the
transaction ends otherwise (RSET, QUIT, a refused message). Many sessions of
one account at once can never pass the budget. Runs on either store
(HOSTMAIL_TEST_STORE); the multi-node variant is in test_pg_cluster.py."""
import smtplib
import ssl
import threading
import time

from conftest import queue_files

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
BODY = "From: alice@acme.test\r\nSubject: budget\r\n\r\nbody\r\n"


def away_from_the_hour():
    """The hourly window must not turn during a test: wait it out if near."""
    left = 3600 - time.time() % 3600
    if left < 30:
        time.sleep(left + 1)


def auth_session(hm, source=None):
    """AUTH on submission. Parallel logins come from addresses of their
    own: a client address gets at most 5 logins in flight (auth/throttle)."""
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    ctx.check_hostname = False
    s = smtplib.SMTP(hm.host, hm.submission_port, local_hostname="client.test", timeout=30,
                     source_address=(source, 0) if source else None)
    s.starttls(context=ctx)
    s.login(ALICE, ALICE_PW)
    return s


def hour_used(hm, account="acme"):
    """Recipients counted in the account's current hourly window."""
    now = int(time.time())
    rows = hm.sql("SELECT b.hour_count FROM rate_budget b JOIN accounts a ON a.id = b.account_id"
                  " WHERE a.name = ? AND b.hour_start = ?", (account, now - now % 3600))
    return rows[0][0] if rows else 0


def wait_used(hm, n, timeout=5.0):
    """Releases run on a worker after the reply: wait for the count."""
    deadline = time.time() + timeout
    while time.time() < deadline and hour_used(hm) != n:
        time.sleep(0.05)
    return hour_used(hm)


def race(nodes, sessions, rcpts_each, send=True):
    """`sessions` authorized sessions at once, spread over nodes, each
    trying rcpts_each remote recipients after a common start; the codes
    each got, and the replies to DATA."""
    ready = threading.Barrier(sessions)
    codes, datas, errors = [], [], []
    lock = threading.Lock()

    def one(i):
        try:
            hm = nodes[i % len(nodes)]
            s = auth_session(hm, source=f"127.0.1.{i + 1}")
            ready.wait(timeout=60)
            assert s.mail(ALICE)[0] == 250
            got = [s.rcpt(f"r{i}-{k}@remote.test")[0] for k in range(rcpts_each)]
            data = None
            if send and 250 in got:
                data = s.data(BODY)[0]
            s.quit()
            with lock:
                codes.extend(got)
                if data is not None:
                    datas.append(data)
        except Exception as e:            # reported below, not lost in a thread
            with lock:
                errors.append(repr(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return codes, datas


def test_parallel_sessions_never_pass_the_hourly_budget(make_server):
    away_from_the_hour()
    hm = make_server()
    hm.ctl("account", "limits", "acme", "--per-hour", "10")
    codes, datas = race([hm], 20, 3)
    assert len(codes) == 60
    assert codes.count(250) == 10, codes
    assert set(codes) == {250, 450}
    assert datas and set(datas) == {250}
    # the queued messages are the budget, counted once (no second count at commit)
    assert len(queue_files(hm, "env")) == len(datas)
    assert wait_used(hm, 10) == 10
    s = auth_session(hm)
    s.mail(ALICE)
    code, text = s.rcpt("late@remote.test")
    assert code == 450 and b"hourly limit of 10 recipients reached" in text
    s.quit()
    assert wait_used(hm, 10) == 10


def test_a_transaction_not_committed_gives_its_budget_back(make_server):
    away_from_the_hour()
    hm = make_server()
    hm.ctl("account", "limits", "acme", "--per-hour", "3")
    a = auth_session(hm)
    assert a.mail(ALICE)[0] == 250
    assert [a.rcpt(f"a{k}@remote.test")[0] for k in range(3)] == [250, 250, 250]
    assert hour_used(hm) == 3
    b = auth_session(hm)
    assert b.mail(ALICE)[0] == 250
    assert b.rcpt("b0@remote.test")[0] == 450       # all of it reserved by a

    # RSET: a's reservation is free again, and b can use it
    assert a.rset()[0] == 250
    assert wait_used(hm, 0) == 0
    assert [b.rcpt(f"b{k}@remote.test")[0] for k in range(1, 4)] == [250, 250, 250]
    assert b.rcpt("b4@remote.test")[0] == 450

    # a client that hangs up in the middle of a transaction gives it back
    b.close()
    assert wait_used(hm, 0) == 0

    # a message refused at the end of DATA (From: not the account's) too
    c = auth_session(hm)
    assert c.mail(ALICE)[0] == 250
    assert c.rcpt("c0@remote.test")[0] == 250 and c.rcpt("c1@remote.test")[0] == 250
    code, _ = c.data("From: someone@elsewhere.test\r\nSubject: x\r\n\r\nbody\r\n")
    assert code == 550
    assert wait_used(hm, 0) == 0

    # a queued message keeps its count, and a later RSET gives nothing back
    assert c.mail(ALICE)[0] == 250
    assert c.rcpt("c2@remote.test")[0] == 250 and c.rcpt("c3@remote.test")[0] == 250
    assert c.data(BODY)[0] == 250
    assert c.rset()[0] == 250
    assert c.mail(ALICE)[0] == 250
    assert c.rcpt("c4@remote.test")[0] == 250
    assert c.rcpt("c5@remote.test")[0] == 450
    c.quit()                                        # c4 given back
    assert wait_used(hm, 2) == 2
    a.quit()


def test_a_session_that_times_out_gives_its_budget_back(make_server):
    away_from_the_hour()
    hm = make_server("[smtp]\ntimeout = 2s\n")
    hm.ctl("account", "limits", "acme", "--per-hour", "5")
    s = auth_session(hm)
    assert s.mail(ALICE)[0] == 250
    assert [s.rcpt(f"t{k}@remote.test")[0] for k in range(2)] == [250, 250]
    assert hour_used(hm) == 2
    time.sleep(3)                                   # idle past [smtp] timeout: 421, closed
    assert wait_used(hm, 0) == 0
    assert "idle timeout" in hm.logtext()
