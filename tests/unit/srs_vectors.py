#!/usr/bin/python3
"""Independent SRS vectors for tests/unit/test_srs.c: a small Python
reimplementation of postsrsd's forward rewriting (libsrs2 guarded scheme,
hash length 4, separator '='), written from its documented format, not from
our C code. Run it to print the vectors the unit test embeds."""
import base64
import hashlib
import hmac

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def h(secret, *parts):
    data = "".join(parts).lower().encode()
    mac = hmac.new(secret.encode(), data, hashlib.sha1).digest()
    return base64.b64encode(mac).decode()[:4]


def stamp(now):
    d = now // 86400
    return B32[(d >> 5) & 31] + B32[d & 31]


def forward(secret, sender, domain, now):
    user, host = sender.split("@", 1)
    if host.lower() == domain.lower():
        return sender
    if user[:4].upper() == "SRS1" and user[4] in "=+-":
        hop, rest = user[5:].split("=", 1)[1].split("=", 1)
        return "SRS1=%s=%s=%s@%s" % (h(secret, hop, rest), hop, rest, domain)
    if user[:4].upper() == "SRS0" and user[4] in "=+-":
        rest = user[4:]
        return "SRS1=%s=%s=%s@%s" % (h(secret, host, rest), host, rest, domain)
    t = stamp(now)
    return "SRS0=%s=%s=%s=%s@%s" % (h(secret, t, host, user), t, host, user, domain)


if __name__ == "__main__":
    now = 1764892800  # 2025-12-05T00:00:00Z
    for secret, sender, dom in [
        ("tops3cr3t", "alice@example.org", "fwd.example.net"),
        ("tops3cr3t", "Bob.Smith@Example.COM", "fwd.example.net"),
        ("another secret", "x+tag@sub.example.org", "srs.example"),
        ("tops3cr3t", "SRS0=abcd=TT=orig.example=user@hop.example", "fwd.example.net"),
        ("tops3cr3t", "SRS1=wxyz=hop.example==abcd=TT=orig.example=user@hop2.example", "fwd.example.net"),
    ]:
        print('{ "%s", "%s", "%s", %d, "%s" },' % (secret, sender, dom, now, forward(secret, sender, dom, now)))
