"""bench/run --only pop3dovecot: hostmail's POP3 against Dovecot's POP3 on
the same Maildirs, in the same run (issue 20). Both hold the same yescrypt
hashes with their authentication caches on, both are reached over STLS by
the same Python client, and they take turns on the same files:

- logins per second: THREADS clients each logging in (STLS, USER, PASS,
  QUIT) to an empty mailbox of its own (hostmail allows one session per
  mailbox) over and over for a few seconds;
- RETR throughput: every message of a mailbox of 1,000 messages of 4 KB,
  and of one of 10 messages of 10 MB, in one session (RSET, so nothing is
  deleted); the first session of each server on a mailbox is a warm-up
  (Dovecot builds its index there);
- memory per idle session: N sessions logged in to N mailboxes (hostmail
  allows one session per mailbox) and left idle, the servers' PSS (all
  their processes: one per session for Dovecot) before and after, per
  session.
"""
import os
import poplib
import shutil
import ssl
import threading
import time

import servers
from servers import DOMAIN, pss_kb

THREADS = 4


def tls_ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def login(port, user, password):
    p = poplib.POP3("127.0.0.1", port, timeout=300)
    p.stls(tls_ctx())
    p.user(user)
    p.pass_(password)
    return p


def logins_per_s(port, creds, seconds):
    count, errors = [0], []
    stop = time.time() + seconds

    def loop(user, password):
        try:
            while time.time() < stop:
                login(port, user, password).quit()
                count[0] += 1
        except Exception as e:  # noqa: BLE001 - reported as a failure of the run
            errors.append(e)
    ts = [threading.Thread(target=loop, args=c) for c in creds]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"login failed: {errors[0]}")
    return count[0] / (time.time() - t0)


def retr_all(port, user, password):
    """(messages, MB/s) of RETR of every message in one session."""
    p = login(port, user, password)
    n, _ = p.stat()
    t0 = time.time()
    nbytes = sum(p.retr(i)[2] for i in range(1, n + 1))
    dt = time.time() - t0
    p.rset()
    p.quit()
    return n, nbytes / dt / 1e6


def idle_pss_per_session(srv, port, creds):
    pss0 = sum(pss_kb(p) for p in srv.pids())
    held = [login(port, u, pw) for u, pw in creds]
    time.sleep(0.5)                      # the last session's process settles
    pss1 = sum(pss_kb(p) for p in srv.pids())
    for p in held:
        p.quit()
    return (pss1 - pss0) / len(creds)


def fill(md, n, size, tag):
    """n messages of about size bytes into md/cur, named as hostmail names them."""
    cur = os.path.join(md, "cur")
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    line = "x" * 76 + "\n"
    body = line * (size // len(line))
    t = int(time.time())
    for i in range(n):
        msg = f"From: bench@example.org\nTo: {tag}\nSubject: {tag} {i}\n\n{body}"
        data = msg.encode()
        name = f"{t}.M{i}P{os.getpid()}Q{i}.bench,S={len(data)},W={len(data) + msg.count(chr(10))}:2,"
        with open(os.path.join(cur, name), "wb") as f:
            f.write(data)


def setup(hm, cfg):
    """The mailboxes (once): returns {name: (user, password)} and the idle ones."""
    boxes = {"small": cfg.pd_small, "large": cfg.pd_large}
    boxes.update({f"login{k}": 0 for k in range(THREADS)})
    creds = {}
    for name, n in boxes.items():
        user, pw = f"pd-{name}@{DOMAIN}", f"pd-{name}-pw"
        hm.ctl("mailbox", "add", user, input=pw + "\n")
        md = os.path.join(hm.data_dir, "mail", DOMAIN, f"pd-{name}")
        if name == "small":
            fill(md, n, 4096, name)
        elif name == "large":
            fill(md, n, 10 * 1024 * 1024, name)
        creds[name] = (user, pw)
    idle = []
    for k in range(cfg.pd_idle):
        user, pw = f"pd-idle{k}@{DOMAIN}", f"pd-idle{k}-pw"
        hm.ctl("mailbox", "add", user, input=pw + "\n")
        idle.append((user, pw))
    if servers.RUN_AS:                   # the files written here are the daemon user's, as delivered ones
        for d, _, files in os.walk(os.path.join(hm.data_dir, "mail")):
            for f in [d] + [os.path.join(d, x) for x in files]:
                shutil.chown(f, servers.RUN_AS, servers.RUN_AS)
    return creds, idle


def run(cfg, res, ctx, stored_hashes, say, fail):
    hm, root = ctx["hm"], ctx["root"]
    creds, idle = setup(hm, cfg)
    dc = servers.Dovecot(root, servers.make_cert(root), stored_hashes(hm), cache=True,
                         maildirs=os.path.join(hm.data_dir, "mail"))
    dc.start()
    vals = {}
    try:
        both = {"hostmail": (hm, hm.pop3_port), "Dovecot": (dc, dc.port)}
        for name, (srv, port) in both.items():          # warm-up: caches, Dovecot's indexes
            for box in creds:
                retr_all(port, *creds[box])
        for rep in range(cfg.reps):
            for name in (("hostmail", "Dovecot") if rep % 2 == 0 else ("Dovecot", "hostmail")):
                srv, port = both[name]
                v = vals.setdefault(name, {})
                v.setdefault("logins", []).append(logins_per_s(port, [creds[f"login{k}"] for k in range(THREADS)], cfg.pd_seconds))
                for box, count in (("small", cfg.pd_small), ("large", cfg.pd_large)):
                    n, mbs = retr_all(port, *creds[box])
                    if n != count:
                        fail(ctx, f"pop3dovecot: {name} lists {n} messages in {box}, expected {count}")
                    v.setdefault(box, []).append(mbs)
                v.setdefault("idle", []).append(idle_pss_per_session(srv, port, idle))
                say(f"pop3dovecot {name}: " + ", ".join(f"{k} {x[-1]:.4g}" for k, x in v.items()))
    finally:
        dc.stop()
    h, d = vals.get("hostmail", {}), vals.get("Dovecot", {})
    sc = "11 POP3 vs Dovecot"
    res.add(sc, f"logins (STLS, USER, PASS, QUIT), {THREADS} clients", "logins/s", "high",
            h.get("logins", []), d.get("logins", []), peer="Dovecot")
    res.add(sc, f"RETR all, {cfg.pd_small} msgs of 4 KB", "MB/s", "high", h.get("small", []), d.get("small", []),
            peer="Dovecot")
    res.add(sc, f"RETR all, {cfg.pd_large} msgs of 10 MB", "MB/s", "high", h.get("large", []), d.get("large", []),
            peer="Dovecot")
    res.add(sc, f"memory per idle logged-in session ({cfg.pd_idle} sessions)", "KiB PSS", "low",
            h.get("idle", []), d.get("idle", []), peer="Dovecot")
    res.note(f"pop3dovecot: hostmail's POP3 and Dovecot {servers.dovecot_version()}'s POP3 (pop3-login in "
             "high-performance mode, one pop3 process per session) on the same Maildirs, both over STLS with "
             "their authentication caches on; the client is Python's poplib, the same for both")
