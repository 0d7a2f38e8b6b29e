#!/usr/bin/python3
"""rcpt_latency: what a RCPT pays for the recipient budget, end to end.

One hostmaild per store backend (SQLite; PostgreSQL in a private cluster
made by tests/pg/pgctl.sh), one client on loopback, RCPT after RCPT in one
session (each waits for its reply), timed at the client:

  lookup only     an MX transaction (a foreign sender) to the hosted
                  mailbox: the store's recipient lookup, no budget
  lookup+reserve  a relaying transaction (POP-before-SMTP, the account's
                  sender) to remote addresses: the lookup and rate_reserve,
                  one worker job, every recipient counted atomically

The difference of the medians is the reservation's price per RCPT. RSET
every 100 recipients (max_recipients) gives the reservations back.
pgctl.sh's cluster runs with fsync and synchronous_commit off (the tests
throw it away); --pg-durable turns both on, as a production database has
them, so every reservation waits for PostgreSQL's WAL flush.
Not part of the test run.

  bench/rcpt_latency.py [--rcpts N] [--backends sqlite,postgresql] [--pg-durable]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import USER, Hostmail, PgCluster, make_cert, pg_hostmail  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        self.reply()

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3]), line

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.cmd("QUIT")
        self.s.close()


def timed_rcpts(hm, sender, rcpt, n):
    c = Client(hm.port)
    c.cmd("EHLO client.bench.test")
    out = []
    for i in range(n):
        if i % 100 == 0:
            c.cmd("RSET")
            code, line = c.cmd(f"MAIL FROM:<{sender}>")
            assert code == 250, line
        t = time.perf_counter()
        code, line = c.cmd(f"RCPT TO:<{rcpt(i)}>")
        out.append(time.perf_counter() - t)
        assert code == 250, line
    c.close()
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1e6


def run_backend(backend, n, root, cert):
    pg = None
    try:
        hm_root = os.path.join(root, backend)
        os.makedirs(hm_root)
        if backend == "postgresql":
            pg = PgCluster(durable=DURABLE)
            hm = pg_hostmail(hm_root, BUILD, cert, pg)
        else:
            hm = Hostmail(hm_root, BUILD, cert)
        hm.start()
        try:
            hm.grant_relay()                 # 127.0.0.1 relays as the account
            timed_rcpts(hm, USER, lambda i: f"warm{i}@remote.bench", 200)
            lookup = timed_rcpts(hm, "someone@example.org", lambda i: USER, n)
            reserve = timed_rcpts(hm, USER, lambda i: f"r{i}@remote.bench", n)
        finally:
            hm.stop()
        return lookup, reserve
    finally:
        if pg:
            pg.destroy()


BUILD = os.environ.get("HOSTMAIL_BUILD", os.path.join(ROOT, "build"))
DURABLE = False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rcpts", type=int, default=2000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-durable", action="store_true", help="PostgreSQL with fsync and synchronous_commit on")
    a = ap.parse_args()
    global DURABLE
    DURABLE = a.pg_durable
    root = tempfile.mkdtemp(prefix="hm-rcpt-bench-")
    os.chmod(root, 0o755)
    cert = make_cert(root)
    print(f"RCPT round trips, one session, {a.rcpts} each, microseconds at the client")
    print("| store | RCPT | p50 | p90 | p99 | mean |")
    print("| --- | --- | --- | --- | --- | --- |")
    for backend in a.backends.split(","):
        lookup, reserve = run_backend(backend, a.rcpts, root, cert)
        label = backend + (" (fsync on)" if backend == "postgresql" and DURABLE else "")
        for name, xs in (("lookup only", lookup), ("lookup+reserve", reserve)):
            print(f"| {label} | {name} | {pct(xs, .5):.0f} | {pct(xs, .9):.0f} | {pct(xs, .99):.0f} "
                  f"| {statistics.mean(xs) * 1e6:.0f} |")
        print(f"| {label} | reservation's price (p50 difference) | {pct(reserve, .5) - pct(lookup, .5):.0f} | | | |")
    subprocess.run(["rm", "-rf", root])


if __name__ == "__main__":
    main()
