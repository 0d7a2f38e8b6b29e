"""Logins under a password storm (issue 23): a client logging in again
with the same password is answered from the authentication cache (no
yescrypt, logged "(password cached)"); a password change, a suspension or
a wrong password is never answered from it; and while a storm of wrong
passwords from many addresses fills the hashing threads, a customer is
answered ahead of the storm: from the cache, or, with the cache off,
because the queue serves addresses in turn."""
import base64
import ctypes
import smtplib
import ssl
import threading
import time

from conftest import wait_for
from test_pop3 import pop_login

ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
VICTIM, VICTIM_PW = "bob@acme.test", "bob-secret"

# 5 addresses x 4 attempts: each address within login_queue_per_ip and
# under the throttle's 5 failures, so every attempt costs a hash
STORM_SOURCES = [f"127.0.9.{i}" for i in range(1, 6)]
STORM_PER_SOURCE = 4


def slow_hash(password, cost=9):
    """A yescrypt hash far costlier than the default (about 0.4 s here
    against 0.02 s), made with libcrypt as hostmailctl would."""
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    setting = lib.crypt_gensalt(b"$y$", cost, None, 0)
    return lib.crypt(password.encode(), setting).decode()


def smtp_auth(hm, user, password, source=None):
    """(code, text) of AUTH over STARTTLS on the submission port (the
    certificate checked against the test CA; a fleet node's address is
    not among its names)."""
    ctx = ssl.create_default_context(cafile=hm.pki["ca"])
    ctx.check_hostname = hm.host == "127.0.0.1"
    with smtplib.SMTP(hm.host, hm.submission_port, timeout=60,
                      source_address=(source, 0) if source else None) as s:
        s.starttls(context=ctx)
        try:
            s.login(user, password)
            return 235, "ok"
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code, e.smtp_error.decode()
        except smtplib.SMTPResponseException as e:
            return e.smtp_code, e.smtp_error.decode()


def test_second_login_is_cached_and_a_wrong_password_is_never_accepted(server):
    assert smtp_auth(server, ALICE, ALICE_PW)[0] == 235
    server.wait_log(r"authenticated user=alice@acme\.test account=acme\n")
    assert smtp_auth(server, ALICE, ALICE_PW)[0] == 235
    server.wait_log(r"authenticated user=alice@acme\.test account=acme \(password cached\)")
    # the cached user with another password: checked, and refused
    for wrong in ("alice-secreT", "alice-secret "):
        assert smtp_auth(server, ALICE, wrong)[0] == 535
    # POP3 shares the cache
    pop_login(server).quit()
    server.wait_log(r"pop3\[\d+\] ip=127\.0\.0\.1: login user=alice@acme\.test account=acme "
                    r"messages=\d+ \(password cached\)")


def test_password_change_and_suspension_apply_at_once_to_cached_logins(server):
    for _ in range(2):
        assert smtp_auth(server, ALICE, ALICE_PW)[0] == 235
    server.wait_log(r"\(password cached\)")
    server.ctl("mailbox", "passwd", ALICE, input="alice-new-secret\n")
    # no waiting: the old password's verdict is unreachable at once
    assert smtp_auth(server, ALICE, ALICE_PW)[0] == 535
    assert smtp_auth(server, ALICE, "alice-new-secret")[0] == 235
    assert smtp_auth(server, ALICE, "alice-new-secret")[0] == 235
    server.wait_log(r"\(password cached\)", count=2)
    server.ctl("account", "suspend", "acme")
    code, text = smtp_auth(server, ALICE, "alice-new-secret")
    assert code == 535 and "suspended" in text, (code, text)
    server.ctl("account", "resume", "acme")
    assert smtp_auth(server, ALICE, "alice-new-secret")[0] == 235
    server.ctl("mailbox", "remove", ALICE)
    assert smtp_auth(server, ALICE, "alice-new-secret")[0] == 535


