"""A private Dovecot (Debian's dovecot-imapd) serving IMAP beside a test's
hostmaild, from the files `hostmailctl dovecot-config` makes: its own
directory (base, state, log), loopback high ports, `dovecot -F -c FILE`.
/etc/dovecot and the system's service are never touched."""
import atexit
import os
import shutil
import signal
import subprocess
import tempfile

from conftest import free_port, wait_for, wait_port


def have_dovecot():
    return bool(shutil.which("dovecot")) and os.path.exists("/usr/lib/dovecot/imap")


class Dovecot:
    def __init__(self, hm, cluster_host=None):
        """hm: a Hostmail whose configuration gets [imap] on two new
        ports (added to its extra, so that a restart keeps them); with
        cluster_host (a node of a fleet), a third: listen_cluster on that
        address, where the other nodes' IMAP proxies verify this node."""
        self.hm = hm
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.cluster_port = free_port() if cluster_host else None
        self.cluster_addr = f"{cluster_host}:{self.cluster_port}" if cluster_host else None
        hm.extra += f"\n[imap]\nlisten = 127.0.0.1:{self.imap_port}\nlisten_tls = 127.0.0.1:{self.imaps_port}\n"
        if cluster_host:
            hm.extra += f"listen_cluster = {self.cluster_addr}\n"
        hm.write_config()
        # Dovecot's sockets live under its instance directory, and a path
        # past sun_path's 108 bytes breaks them (its processes also find
        # them by the real path): a test's directory can be that deep (CI's
        # checkout is), so the instance lives in a short one in /tmp, with
        # a link to it in the test's directory.
        self.dir = tempfile.mkdtemp(prefix="hm-dc-")
        atexit.register(shutil.rmtree, self.dir, True)
        link = os.path.join(hm.dir, "dovecot")
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(self.dir, link)
        os.chmod(self.dir, 0o755)      # the auth workers (RUN_AS) read the SQL file
        self.config = os.path.join(self.dir, "dovecot.conf")
        self.sql = os.path.join(self.dir, "hostmail-sql.conf.ext")
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.proc = None

    def write_config(self):
        with open(self.sql, "w") as f:
            f.write(self.hm.ctl("dovecot-config", "--sql").stdout)
        os.chmod(self.sql, 0o644)
        with open(self.config, "w") as f:
            f.write(self.hm.ctl("dovecot-config", "--sql-file", self.sql, "--instance-dir", self.dir).stdout)

    def start(self):
        self.write_config()
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.config], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".stderr", "ab"))
        try:
            wait_port(self.imaps_port, timeout=20)
            wait_port(self.imap_port, timeout=20)
            if self.cluster_port:
                wait_port(self.cluster_port, host=self.cluster_addr.split(":")[0], timeout=20)
        except RuntimeError as e:
            with open(self.log_path + ".stderr", errors="replace") as f:
                raise RuntimeError(f"{e}; Dovecot {'exited' if self.proc.poll() is not None else 'runs'}:\n"
                                   f"{f.read()[-2000:]}{self.logtext()[-2000:]}") from None
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def logtext(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def check_log(self):
        """Nothing went wrong inside Dovecot (our hook included: what it
        writes to stderr lands here as an error)."""
        bad = [line for line in self.logtext().splitlines()
               if any(w in line for w in ("Fatal:", "Panic:", "Error:"))]
        assert not bad, "Dovecot log:\n" + "\n".join(bad[:20])

    def wait_log(self, text, timeout=20.0):
        return wait_for(lambda: text in self.logtext(), timeout, f"{text!r} in {self.log_path}")
