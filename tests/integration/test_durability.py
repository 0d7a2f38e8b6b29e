"""Nothing acknowledged is ever lost: kill -9 the daemon in the middle of a
stream of messages, restart it, and find every message that got a 250 in
the Maildir, complete. The queue drains after the restart."""
import email
import email.policy
import os
import re
import smtplib
import threading
import time

from conftest import message_files, queue_files, wait_for

THREADS = 4
PER_THREAD = 75            # 300 messages in all


def body_for(token):
    # a few KB so that a torn write would show
    filler = "".join(f"line {i} of {token} ........................................\r\n" for i in range(40))
    return (f"From: load@example.org\r\n"
            f"To: alice@acme.test\r\n"
            f"Subject: {token}\r\n"
            f"Message-Id: <{token}@load.example.org>\r\n"
            f"\r\n"
            f"{filler}"
            f"END-OF-BODY {token}\r\n").encode()


def sender(port, t, acked, lock, stop):
    """Send PER_THREAD messages over one connection; record each 250."""
    rcpts = ["alice@acme.test"] if t % THREADS < THREADS - 1 else ["alice@acme.test", "bob@acme.test"]
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname=f"load{t}.test", timeout=10)
        s.ehlo()
        for i in range(PER_THREAD):
            if stop.is_set():
                break
            token = f"dur-{t}-{i}"
            s.mail(f"load{t}@example.org")
            for r in rcpts:
                code, _ = s.rcpt(r)
                if code != 250:
                    raise RuntimeError(f"rcpt {r}: {code}")
            code, text = s.data(body_for(token))
            if code == 250:
                with lock:
                    acked[token] = rcpts
        s.quit()
    except (OSError, smtplib.SMTPException, RuntimeError):
        pass                 # the daemon was killed under us


def tokens_in(hm, address):
    """token -> number of copies; and the list of problems (truncated files)."""
    found, problems = {}, []
    for path in message_files(hm, address):
        with open(path, "rb") as f:
            data = f.read()
        m = re.search(rb"^Subject: (dur-\d+-\d+)$", data, re.M)
        if not m:
            problems.append((path, "no Subject", data[:200]))
            continue
        token = m.group(1).decode()
        if not data.endswith(f"END-OF-BODY {token}\n".encode()):
            problems.append((path, "truncated", data[-200:]))
            continue
        msg = email.message_from_bytes(data, policy=email.policy.default)
        if msg["Message-Id"] != f"<{token}@load.example.org>" or msg.defects:
            problems.append((path, "bad parse", msg.defects))
            continue
        sz = re.search(r",S=(\d+)", os.path.basename(path))
        if sz and int(sz.group(1)) != len(data):
            problems.append((path, "S= differs from the size", len(data)))
        found[token] = found.get(token, 0) + 1
    return found, problems


def wait_until(pred, timeout, interval=0.1):
    """conftest.wait_for, but False after timeout instead of an error."""
    try:
        return bool(wait_for(pred, timeout, interval=interval))
    except AssertionError:
        return False


def count(acked, lock):
    with lock:
        return len(acked)


def test_kill9_during_stream_loses_nothing_acknowledged(server):
    acked, lock, stop = {}, threading.Lock(), threading.Event()
    threads = [threading.Thread(target=sender, args=(server.smtp_port, t, acked, lock, stop))
               for t in range(THREADS)]
    t0 = time.time()
    for th in threads:
        th.start()
    # kill in the middle: after ~1 s, or earlier if half the stream is through
    wait_until(lambda: count(acked, lock) >= THREADS * PER_THREAD // 2, 1.0 - (time.time() - t0), 0.01)
    server.kill9()
    stop.set()
    for th in threads:
        th.join(timeout=30)
    n_acked = len(acked)
    assert n_acked > 0, "no message acknowledged before the kill: " + server.logtext()[-2000:]
    assert n_acked < THREADS * PER_THREAD, "the stream finished before the kill; test proves nothing"

    server.start()
    want = {"alice@acme.test": set(acked),
            "bob@acme.test": {t for t, r in acked.items() if "bob@acme.test" in r}}

    def all_there():
        return all(set(tokens_in(server, a)[0]) >= w for a, w in want.items())

    wait_until(all_there, 30)
    for addr, w in want.items():
        found, problems = tokens_in(server, addr)
        missing = sorted(w - set(found))
        dups = {t: n for t, n in found.items() if n > 1}
        print(f"{addr}: acked {len(w)}, delivered {len(found)} distinct, "
              f"{sum(found.values())} files, {len(dups)} duplicated")
        assert not problems, problems[:5]
        assert not missing, f"{len(missing)} acknowledged messages lost for {addr}: {missing[:10]}"

    # the queue drains: no envelope left, nothing pending in `queue list`
    assert wait_until(lambda: queue_files(server, "env") == [], 20), queue_files(server, "env")
    assert queue_files(server, "msg") == []
    r = server.ctl("queue", "list")
    assert "alice@acme.test" not in r.stdout and "bob@acme.test" not in r.stdout, r.stdout


def test_queue_recovered_after_kill_before_delivery(server):
    """Messages accepted while the daemon is killed right away are delivered
    by the next start (recovery from queue/env)."""
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, local_hostname="client.test", timeout=10)
    ids = []
    for i in range(5):
        s.ehlo_or_helo_if_needed()
        s.mail("q@example.org")
        s.rcpt("bob@acme.test")
        code, text = s.data(body_for(f"dur-9-{i}"))
        assert code == 250
        ids.append(text)
    server.kill9()
    s.close()
    server.start()
    assert wait_until(lambda: len(tokens_in(server, "bob@acme.test")[0]) == 5, 20)
    found, problems = tokens_in(server, "bob@acme.test")
    assert not problems
    assert set(found) == {f"dur-9-{i}" for i in range(5)}
    assert wait_until(lambda: queue_files(server, "env") == [], 20)
    assert queue_files(server, "tmp") == []


def test_repeated_kill9_at_different_moments(server):
    """Three kill -9s at different points of one stream, restarting each
    time on the same data directory: still nothing acknowledged is lost."""
    acked, lock = {}, threading.Lock()
    for rnd, kill_after in enumerate((5, 40, 90)):
        stop = threading.Event()
        base = len(acked)

        def run(t):
            sender(server.smtp_port, 10 * (rnd + 1) + t, acked, lock, stop)

        threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        wait_until(lambda: count(acked, lock) - base >= kill_after, 5, 0.002)
        server.kill9()
        stop.set()
        for th in threads:
            th.join(timeout=30)
        server.start()
    assert len(acked) > 0

    want_bob = {t for t, r in acked.items() if "bob@acme.test" in r}

    def all_there():     # bob's copies may come a moment after alice's
        return (set(tokens_in(server, "alice@acme.test")[0]) >= set(acked) and
                set(tokens_in(server, "bob@acme.test")[0]) >= want_bob)

    assert wait_until(all_there, 30), (
        sorted(set(acked) - set(tokens_in(server, "alice@acme.test")[0]))[:10],
        sorted(want_bob - set(tokens_in(server, "bob@acme.test")[0]))[:10])
    for addr in ("alice@acme.test", "bob@acme.test"):
        found, problems = tokens_in(server, addr)
        assert not problems, problems[:5]
    assert wait_until(lambda: queue_files(server, "env") == [], 20), queue_files(server, "env")
