"""A fleet of hostmaild nodes with their own certificates (issues 15, 16),
for tests to share (test_cluster.py; the POP3 proxy and account moves too).

cluster_pki() makes, once per test process and with openssl, a cluster CA
and one certificate per node (CN nodeNN, SANs IP:127.0.0.NN and
DNS:nodeNN.fleet.test), plus a certificate from another CA (a stranger's).
make_fleet() starts nodes 11, 12 and 13 on 127.0.0.11-13, sharing one
PostgreSQL database, each with [cluster] node/ca/certificate/key and an
LMTP listener, and registers them with `hostmailctl node add`."""
import os
import socket
import ssl
import subprocess
import tempfile

from conftest import free_port
from test_pg_store import pg_hostmail

NUMBERS = (11, 12, 13)
_PKI = {}


def host_of(number):
    return f"127.0.0.{number}"


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj", f"/CN={name}",
             "-keyout", key, "-out", crt)
    return key, crt


def _leaf(d, name, ca, sans):
    key, csr, crt, ext = (os.path.join(d, name + s) for s in (".key", ".csr", ".crt", ".ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(sans) + "\nextendedKeyUsage=serverAuth,clientAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
    _openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial", "-days", "3",
             "-extfile", ext, "-out", crt)
    os.unlink(csr)
    os.unlink(ext)
    return {"crt": crt, "key": key}


def cluster_pki():
    """{"ca": path, "nodes": {N: {"crt", "key"}}, "stranger": {"crt", "key"}, "stranger_ca": path}."""
    if _PKI:
        return _PKI
    d = tempfile.mkdtemp(prefix="hostmail-cluster-pki-")
    ca = _ca(d, "cluster-ca")
    other = _ca(d, "other-ca")
    nodes = {n: _leaf(d, f"node{n}", ca, [f"IP:{host_of(n)}", f"DNS:node{n}.fleet.test"])
             for n in NUMBERS}
    stranger = _leaf(d, "stranger", other, ["IP:127.0.0.12", "DNS:node12.fleet.test"])
    os.chmod(d, 0o755)
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)     # test keys: the daemon's user reads them
    _PKI.update(dir=d, ca=ca[1], nodes=nodes, stranger=stranger, stranger_ca=other[1])
    return _PKI


def cluster_config(number, lmtp_port):
    p = cluster_pki()
    return (f"\n[cluster]\nnode = {number}\nca = {p['ca']}\ncertificate = {p['nodes'][number]['crt']}\n"
            f"key = {p['nodes'][number]['key']}\n[listen]\nlmtp = {host_of(number)}:{lmtp_port}\n")


class Fleet:
    """nodes: {number: Hostmail}; lmtp: {number: port}; dsn: the shared database."""

    def __init__(self, nodes, lmtp, dsn):
        self.nodes, self.lmtp, self.dsn = nodes, lmtp, dsn

    def sql(self, query):
        """Run one statement on the shared database: its rows as lists of strings."""
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.dsn, "-c", query], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql {query!r}: {r.stderr}")
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def __getitem__(self, number):
        return self.nodes[number]

    def ctl(self, *args, **kw):
        return self.nodes[NUMBERS[0]].ctl(*args, **kw)

    def stop(self):
        for n in self.nodes.values():
            n.stop()


def make_fleet(tmp_path, dsn, extra="", start=True):
    """Nodes 11-13 sharing the database dsn, registered as nodes, started."""
    nodes, lmtp = {}, {}
    for n in NUMBERS:
        lmtp[n] = free_port()
        nodes[n] = pg_hostmail(tmp_path / f"node{n}", dsn, host=host_of(n),
                               extra=cluster_config(n, lmtp[n]) + extra)
    f = Fleet(nodes, lmtp, dsn)
    for n in NUMBERS:
        f.ctl("node", "add", str(n), "--lmtp", f"{host_of(n)}:{lmtp[n]}",
              "--pop3", f"{host_of(n)}:{nodes[n].pop3_port}")
    if start:
        for n in NUMBERS:
            nodes[n].start()
    return f


def lmtp_connect(fleet, number, cert="node", as_node=12, timeout=15):
    """A TLS connection to node number's LMTP listener, verifying it with
    the cluster CA; the client certificate: a node's ("node"), a stranger's
    (another CA) or none. Returns the SSL socket."""
    p = cluster_pki()
    ctx = ssl.create_default_context(cafile=p["ca"])
    ctx.check_hostname = False
    if cert == "node":
        ctx.load_cert_chain(p["nodes"][as_node]["crt"], p["nodes"][as_node]["key"])
    elif cert == "stranger":
        ctx.load_cert_chain(p["stranger"]["crt"], p["stranger"]["key"])
    raw = socket.create_connection((host_of(number), fleet.lmtp[number]), timeout=timeout)
    return ctx.wrap_socket(raw)


class LMTP:
    """A minimal LMTP client over an SSL socket, for the tests' own sessions."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode()

    def reply(self):
        lines = [self.line()]
        while lines[-1][3:4] == "-":
            lines.append(self.line())
        return int(lines[-1][:3]), lines[-1][4:]

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.reply()

    def data(self, message, nrcpt):
        """DATA, the message (dot-stuffed here), one reply per recipient."""
        code, _ = self.cmd("DATA")
        assert code == 354, code
        body = message.replace("\r\n.", "\r\n..")
        if not body.endswith("\r\n"):
            body += "\r\n"
        self.s.sendall(body.encode() + b".\r\n")
        return [self.reply() for _ in range(nrcpt)]

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass
