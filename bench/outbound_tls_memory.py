#!/usr/bin/python3
"""Peak memory of hostmaild while it delivers large messages over TLS
(issue 17): N messages of SIZE MiB are queued first (their DNS server not
running yet: deferred), then DNS starts and one flush sends all N at once, over
STARTTLS, to a private receiving Postfix (tests/integration/postfix_mx.py).
The daemon's peak RSS is reset (/proc/PID/clear_refs) just before the
flush, so VmHWM afterwards is the delivery's own peak.

    HOSTMAIL_BUILD=$PWD/build bench/outbound_tls_memory.py --count 1 --count 4

Run as root (as the tests): Postfix and hostmaild are private instances
on loopback ports, removed at the end."""
import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from conftest import Hostmail, setup_demo, wait_for          # noqa: E402
from postfix_mx import PostfixMX                              # noqa: E402
from test_outbound import DNS, submit                         # noqa: E402


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0      # MB
    return 0.0


def run(root, count, size_mb):
    mx = PostfixMX(root, domains=["big.test"]).start()
    dns = DNS(root)            # not started yet: every lookup fails for now (4.4.3, deferred)
    d = os.path.join(root, "sender")
    os.makedirs(d)
    h = Hostmail(d, extra=f"""
[queue]
retry_schedule = 1h
[delivery]
dns_servers = 127.0.0.1:{dns.port}
mx_port = {mx.port}
[limits]
message_size = 41943040
""")
    setup_demo(h)
    h.start()
    try:
        body = ("z" * 76 + "\r\n") * (size_mb * 1024 * 1024 // 78)
        for i in range(count):
            data = (f"From: <alice@acme.test>\r\nTo: <u{i}@big.test>\r\nSubject: big {i}\r\n"
                    f"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\nMessage-ID: <big{i}@acme.test>\r\n\r\n{body}")
            submit(h, [f"u{i}@big.test"], data.encode())
        h.wait_log(r"deferred: 4\.4\.3", count=count, timeout=60)
        idle_rss = status(h.proc.pid, "VmRSS")
        dns.start("--mx-host=big.test,mx.big.test,10", "--host-record=mx.big.test,127.0.0.1")
        with open(f"/proc/{h.proc.pid}/clear_refs", "w") as f:
            f.write("5")                                   # VmHWM := VmRSS now
        h.ctl("queue", "flush")
        wait_for(lambda: len(mx.messages("big.test")) >= count, 300, "every message at Postfix")
        h.wait_log(r"to=<u\d+@big\.test>: delivered", count=count, timeout=120)
        tls = h.logtext().count("TLS with mx.big.test")
        return idle_rss, status(h.proc.pid, "VmHWM"), tls
    finally:
        h.stop()
        dns.stop()
        mx.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, action="append", help="messages at once (repeatable)")
    ap.add_argument("--size-mb", type=int, default=39)
    a = ap.parse_args()
    build = os.environ.get("HOSTMAIL_BUILD", "build")
    for n in a.count or [1, 4]:
        root = tempfile.mkdtemp(prefix="hm-tlsmem-", dir=os.path.join(build, "."))
        try:
            idle, peak, tls = run(root, n, a.size_mb)
            print(f"{n} x {a.size_mb} MiB over TLS ({tls} TLS sessions): RSS before {idle:.1f} MB, "
                  f"peak while delivering {peak:.1f} MB (+{peak - idle:.1f} MB)", flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
