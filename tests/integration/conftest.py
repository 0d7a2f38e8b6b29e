"""Shared fixtures: a real hostmaild on free loopback ports with its own data
directory, and helpers to run hostmailctl against the same configuration."""
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("HOSTMAIL_BUILD", os.path.join(ROOT, "build"))
HOSTMAILD = os.path.join(BUILD, "hostmaild")
HOSTMAILCTL = os.path.join(BUILD, "hostmailctl")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, host="127.0.0.1", timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not listening")


class Hostmail:
    """A configuration + data directory, the ctl tool, and (optionally) a
    running daemon."""

    def __init__(self, tmp_path, extra=""):
        self.dir = str(tmp_path)
        self.data_dir = os.path.join(self.dir, "data")
        self.smtp_port = free_port()
        self.smtp_port2 = free_port()
        self.config = os.path.join(self.dir, "hostmail.ini")
        self.log_path = os.path.join(self.dir, "hostmaild.log")
        self.extra = extra
        self.proc = None
        self.write_config()

    def write_config(self):
        with open(self.config, "w") as f:
            f.write(f"""[server]
hostname = mx.test.example
data_dir = {self.data_dir}

[listen]
smtp = 127.0.0.1:{self.smtp_port}, [::1]:{self.smtp_port2}

[limits]
message_size = 1048576
{self.extra}
""")

    def ctl(self, *args, input=None, check=True):
        r = subprocess.run([HOSTMAILCTL, "-c", self.config, *args],
                           input=input, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"hostmailctl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HOSTMAILD, "-c", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.smtp_port)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        self.stop(signal.SIGKILL)

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def maildir(self, address):
        local, domain = address.lower().split("@")
        return os.path.join(self.data_dir, "mail", domain, local)

    def messages(self, address):
        """Contents (bytes) of every message in the Maildir's new/ and cur/."""
        out = []
        md = self.maildir(address)
        for sub in ("new", "cur"):
            d = os.path.join(md, sub)
            if os.path.isdir(d):
                for name in sorted(os.listdir(d)):
                    with open(os.path.join(d, name), "rb") as f:
                        out.append(f.read())
        return out

    def wait_messages(self, address, n, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.messages(address)
            if len(msgs) >= n:
                return msgs
            time.sleep(0.05)
        return self.messages(address)


@pytest.fixture
def hm(tmp_path):
    h = Hostmail(tmp_path)
    yield h
    h.stop()


@pytest.fixture
def demo(hm):
    """A data directory with one account, domain and two mailboxes."""
    hm.ctl("account", "add", "acme", "--server-number", "7")
    hm.ctl("domain", "add", "acme", "acme.test")
    hm.ctl("mailbox", "add", "alice@acme.test", input="alice-secret\n")
    hm.ctl("mailbox", "add", "bob@acme.test", input="bob-secret\n")
    return hm


@pytest.fixture
def server(demo):
    demo.start()
    return demo
