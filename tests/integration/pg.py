"""A private PostgreSQL cluster for the integration tests, made and run by
tests/pg/pgctl.sh (initdb in its own /tmp directory, a Unix socket only, as
an unprivileged user); never a system cluster. One Cluster per test session
(conftest's pg_cluster fixture), a new database per test (pg_dsn)."""
import os
import subprocess
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PGCTL = os.path.join(ROOT, "tests", "pg", "pgctl.sh")


def pgctl(*args):
    r = subprocess.run(["bash", PGCTL, *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"pgctl.sh {' '.join(args)}: {r.stderr}")
    return r.stdout.strip()


class Cluster:
    def __init__(self):
        self.dir = pgctl("create")

    def dsn(self, db="postgres"):
        return f"host={self.dir} port=5432 user=hmtest dbname={db}"

    def psql(self, sql, db="postgres"):
        """Run sql; its rows as lists of strings."""
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.dsn(db), "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {r.stderr}")
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def new_database(self):
        """A new, empty database: its name."""
        name = "hm_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name}")
        return name

    def stop(self):
        pgctl("stop", self.dir)

    def start(self):
        pgctl("start", self.dir)

    def destroy(self):
        pgctl("destroy", self.dir)


def store_config(dsn, timeout="2s"):
    """The [store] section of a hostmaild using PostgreSQL."""
    return f"\n[store]\nbackend = postgresql\ndsn = {dsn}\nstatement_timeout = {timeout}\n"
