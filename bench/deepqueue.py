"""deepqueue: the bench/run scenario of a deep queue of deferred mail.

Both servers are filled with the same number of messages (smtp-source,
20 sessions, 1 KB each, as an authorized client) relayed to remote.test,
whose MX (the bench's dnsmasq) is a loopback port where nothing listens:
every try is refused, and every message ends up deferred, its next try
an hour away (hostmail [queue] retry_schedule = 1h; Postfix
minimal_backoff_time = 1h; Postfix's queue_run_delay keeps its default,
300 s). Then, with the queue that deep, for both:

  - CPU while idle over a fixed interval, both measured over the same
    interval: utime + stime from /proc/PID/stat of every process of the
    instance (Postfix: the master, its children, and the children that
    ended meanwhile, through the master's cutime/cstime);
  - resident memory (PSS and RSS, every process);
  - a restart: the time from starting the server until a new connection
    gets its 220 (hostmail: also until its log says the schedule is
    loaded), and the CPU the instance used in its first 10 s;
  - accept throughput into the Maildir (smtp-source, 4 KB, 20 sessions)
    while the queue stays that deep.

At the end both queues are emptied and the servers go back to the plain
configuration. Run by bench/run (scenario "deepqueue"), which passes
itself as `b` for its helpers.
"""
import os
import re
import shutil
import time

import servers
from servers import USER, count_dir, clear_dir, cpu_seconds, smtp_banner

RETRY = "1h"
RESTART_CPU_WINDOW = 10.0


class LogCount:
    """Counts lines matching a pattern in a growing log, reading only what
    was added since the last call (the log of 100,000 deferrals is large)."""

    def __init__(self, path, pattern, start=None):
        self.path, self.rx = path, re.compile(pattern)
        self.pos = os.path.getsize(path) if start is None else start
        self.n, self.rest = 0, b""

    def __call__(self):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read()
        self.pos += len(data)
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        self.n += sum(1 for ln in lines if self.rx.search(ln.decode("utf-8", "replace")))
        return self.n


def at_most_every(seconds, fn):
    """fn, called at most once every `seconds` (its last value meanwhile):
    wait_count polls every 50 ms, and walking Postfix's deferred queue of
    100,000 files that often would take the CPU the servers need."""
    last = [0.0, None]

    def call():
        if last[1] is None or time.time() - last[0] >= seconds:
            last[:] = [time.time(), fn()]
        return last[1]
    return call


class ClosedPort:
    """A loopback port nothing listens on: the MX refuses every connection."""

    def __init__(self):
        self.port = servers.free_port()


def configure(hm, pf, on):
    hm.extra = f"\n[queue]\nretry_schedule = {RETRY}\n" if on else ""
    pf.extra = (f"minimal_backoff_time = {RETRY}\nmaximal_backoff_time = 4h\n") if on else ""


def fill(b, cfg, ctx, srv, n):
    """Send n undeliverable messages; wait until every one was tried and
    deferred. Messages/s from the first connection to the last deferral."""
    if srv.name == "hostmail":
        deferred = LogCount(srv.log_path, r": to=<rcpt@remote\.test>: deferred:")
    else:
        def deferred():
            return srv.queue_count(("deferred",)) - srv.queue_count(("incoming", "active", "maildrop"))
    deferred = at_most_every(1.0, deferred)
    t0 = time.time()
    ok = b.smtp_source(srv.port, 20, n, 1024, rcpt="rcpt@" + b.REMOTE, sender=USER)
    # deferred a first time: the stall limit allows for the slower disk work
    got = b.wait_count(deferred, n, stall=60)
    if not ok or not got:
        b.fail(ctx, f"deepqueue: {srv.name}: {deferred()}/{n} messages deferred (smtp-source ok={ok})")
        return None
    rate = n / (time.time() - t0)
    b.say(f"  {srv.name}: {n} messages accepted and deferred in {n / rate:.0f} s ({rate:.0f} msg/s); "
          f"queue {srv.queue_count()}")
    return rate


def restart(b, srv):
    """Stop, start: (seconds until a 220, seconds until the schedule is
    loaded (hostmail) or None, CPU seconds in the first 10 s)."""
    srv.stop()
    start = os.path.getsize(srv.log_path) if srv.name == "hostmail" else 0
    t0 = time.time()
    srv.start()
    serve = None if smtp_banner(srv.port) is None else time.time() - t0
    loaded = None
    if srv.name == "hostmail" and logs_schedule(srv):
        done = LogCount(srv.log_path, r"queue: schedule loaded:", start)
        while time.time() - t0 < 120 and not done():
            time.sleep(0.01)
        loaded = time.time() - t0 if done.n else None
    time.sleep(max(0.0, t0 + RESTART_CPU_WINDOW - time.time()))
    return serve, loaded, cpu_seconds(srv.pids())


def logs_schedule(hm):
    """Does this hostmaild log "schedule loaded"? (One built before the
    schedule, run for comparison, does not.)"""
    with open(hm.hostmaild, "rb") as f:
        return b"queue: schedule loaded" in f.read()


def idle_cpu(srvs, seconds):
    """CPU seconds each server used over the same `seconds` of idleness."""
    before = [cpu_seconds(s.pids()) for s in srvs]
    time.sleep(seconds)
    return [cpu_seconds(s.pids()) - c for s, c in zip(srvs, before)]