class Storm:
    """STORM_SOURCES x STORM_PER_SOURCE sessions, each one AUTH with a
    wrong password for a mailbox whose hash is slow."""

    def __init__(self, hm):
        self.hm = hm
        self.sent = 0
        self.answers = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.attempt, args=(src,))
                        for src in STORM_SOURCES for _ in range(STORM_PER_SOURCE)]
        self.total = len(self.threads)

    def attempt(self, src):
        ctx = ssl.create_default_context(cafile=self.hm.pki["ca"])
        with smtplib.SMTP("127.0.0.1", self.hm.submission_port, timeout=120,
                          source_address=(src, 0)) as s:
            s.starttls(context=ctx)
            s.ehlo()
            with self.lock:
                self.sent += 1
            code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(
                f"\0{VICTIM}\0wrong-{src}".encode()).decode())
        with self.lock:
            self.answers.append(code)

    def __enter__(self):
        for t in self.threads:
            t.start()
        wait_for(lambda: self.sent == self.total, 60, "every storm session's AUTH sent")
        return self

    def __exit__(self, *exc):
        for t in self.threads:
            t.join(180)

    def answered(self):
        with self.lock:
            return len(self.answers)


def customer_during_storm(hm, login):
    """Run login() while the storm waits for the hashing threads; how many
    storm attempts had been answered when it returned."""
    hm.sql("UPDATE mailboxes SET password_hash = ? WHERE address = ?", (slow_hash(VICTIM_PW), VICTIM))
    with Storm(hm) as storm:
        t0 = time.time()
        code = login()
        took = time.time() - t0
        answered = storm.answered()
    print(f"customer answered {code} in {took:.2f} s, after {answered} of {storm.total} storm attempts")
    assert code == 235
    assert sorted(set(storm.answers)) == [535]       # the storm was refused, not dropped
    return answered, storm.total, took


def test_a_cached_customer_overtakes_a_password_storm(server):
    assert smtp_auth(server, ALICE, ALICE_PW, source="127.0.0.2")[0] == 235
    answered, total, took = customer_during_storm(
        server, lambda: smtp_auth(server, ALICE, ALICE_PW, source="127.0.0.2")[0])
    # answered from the cache while most of the storm still waited
    assert answered < total // 2, f"{answered} of {total} storm attempts were answered first"
    assert took < 10
    server.wait_log(r"ip=127\.0\.0\.2: authenticated user=alice@acme\.test account=acme \(password cached\)")


def test_with_the_cache_off_the_queue_serves_a_customer_between_storm_addresses(make_server):
    hm = make_server("[auth]\ncache_ttl = 0\n")
    answered, total, took = customer_during_storm(
        hm, lambda: smtp_auth(hm, ALICE, ALICE_PW, source="127.0.0.2")[0])
    # one check per storm address (and the two running) at most before hers
    assert answered <= total // 2, f"{answered} of {total} storm attempts were answered first"
    assert "(password cached)" not in hm.logtext()


def process_memory_count(pid, needles):
    """How often each needle occurs in the readable memory of pid (root
    reads another user's process through /proc/PID/mem). Mappings over
    1 GiB are a sanitizer's shadow reservations, not data: skipped."""
    found = {n: 0 for n in needles}
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if "r" not in perms or hi - lo > 1 << 30:
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            for n in needles:
                found[n] += data.count(n)
    return found


def test_no_password_is_left_in_the_daemons_memory_after_logins(server):
    """A memory dump taken after SMTP (PLAIN, LOGIN) and POP3 logins holds
    neither the password nor its SASL encodings: the buffers that carried
    them are wiped once checked, and the cache keeps only an HMAC."""
    pw = "Zq9-unique-Secret-77"
    server.ctl("mailbox", "passwd", ALICE, input=pw + "\n")
    for _ in range(2):
        assert smtp_auth(server, ALICE, pw)[0] == 235     # AUTH PLAIN
    ctx = ssl.create_default_context(cafile=server.pki["ca"])
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30) as s:
        s.starttls(context=ctx)
        s.ehlo()
        assert s.docmd("AUTH", "LOGIN " + base64.b64encode(ALICE.encode()).decode())[0] == 334
        assert s.docmd(base64.b64encode(pw.encode()).decode())[0] == 235
    pop_login(server, password=pw).quit()
    server.wait_log(r"pop3\[\d+\] ip=127\.0\.0\.1: login user=alice@acme\.test .*\(password cached\)")
    needles = [pw.encode(), base64.b64encode(f"\0{ALICE}\0{pw}".encode()),
               base64.b64encode(pw.encode())]
    found = process_memory_count(server.proc.pid, needles)
    assert not any(found.values()), found
