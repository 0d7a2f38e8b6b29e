"""clients: the load generators smtp-source cannot play, as small asyncio
programs run in their own process (so their CPU and memory never mix with
the measuring process):

  idle      open N SMTP sessions, read each greeting, hold them open
  starttls  open N sessions, EHLO + STARTTLS + EHLO, hold them open
  noop      S sessions each sending NOOP every INTERVAL: latency percentiles
  storm     C workers each looping connect, STARTTLS, AUTH PLAIN, QUIT
  pop3storm C workers each looping connect, STLS, USER, PASS with a wrong
            password, each attempt from a new source address (a botnet)
  pop3customers  K customers each logging in over STLS with the right
            password every INTERVAL: PASS-to-reply latency percentiles

`idle` and `starttls` print one JSON line when every session is either
served or given up, then hold until a line arrives on standard input.
The others print one JSON line at the end.
"""
import argparse
import asyncio
import base64
import json
import resource
import ssl
import sys
import time


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def read_reply(reader):
    """One SMTP reply (all continuation lines); returns (code, last line)."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]), line


async def cmd(reader, writer, text):
    writer.write(text.encode() + b"\r\n")
    await writer.drain()
    return await read_reply(reader)


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


# ---- idle / starttls: hold many sessions ----

async def hold(args):
    raise_fd_limit()
    conns, served, failed = [], 0, 0
    connect_sem = asyncio.Semaphore(args.parallel)
    ctx = tls_ctx() if args.tls else None
    deadline = time.time() + args.timeout

    async def one(i):
        nonlocal served, failed
        try:
            # the whole run has one deadline, connects included: sessions a
            # server cannot take (Postfix past its process limit) pile up in
            # the listen queue, and waiting out each in turn would take hours
            async with connect_sem:
                left = max(0.1, deadline - time.time())
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", args.port, limit=4096), left)
            conns.append(writer)
            left = max(0.1, deadline - time.time())
            code, _ = await asyncio.wait_for(read_reply(reader), left)
            if code != 220:
                raise ConnectionError(f"greeting {code}")
            if ctx:
                async with connect_sem:
                    left = max(0.1, deadline - time.time())
                    code, _ = await asyncio.wait_for(cmd(reader, writer, "EHLO bench.client"), left)
                    code, _ = await asyncio.wait_for(cmd(reader, writer, "STARTTLS"), left)
                    if code != 220:
                        raise ConnectionError(f"STARTTLS {code}")
                    await asyncio.wait_for(writer.start_tls(ctx), left)
                    code, _ = await asyncio.wait_for(cmd(reader, writer, "EHLO bench.client"), left)
                    if code != 250:
                        raise ConnectionError(f"EHLO {code}")
            served += 1
        except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError, ValueError):
            failed += 1

    t0 = time.time()
    await asyncio.gather(*(one(i) for i in range(args.n)))
    print(json.dumps({"n": args.n, "served": served, "failed": failed,
                      "seconds": round(time.time() - t0, 2)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for w in conns:
        w.transport.abort()


# ---- noop latency ----

async def noop(args):
    lat, errors = [], 0
    stop_at = time.time() + args.duration

    async def session():
        nonlocal errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
            await read_reply(reader)
            await cmd(reader, writer, "EHLO noop.client")
            while time.time() < stop_at:
                t = time.perf_counter()
                code, _ = await cmd(reader, writer, "NOOP")
                dt = time.perf_counter() - t
                if code == 250:
                    lat.append(dt)
                else:
                    errors += 1
                await asyncio.sleep(args.interval)
            writer.write(b"QUIT\r\n")
            writer.close()
        except (OSError, ConnectionError):
            errors += 1

    await asyncio.gather(*(session() for _ in range(args.sessions)))
    ms = [x * 1000 for x in lat]
    print(json.dumps({"samples": len(ms), "errors": errors, "p50_ms": percentile(ms, 50),
                      "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else None}), flush=True)


# ---- AUTH storm ----

async def storm(args):
    raise_fd_limit()
    ok, refused, errors, auth_lat = 0, 0, 0, []
    stop_at = time.time() + args.duration
    ctx = tls_ctx()
    token = base64.b64encode(b"\0" + args.user.encode() + b"\0" + args.password.encode()).decode()

    async def worker(i):
        nonlocal ok, refused, errors
        while time.time() < stop_at:
            writer = None
            try:
                # one source address per worker (127.0.1.x, ...): 200 customers
                # logging in, not one IP whose parallel attempts the per-IP
                # AUTH throttle would (rightly) refuse
                src = f"127.0.{1 + i // 250}.{1 + i % 250}" if args.spread else None
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", args.port,
                                            local_addr=(src, 0) if src else None), 30)
                await asyncio.wait_for(read_reply(reader), 30)
                await cmd(reader, writer, "EHLO storm.client")
                code, _ = await cmd(reader, writer, "STARTTLS")
                if code != 220:
                    raise ConnectionError("no STARTTLS")
                await asyncio.wait_for(writer.start_tls(ctx), 30)
                await cmd(reader, writer, "EHLO storm.client")
                t = time.perf_counter()
                code, _ = await asyncio.wait_for(cmd(reader, writer, "AUTH PLAIN " + token), 60)
                auth_lat.append(time.perf_counter() - t)
                if code == 235:
                    ok += 1
                else:
                    refused += 1
                writer.write(b"QUIT\r\n")
            except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError, ValueError):
                errors += 1
                await asyncio.sleep(0.05)
            finally:
                if writer:
                    writer.transport.abort()

    t0 = time.time()
    await asyncio.gather(*(worker(i) for i in range(args.concurrency)))
    el = time.time() - t0
    ms = [x * 1000 for x in auth_lat]
    print(json.dumps({"auth_ok": ok, "auth_refused": refused, "errors": errors,
                      "auth_per_s": round((ok + refused) / el, 1),
                      "auth_p50_ms": percentile(ms, 50), "auth_p99_ms": percentile(ms, 99)}),
          flush=True)


# ---- POP3 password storm and customers ----

async def pop3_line(reader):
    line = await reader.readline()
    if not line:
        raise ConnectionError("closed")
    return line


async def pop3_cmd(reader, writer, text):
    writer.write(text.encode() + b"\r\n")
    await writer.drain()
    return await pop3_line(reader)


async def pop3_login(port, src, user, password, ctx, timeout):
    """(ok, seconds from PASS to its reply); the session is closed."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0)), timeout)
        await asyncio.wait_for(pop3_line(reader), timeout)
        if not (await asyncio.wait_for(pop3_cmd(reader, writer, "STLS"), timeout)).startswith(b"+OK"):
            raise ConnectionError("no STLS")
        await asyncio.wait_for(writer.start_tls(ctx), timeout)
        if not (await asyncio.wait_for(pop3_cmd(reader, writer, "USER " + user), timeout)).startswith(b"+OK"):
            raise ConnectionError("USER refused")
        t = time.perf_counter()
        reply = await asyncio.wait_for(pop3_cmd(reader, writer, "PASS " + password), timeout)
        took = time.perf_counter() - t
        ok = reply.startswith(b"+OK")
        if ok:
            writer.write(b"QUIT\r\n")
            await writer.drain()
        return ok, took
    finally:
        if writer:
            writer.transport.abort()