def accept_deep(b, srv, n):
    """Messages/s into the Maildir (4 KB, 20 sessions) with the deep queue."""
    clear_dir(srv.maildir_new)
    t0 = time.time()
    ok = b.smtp_source(srv.port, 20, n, 4096)
    got = b.wait_count(lambda: count_dir(srv.maildir_new), n)
    if not ok or not got or count_dir(srv.maildir_new) != n:
        return None
    return n / (time.time() - t0)


def empty_queues(hm, pf):
    hm.stop()
    env = os.path.join(hm.data_dir, "queue", "env")
    shutil.rmtree(env, ignore_errors=True)
    os.makedirs(env, exist_ok=True)
    if servers.RUN_AS:
        import pwd
        pw = pwd.getpwnam(servers.RUN_AS)
        os.chown(env, pw.pw_uid, pw.pw_gid)
    os.chmod(env, 0o700)
    pf.stop()
    pf.clear_queue()


def run(b, cfg, res, ctx):
    hm, pf = ctx["hm"], ctx["pf"]
    n = cfg.deep_msgs
    mx = dns = None
    vals = {k: {hm.name: [], pf.name: []} for k in
            ("fill", "idle", "pss", "rss", "serve", "loaded", "rcpu", "accept")}
    try:
        mx = ClosedPort()
        dns = b.start_dnsmasq(ctx["root"])
        configure(hm, pf, True)
        b.relay_setup(ctx, mx)
        b.say(f"deepqueue: filling both queues with {n} messages the MX refuses (retry in {RETRY})")
        for srv in (hm, pf):
            vals["fill"][srv.name].append(fill(b, cfg, ctx, srv, n))
        if ctx["failures"] and "deepqueue" in ctx["failures"][-1]:
            return
        hm.revoke_relay("127.0.0.1")
        for rep in range(cfg.reps):
            for srv in b.order(rep, hm, pf):
                serve, loaded, rcpu = restart(b, srv)
                vals["serve"][srv.name].append(serve)
                vals["loaded"][srv.name].append(loaded)
                vals["rcpu"][srv.name].append(rcpu)
                b.say(f"  {srv.name} restart: serves after {serve and round(serve, 3)} s"
                      + (f", schedule loaded after {loaded and round(loaded, 3)} s" if srv is hm else "")
                      + f"; {rcpu:.2f} s CPU in its first {RESTART_CPU_WINDOW:.0f} s")
            time.sleep(2)
            cpu = idle_cpu((hm, pf), cfg.deep_idle)
            for srv, c in zip((hm, pf), cpu):
                vals["idle"][srv.name].append(c)
                pss, rss = b.mem_kb(srv)
                vals["pss"][srv.name].append(pss / 1024)
                vals["rss"][srv.name].append(rss / 1024)
                b.say(f"  {srv.name} idle {cfg.deep_idle} s: {c:.2f} s CPU; memory {pss / 1024:.1f} MB PSS, "
                      f"{rss / 1024:.1f} MB RSS; queue {srv.queue_count()}")
            for srv in b.order(rep, hm, pf):
                a = accept_deep(b, srv, cfg.deep_accept)
                if a is None:
                    b.fail(ctx, f"deepqueue: {srv.name}: accept with a deep queue: not every message delivered")
                vals["accept"][srv.name].append(a)
                b.say(f"  {srv.name} accept {cfg.deep_accept} x 4 KB, 20 sessions, deep queue: "
                      f"{a and round(a)} msg/s")
            if hm.queue_count() < n or pf.queue_count() < n:
                b.fail(ctx, f"deepqueue: the queues shrank: hostmail {hm.queue_count()}, Postfix "
                            f"{pf.queue_count()} of {n}")
    finally:
        configure(hm, pf, False)
        empty_queues(hm, pf)
        if dns:
            dns.terminate()
            dns.wait()
        b.relay_teardown(ctx)
    s = f"6 deep queue ({n} deferred)"
    v = vals
    res.add(s, f"accept + first try + defer {n} x 1 KB, 20 sessions", "msg/s", "high",
            v["fill"]["hostmail"], v["fill"]["postfix"])
    res.add(s, f"CPU while idle, {cfg.deep_idle} s", "CPU s", "low", v["idle"]["hostmail"], v["idle"]["postfix"])
    res.add(s, "memory, PSS (all processes)", "MB", "low", v["pss"]["hostmail"], v["pss"]["postfix"])
    res.add(s, "memory, RSS (all processes)", "MB", "low", v["rss"]["hostmail"], v["rss"]["postfix"])
    res.add(s, "restart: start until a 220", "s", "low", v["serve"]["hostmail"], v["serve"]["postfix"])
    res.add(s, "restart: start until the schedule is loaded (hostmail)", "s", "low", v["loaded"]["hostmail"], [])
    res.add(s, f"restart: CPU in the first {RESTART_CPU_WINDOW:.0f} s", "CPU s", "low",
            v["rcpu"]["hostmail"], v["rcpu"]["postfix"])
    res.add(s, f"accept {cfg.deep_accept} x 4 KB into the Maildir, 20 sessions", "msg/s", "high",
            v["accept"]["hostmail"], v["accept"]["postfix"])
    res.note(f"deepqueue: {n} messages to a refused MX, next try in {RETRY} (Postfix: minimal_backoff_time; "
             "its queue manager still scans the deferred queue every queue_run_delay = 300 s, so an idle "
             "interval shorter than that may or may not include a scan)")
