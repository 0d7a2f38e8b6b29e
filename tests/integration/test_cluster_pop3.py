"""POP3 anywhere (issue 16, docs/cluster.md "POP3 and IMAP anywhere"): three
hostmaild on 127.0.0.11, .12 and .13 sharing one PostgreSQL database, each
with its node certificate; acme's home is node 13. A POP3 client of node 12
is proxied to node 13 after its login (mutual TLS between the nodes, a
trusted XLOGIN on node 13's pop3_cluster endpoint) and reads the same
messages and UIDLs as on node 13 itself; the POP-before-SMTP grant it earns
is for the client's own address and lets it relay through node 11; node 13
stopped, node 12 answers -ERR [SYS/TEMP]; the internal endpoint refuses a
client without a node certificate, and XLOGIN exists nowhere else. IMAP
(Dovecot's proxy, docs/cluster.md "IMAP"): node 12's Dovecot proxies alice
to node 13's [imap] listen_cluster over TLS, verifying node 13's cluster
certificate; another certificate there gets no password."""
import imaplib
import poplib
import socket
import ssl
import threading

import pytest

from conftest import ON_PG, free_port, wait_for
from dovecot import Dovecot, have_dovecot
from fleet import cluster_config, cluster_pki
from test_pg_store import pg_hostmail, client_ctx, rcpt_reply, REMOTE
from test_pop3 import POP3From

pytestmark = pytest.mark.skipif(not ON_PG, reason="a fleet shares a real PostgreSQL store "
                                "(HOSTMAIL_TEST_STORE=postgresql)")

HOSTS = {11: "127.0.0.11", 12: "127.0.0.12", 13: "127.0.0.13"}
ALICE, ALICE_PW = "alice@acme.test", "alice-secret"
CLIENT_IP = "127.0.0.77"
READER_IP = "127.0.0.21"      # every other client; the proxy connects from 127.0.0.1


def pop3_fleet(tmp_path, dsn, home=13, extra="", dovecot=()):
    """Three nodes with their node certificates (fleet.py), each with a
    pop3_cluster endpoint registered as its POP3 address in the nodes
    table; account acme (alice) homed on node `home`. Not started."""
    nodes, ports = {}, {}
    for num, host in HOSTS.items():
        ports[num] = (free_port(), free_port())          # pop3_cluster, lmtp
        h = pg_hostmail(tmp_path / f"node{num}", dsn, host=host,
                        extra=cluster_config(num, ports[num][1]) + f"pop3_cluster = {host}:{ports[num][0]}\n"
                        + extra)
        h.cluster_port = ports[num][0]
        # IMAP beside it: the customers' listeners on 127.0.0.1, the cluster one on the node's address
        h.dovecot = Dovecot(h, cluster_host=host) if num in dovecot else None
        nodes[num] = h
    for num, host in HOSTS.items():
        imap = ["--imap", nodes[num].dovecot.cluster_addr] if nodes[num].dovecot else []
        nodes[11].ctl("node", "add", str(num), "--lmtp", f"{host}:{ports[num][1]}",
                      "--pop3", f"{host}:{ports[num][0]}", *imap)
    nodes[11].ctl("account", "add", "acme", "--server-number", str(home))
    nodes[11].ctl("domain", "add", "acme", "acme.test", "--no-dkim")
    nodes[11].ctl("mailbox", "add", ALICE, input=ALICE_PW + "\n")
    return nodes


def deliver(node, n):
    """n messages for alice through node's MX port."""
    import smtplib
    for i in range(n):
        s = smtplib.SMTP(node.host, node.smtp_port, local_hostname="client.test", timeout=20)
        s.sendmail("someone@example.org", [ALICE],
                   f"From: someone@example.org\r\nTo: {ALICE}\r\nSubject: m{i}\r\n"
                   f"Message-ID: <m{i}@example.org>\r\n\r\nbody {i}\r\n.dotted\r\n".encode())
        s.quit()


def pop(node, source=READER_IP):
    p = POP3From(node.host, node.pop3_port, source=source, timeout=20)
    p.stls(client_ctx(node))
    p.user(ALICE)
    return p


def view(p):
    """What a client sees: STAT, LIST, UIDL and every message's bytes."""
    stat = p.stat()
    listing = p.list()[1]
    uidl = p.uidl()[1]
    msgs = [b"\n".join(p.retr(i + 1)[1]) for i in range(stat[0])]
    return stat, listing, uidl, msgs