async def pop3storm(args):
    """Wrong passwords for the given users, each attempt from the next
    address of 127.1.0.0/16 (no address is throttled: a botnet's shape)."""
    raise_fd_limit()
    users = args.users.split(",")
    stop_at = time.time() + args.duration
    ctx = tls_ctx()
    attempts, refused, errors, n = 0, 0, 0, 0

    async def worker():
        nonlocal attempts, refused, errors, n
        while time.time() < stop_at:
            n += 1
            src = f"127.1.{(n // 250) % 250}.{1 + n % 250}"
            try:
                ok, _ = await pop3_login(args.port, src, users[n % len(users)], f"guess-{n}", ctx, 60)
                attempts += 1
                refused += not ok
            except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError, ValueError):
                errors += 1
                await asyncio.sleep(0.05)

    t0 = time.time()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    el = time.time() - t0
    print(json.dumps({"attempts": attempts, "refused": refused, "errors": errors,
                      "attempts_per_s": round(attempts / el, 1)}), flush=True)


async def pop3customers(args):
    """Each customer (user:password) logs in every interval from its own
    address (127.0.3.k), for duration seconds."""
    creds = [c.split(":", 1) for c in args.creds.split(",")]
    stop_at = time.time() + args.duration
    ctx = tls_ctx()
    lat, ok_n, failed, errors = [], 0, 0, 0

    async def customer(k, user, password):
        nonlocal ok_n, failed, errors
        await asyncio.sleep(args.interval * k / len(creds))     # spread out
        while time.time() < stop_at:
            t = time.time()
            try:
                ok, took = await pop3_login(args.port, f"127.0.3.{1 + k}", user, password, ctx, 60)
                lat.append(took)
                ok_n += ok
                failed += not ok
            except (OSError, ConnectionError, asyncio.TimeoutError, ssl.SSLError, ValueError):
                errors += 1
            await asyncio.sleep(max(0.0, args.interval - (time.time() - t)))

    await asyncio.gather(*(customer(k, u, p) for k, (u, p) in enumerate(creds)))
    ms = [x * 1000 for x in lat]
    print(json.dumps({"logins": ok_n, "failed": failed, "errors": errors, "p50_ms": percentile(ms, 50),
                      "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else None}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    for name in ("idle", "starttls"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--n", type=int, required=True)
        p.add_argument("--timeout", type=float, default=30)
        p.add_argument("--parallel", type=int, default=200)
        p.set_defaults(tls=name == "starttls")
    p = sub.add_parser("noop")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--duration", type=float, default=10)
    p = sub.add_parser("storm")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--one-ip", dest="spread", action="store_false",
                   help="every worker from 127.0.0.1 (default: one 127.0.x.y per worker)")
    p = sub.add_parser("pop3storm")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--users", required=True, help="comma-separated addresses to guess at")
    p = sub.add_parser("pop3customers")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--creds", required=True, help="comma-separated user:password")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=10)
    args = ap.parse_args()
    fn = {"idle": hold, "starttls": hold, "noop": noop, "storm": storm, "pop3storm": pop3storm,
          "pop3customers": pop3customers}[args.what]
    asyncio.run(fn(args))


if __name__ == "__main__":
    main()
