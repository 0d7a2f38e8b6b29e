"""A private Prometheus server (Debian's `prometheus`) for the tests: its
own configuration file and TSDB in the test's directory, its web API on a
loopback port, scraping the given targets every second. Never the system
instance (the package's service is not started: scripts/deps.sh)."""
import json
import os
import subprocess
import urllib.parse
import urllib.request

from conftest import free_port, wait_for

PROMETHEUS = "/usr/bin/prometheus"


class Prometheus:
    def __init__(self, directory, targets):
        self.dir = directory
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: hostmail\n    static_configs:\n"
                    f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        wait_for(self._ready, 60, f"Prometheus ready ({self.log_path})", interval=0.2)

    def _ready(self):
        assert self.proc.poll() is None, open(self.log_path).read()[-2000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, expr):
        """The instant vector of expr as [(labels, float)]."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return [(s["metric"], float(s["value"][1])) for s in body["data"]["result"]]

    def value(self, expr):
        """The one value of expr, or None while it has no sample."""
        v = self.query(expr)
        return v[0][1] if v else None

    def targets(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/targets", timeout=10) as r:
            return json.load(r)["data"]["activeTargets"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