def stop_all(nodes):
    for n in nodes.values():
        if getattr(n, "dovecot", None):
            n.dovecot.stop()
        n.stop()


def test_pop3_on_another_node_is_proxied_home(tmp_path, pg_cluster, pg_dsn):
    nodes = pop3_fleet(tmp_path, pg_dsn)
    db = pg_dsn.split("dbname=")[1]
    try:
        for n in nodes.values():
            n.start()
        deliver(nodes[13], 3)
        nodes[13].wait_messages(ALICE, 3)

        p = pop(nodes[13])
        assert p.pass_(ALICE_PW).startswith(b"+OK")
        home = view(p)
        p.quit()
        assert home[0][0] == 3

        # node 12 has no Maildir of alice: the proxy serves node 13's
        p = pop(nodes[12])
        assert p.pass_(ALICE_PW).startswith(b"+OK Logged in, 3 messages")
        assert view(p) == home
        assert p.dele(2).startswith(b"+OK")
        p.quit()
        assert not nodes[12].messages(ALICE)
        nodes[12].wait_log(r"proxied to node 13")
        nodes[13].wait_log(r"proxied login for alice@acme.test from client " + READER_IP)
        wait_for(lambda: len(nodes[13].messages(ALICE)) == 2, what="DELE through the proxy applied at home")

        # the mailbox lock is the home node's: two proxies, or proxy + home, exclude each other
        p = pop(nodes[12])
        p.pass_(ALICE_PW)
        q = pop(nodes[11])
        with pytest.raises(poplib.error_proto, match=r"IN-USE"):
            q.pass_(ALICE_PW)
        q.quit()
        p.quit()

        # a wrong password never reaches node 13
        q = pop(nodes[12])
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            q.pass_("wrong")
        q.quit()

        # POP-before-SMTP through the proxy: the client's own address, shared by every node
        assert rcpt_reply(nodes[11], REMOTE, sender=ALICE, source=CLIENT_IP)[0] == 554
        p = pop(nodes[12], source=CLIENT_IP)
        assert p.pass_(ALICE_PW).startswith(b"+OK")
        p.quit()
        ips = [r[0] for r in pg_cluster.psql("SELECT ip FROM relay_auth", db)]
        assert CLIENT_IP in ips and "127.0.0.1" not in ips, ips
        assert rcpt_reply(nodes[11], REMOTE, sender=ALICE, source=CLIENT_IP)[0] == 250

        # the home node down: a temporary error, and the session may try again
        nodes[13].stop()
        p = pop(nodes[12])
        with pytest.raises(poplib.error_proto, match=r"SYS/TEMP.*unavailable"):
            p.pass_(ALICE_PW)
        p.user(ALICE)
        with pytest.raises(poplib.error_proto, match=r"SYS/TEMP"):
            p.pass_(ALICE_PW)
        p.quit()
    finally:
        stop_all(nodes)


