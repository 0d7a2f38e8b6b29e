"""milter: the bench/run scenario of accepting mail with rspamd in the chain.

One private rspamd (Debian's rspamd, its proxy worker in milter mode,
scanning itself; started by tests/integration/rspamd.py, the same
instance the milter tests use: network checks off, DNS to a closed
loopback port) serves both servers in the same run:

  hostmail  [milter] inbound = inet:127.0.0.1:PORT
  Postfix   smtpd_milters = inet:127.0.0.1:PORT (protocol 6,
            milter_default_action = tempfail, as hostmail's default)

Postfix's smtp-source sends 4 KB messages to user@bench.test on each
server (1 and 20 sessions); a message counts once the server has said 250
(the filter's verdict comes before it on both) and again once it is in
the Maildir; every message must arrive exactly once, with rspamd's
X-Spamd-Result header (a message that reached the Maildir without it did
not pass the filter). The same sends without the milter, in the same run,
give each server's cost of the filter. rspamd's action thresholds are
raised for the run so that smtp-source's messages are all accepted
(its body scores as junk); the scan itself is the normal one.

Run by bench/run (scenario "milter"), which passes itself as `b`.
"""
import os
import statistics
import sys
import types

import servers
from servers import count_dir

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(HERE), "tests", "integration")


def load_rspamd():
    """tests/integration/rspamd.py, with the three helpers it takes from
    the tests' conftest given by servers.py (no pytest needed here)."""
    if "conftest" not in sys.modules:
        shim = types.ModuleType("conftest")

        def wait_port(port, host="127.0.0.1", timeout=10.0):
            if not servers.wait_port(port, timeout):
                raise RuntimeError(f"nothing listens on port {port}")

        def wait_for(pred, timeout=20.0, what="condition", interval=0.05):
            import time
            deadline = time.time() + timeout
            while time.time() < deadline:
                if pred():
                    return True
                time.sleep(interval)
            raise RuntimeError(f"timed out waiting for {what}")
        shim.free_port, shim.wait_port, shim.wait_for = servers.free_port, wait_port, wait_for
        sys.modules["conftest"] = shim
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    import rspamd
    return rspamd


class BenchRspamd:
    """The tests' rspamd, with action thresholds out of reach: every message
    is scanned and accepted (with its headers), none refused."""

    def __init__(self, root):
        rspamd = load_rspamd()

        class Quiet(rspamd.Rspamd):
            def write_config(self):
                super().write_config()
                self._write("local.d/actions.conf",
                            "reject = 10000;\nadd_header = 9999;\nrewrite_subject = null;\ngreylist = null;\n")
                with open(os.path.join(self.local, "local.d/logging.inc"), "w") as f:
                    f.write('level = "warning";\n')
        self.rs = Quiet(root)

    def start(self):
        self.rs.start()
        return self

    def stop(self):
        self.rs.stop()

    @property
    def spec(self):
        return self.rs.spec


def configure(hm, pf, spec, saved):
    """Both servers through the filter spec ("inet:HOST:PORT"), or neither
    (None); saved: their configuration's extra parts before the scenario."""
    hm.extra = saved[0] + (f"\n[milter]\ninbound = {spec}\ndefault_action = tempfail\ntimeout = 30s\n"
                           if spec else "")
    pf.extra = saved[1] + ((f"smtpd_milters = {spec}\nmilter_protocol = 6\nmilter_default_action = tempfail\n"
                            "milter_command_timeout = 30s\nmilter_content_timeout = 30s\n") if spec else "")
    for srv in (hm, pf):
        srv.stop()
        srv.write_config()
        srv.start()


def filtered(maildir_new):
    """How many delivered messages carry rspamd's X-Spamd-Result header."""
    n = 0
    for name in os.listdir(maildir_new):
        try:
            with open(os.path.join(maildir_new, name), "rb") as f:
                head = f.read(16384).split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        except OSError:
            continue
        n += b"\nX-Spamd-Result:" in b"\n" + head
    return n


def run(b, cfg, res, ctx):
    hm, pf = ctx["hm"], ctx["pf"]
    rs = BenchRspamd(os.path.join(ctx["root"], "milter")).start()
    saved = (hm.extra, pf.extra)
    vals = {}
    try:
        b.say(f"milter: rspamd on {rs.spec}")
        for sessions in (1, 20):
            n = cfg.msgs_small if sessions > 1 else max(1, cfg.msgs_small // cfg.single_div)
            for spec in (rs.spec, None):
                configure(hm, pf, spec, saved)
                for rep in range(cfg.reps):
                    for srv in b.order(rep, hm, pf):
                        a, d, err = b.accept_once(srv, sessions, n, 4096)
                        if err:
                            b.fail(ctx, f"milter s={sessions} rspamd={'on' if spec else 'off'}: {err}")
                        elif spec and filtered(srv.maildir_new) != n:
                            b.fail(ctx, f"milter: {srv.name}: {filtered(srv.maildir_new)}/{n} delivered messages "
                                        f"carry rspamd's X-Spamd-Result")
                        vals.setdefault((sessions, spec is not None, srv.name), []).append((a, d))
                b.say(f"milter 4 KB x{n} s={sessions} rspamd={'on' if spec else 'off'}: acked hm "
                      f"{b.Results.fmt([a for a, _ in vals.get((sessions, spec is not None, hm.name), []) if a])} pf "
                      f"{b.Results.fmt([a for a, _ in vals.get((sessions, spec is not None, pf.name), []) if a])} msg/s")
    finally:
        rs.stop()
        configure(hm, pf, None, saved)
    for sessions in (1, 20):
        n = cfg.msgs_small if sessions > 1 else max(1, cfg.msgs_small // cfg.single_div)
        for on in (True, False):
            tag = "rspamd in the chain" if on else "no filter (same run)"
            h, p = vals.get((sessions, on, hm.name), []), vals.get((sessions, on, pf.name), [])
            res.add("10 milter", f"4 KB x{n}, {sessions} session(s), {tag}: until last 250", "msg/s", "high",
                    [a for a, _ in h], [a for a, _ in p])
            res.add("10 milter", f"4 KB x{n}, {sessions} session(s), {tag}: until last in Maildir", "msg/s",
                    "high", [d for _, d in h], [d for _, d in p])
        for name in (hm.name, pf.name):
            on = [a for a, _ in vals.get((sessions, True, name), []) if a]
            off = [a for a, _ in vals.get((sessions, False, name), []) if a]
            if on and off:
                res.note(f"milter: {name}, {sessions} session(s): with rspamd / without = "
                         f"{statistics.median(on) / statistics.median(off):.2f}")