def test_internal_endpoint_needs_a_node_certificate(tmp_path, pg_cluster, pg_dsn):
    nodes = pop3_fleet(tmp_path, pg_dsn, extra="\n[limits]\nmax_connections_per_ip = 2\n")
    try:
        nodes[13].start()
        deliver(nodes[13], 1)
        nodes[13].wait_messages(ALICE, 1)
        n13 = nodes[13]

        # no client certificate: the handshake fails, nothing is read
        ctx = ssl.create_default_context(cafile=cluster_pki()["ca"])
        ctx.check_hostname = False
        with socket.create_connection((n13.host, n13.cluster_port), timeout=10) as raw:
            with pytest.raises((ssl.SSLError, ConnectionError)):
                with ctx.wrap_socket(raw) as t:
                    t.sendall(b"XLOGIN alice@acme.test 192.0.2.1\r\n")
                    assert t.recv(100) == b""            # or raises: either way no greeting
                    raise ConnectionError("closed")

        # a certificate of another CA: refused the same way
        stranger = ssl.create_default_context(cafile=cluster_pki()["ca"])
        stranger.check_hostname = False
        stranger.load_cert_chain(cluster_pki()["stranger"]["crt"], cluster_pki()["stranger"]["key"])
        with socket.create_connection((n13.host, n13.cluster_port), timeout=10) as raw:
            with pytest.raises((ssl.SSLError, ConnectionError)):
                with stranger.wrap_socket(raw) as t:
                    t.sendall(b"XLOGIN alice@acme.test 192.0.2.1\r\n")
                    assert t.recv(100) == b""
                    raise ConnectionError("closed")

        # a node's certificate: the trusted login works, for the address given
        ctx.load_cert_chain(cluster_pki()["nodes"][12]["crt"], cluster_pki()["nodes"][12]["key"])
        with socket.create_connection((n13.host, n13.cluster_port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as t:
                f = t.makefile("rb")
                assert f.readline().startswith(b"+OK")
                t.sendall(b"XLOGIN nobody@acme.test 192.0.2.1\r\n")
                assert f.readline().startswith(b"-ERR [AUTH]")
                t.sendall(b"XLOGIN alice@acme.test 192.0.2.1\r\n")
                assert f.readline().startswith(b"+OK Logged in, 1 messages")
                t.sendall(b"QUIT\r\n")
                assert f.readline().startswith(b"+OK")

        # every proxied customer comes from the proxying node's address: no per-address limit
        held = []
        try:
            for _ in range(4):
                raw = socket.create_connection((n13.host, n13.cluster_port), timeout=10)
                t = ctx.wrap_socket(raw)
                held.append(t)
                assert t.makefile("rb").readline().startswith(b"+OK")
        finally:
            for t in held:
                t.close()
        n13.wait_sessions_done("pop3")               # they count in the per-address table of the others

        # the public POP3 port knows no XLOGIN
        p = POP3From(n13.host, n13.pop3_port, timeout=10)
        with pytest.raises(poplib.error_proto, match=r"unknown command"):
            p._shortcmd("XLOGIN alice@acme.test 192.0.2.1")
        p.quit()
    finally:
        stop_all(nodes)


needs_dovecot = pytest.mark.skipif(not have_dovecot(),
                                   reason="Dovecot (dovecot-imapd, scripts/deps.sh) is not installed")


def imap_subjects(node):
    """alice's INBOX through node's Dovecot (customer TLS port): the Subject lines."""
    c = imaplib.IMAP4_SSL("127.0.0.1", node.dovecot.imaps_port, ssl_context=client_ctx(node), timeout=20)
    try:
        c.login(ALICE, ALICE_PW)
    except imaplib.IMAP4.error:
        c.shutdown()
        raise
    c.select("INBOX", readonly=True)
    _, data = c.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    c.logout()
    return [part[1].strip() for part in data if isinstance(part, tuple)]


@needs_dovecot
def test_imap_proxied(tmp_path, pg_cluster, pg_dsn):
    """hostmailctl dovecot-config on a node of a fleet: Dovecot on node 12
    proxies alice (homed on node 13) to node 13's cluster listener over
    TLS, node 13's certificate verified against the fleet CA and the
    address in the nodes table."""
    nodes = pop3_fleet(tmp_path, pg_dsn, dovecot=(12, 13))
    try:
        for num in (12, 13):
            nodes[num].start()
            nodes[num].dovecot.start()
        sql = nodes[12].ctl("dovecot-config", "--sql").stdout
        assert "AS proxy" in sql and "<> 12" in sql and "'yes' END AS ssl" in sql
        assert "any-cert" not in sql and "starttls" not in sql
        conf = open(nodes[13].dovecot.config).read()
        assert f"inet_listener imap_cluster {{\n    address = {HOSTS[13]}\n" in conf
        deliver(nodes[13], 2)
        nodes[13].wait_messages(ALICE, 2)

        # the queue's workers deliver the two in either order
        assert sorted(imap_subjects(nodes[12])) == sorted(imap_subjects(nodes[13])) \
            == [b"Subject: m0", b"Subject: m1"]
        assert imap_subjects(nodes[12]) == imap_subjects(nodes[13])
        assert not nodes[12].messages(ALICE)
        # the hop: node 12 proxied to node 13's cluster address, where
        # node 13 saw a TLS login (the customers' listeners are on 127.0.0.1)
        nodes[12].dovecot.wait_log(f"Started proxying to <{HOSTS[13]}>")
        nodes[13].dovecot.wait_log(f"lip={HOSTS[13]}")
        home = [l for l in nodes[13].dovecot.logtext().splitlines()
                if "Login: user=<" + ALICE in l and f"lip={HOSTS[13]}" in l]
        assert home and all("TLS" in l for l in home), home
        c = imaplib.IMAP4_SSL("127.0.0.1", nodes[12].dovecot.imaps_port, ssl_context=client_ctx(nodes[12]),
                              timeout=20)
        with pytest.raises(imaplib.IMAP4.error):
            c.login(ALICE, "wrong")
        c.logout()
        for num in (12, 13):
            nodes[num].dovecot.check_log()
    finally:
        stop_all(nodes)


class Impostor:
    """A TLS server on a node's cluster address with a certificate of our
    choosing (use()), standing in for the home node's Dovecot: it greets
    as IMAP would and keeps every byte a client sends after the handshake."""

    def __init__(self, addr):
        host, port = addr.split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, int(port)))
        self.sock.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    def use(self, cert):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert["crt"], cert["key"])
        self.received = b""
        self.done = threading.Event()

    def _serve(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(raw, server_side=True) as t:
                    t.settimeout(20)
                    t.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] IMAP ready.\r\n")
                    while True:
                        d = t.recv(4096)
                        if not d:
                            break
                        self.received += d
            except (OSError, ssl.SSLError):
                pass
            finally:
                raw.close()
                self.done.set()

    def close(self):
        self.sock.close()


@needs_dovecot
def test_imap_proxy_verifies_the_home_node(tmp_path, pg_cluster, pg_dsn):
    """Something else on node 13's cluster address: a certificate of
    another CA, or the fleet's certificate of another node (its name is
    not 127.0.0.13). Node 12's proxy checks it before LOGIN, so alice's
    password never reaches it, the login fails, and Dovecot says why."""
    nodes = pop3_fleet(tmp_path, pg_dsn, dovecot=(12, 13))
    pki, impostor = cluster_pki(), None
    try:
        nodes[12].start()
        nodes[12].dovecot.start()
        addr = nodes[13].dovecot.cluster_addr     # registered, never started: the impostor has it
        impostor = Impostor(addr)
        for cert, why in ((pki["stranger"], "unable to get local issuer certificate"),
                          (pki["nodes"][12], f"SSL certificate doesn't match expected host name {HOSTS[13]}")):
            impostor.use(cert)
            with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE|temporarily unavailable"):
                imap_subjects(nodes[12])
            assert impostor.done.wait(20), "the proxy never connected to node 13's address"
            nodes[12].dovecot.wait_log(why)
            assert ALICE_PW.encode() not in impostor.received, impostor.received
            assert b"LOGIN" not in impostor.received.upper(), impostor.received
    finally:
        if impostor:
            impostor.close()
        stop_all(nodes)


@needs_dovecot
def test_fleet_node_without_cluster_listener_is_refused(tmp_path, pg_cluster, pg_dsn):
    """dovecot-config on a node of a fleet of three without [imap]
    listen_cluster: nothing for the proxies to verify, so no config."""
    nodes = pop3_fleet(tmp_path, pg_dsn)
    n12, cluster = nodes[12], f"{HOSTS[12]}:{free_port()}"
    n12.extra += f"\n[imap]\nlisten_tls = 127.0.0.1:{free_port()}\n"
    n12.write_config()
    for args in (("dovecot-config", "--sql"), ("dovecot-config",)):
        r = n12.ctl(*args, check=False)
        assert r.returncode == 1, r
        assert "node 12 is one of 3 nodes of a fleet: set [imap] listen_cluster" in r.stderr, r.stderr
        assert r.stdout == ""
    # the upgrade: a cluster listener, the nodes table told, then it is written
    n12.extra += f"listen_cluster = {cluster}\n"
    n12.write_config()
    r = n12.ctl("dovecot-config", "--sql")
    assert "warning: node 12's IMAP address in the nodes table is \"\"" in r.stderr, r.stderr
    n12.ctl("node", "set-imap", "12", cluster)
    assert [l for l in n12.ctl("node", "list").stdout.splitlines() if l.startswith("12 ")][0].split()[4] == cluster
    r = n12.ctl("dovecot-config", "--sql")
    assert "'yes' END AS ssl" in r.stdout and "warning" not in r.stderr

    # one IPv4 address: what the proxy's host field and Dovecot's local block take
    for bad in ("[::1]:1993", f"{HOSTS[12]}:1993, {HOSTS[12]}:1994"):
        n12.extra = n12.extra.replace(f"listen_cluster = {cluster}", f"listen_cluster = {bad}")
        n12.write_config()
        r = n12.ctl("dovecot-config", check=False)
        assert r.returncode != 0 and "bad value for [imap] listen_cluster" in r.stderr, r.stderr
        cluster = bad
