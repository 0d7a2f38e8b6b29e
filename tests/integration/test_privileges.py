"""Least privilege: started by root, hostmaild binds, loads its keys, then
runs as [server] user, which owns the data directory (0700); without a user
it refuses to start. hostmailctl run by root works as the same user, so a
mailbox it adds can be delivered to. No password reaches the log."""
import base64
import os
import pwd
import smtplib
import ssl
import stat
import shutil
import subprocess

import pytest

from conftest import HOSTMAILD, RUN_AS, Hostmail

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the daemon starts as root, then switches)")

ALICE_PW = "alice-secret"


def proc_ids(pid):
    """(real, effective, saved, fs) uids and gids, and the groups, of pid."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(v) for v in val.split()]
    return ids


def test_refuses_to_run_as_root_without_user(tmp_path):
    hm = Hostmail(tmp_path)
    with open(hm.config) as f:
        text = f.read()
    with open(hm.config, "w") as f:
        f.write(text.replace(f"user = {RUN_AS}\n", ""))
    # on PostgreSQL the fixture's `hostmailctl db init` made it: not the daemon's doing
    shutil.rmtree(hm.data_dir, ignore_errors=True)
    r = subprocess.run([HOSTMAILD, "-c", hm.config], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "refusing to run as root" in r.stderr and "[server] user" in r.stderr, r.stderr
    assert not os.path.exists(hm.data_dir), "created the data directory as root before refusing"


def test_unknown_or_root_user_refused(tmp_path):
    for user, says in (("no-such-user-hm", "no such user"), ("root", "uid 0")):
        (tmp_path / user).mkdir()
        hm = Hostmail(tmp_path / user)
        with open(hm.config) as f:
            text = f.read()
        with open(hm.config, "w") as f:
            f.write(text.replace(f"user = {RUN_AS}\n", f"user = {user}\n"))
        r = subprocess.run([HOSTMAILD, "-c", hm.config], capture_output=True, text=True, timeout=20)
        assert r.returncode != 0 and says in r.stderr, (user, r.stderr)


def test_runs_as_user_owning_a_private_data_directory(server):
    pw = pwd.getpwnam(RUN_AS)
    ids = proc_ids(server.proc.pid)
    assert ids["Uid"] == [pw.pw_uid] * 4, ids
    assert ids["Gid"] == [pw.pw_gid] * 4, ids
    assert 0 not in ids["Groups"], ids
    assert f"running as user {RUN_AS}" in server.logtext()

    st = os.stat(server.data_dir)
    assert st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    # what root made before the start (the database, the Maildirs) is the user's now
    for dirpath, dirs, files in os.walk(server.data_dir):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            assert os.lstat(p).st_uid == pw.pw_uid, p

    # a delivered message is the user's and private
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail("x@remote.example", ["alice@acme.test"], b"Subject: owned\r\n\r\nhi\r\n")
    assert server.wait_messages("alice@acme.test", 1)
    new = os.path.join(server.maildir("alice@acme.test"), "new")
    f = os.path.join(new, os.listdir(new)[0])
    st = os.stat(f)
    assert st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)


def test_ctl_as_root_creates_what_the_daemon_can_use(server):
    pw = pwd.getpwnam(RUN_AS)
    server.ctl("mailbox", "add", "carol@acme.test", input="carol-secret\n")
    md = server.maildir("carol@acme.test")
    for dirpath, dirs, files in os.walk(os.path.dirname(md)):
        for name in dirs + files:
            assert os.lstat(os.path.join(dirpath, name)).st_uid == pw.pw_uid, name
    for name in os.listdir(server.data_dir):
        assert os.lstat(os.path.join(server.data_dir, name)).st_uid == pw.pw_uid, name
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail("x@remote.example", ["carol@acme.test"], b"Subject: to carol\r\n\r\nhi\r\n")
    assert server.wait_messages("carol@acme.test", 1)


def test_no_password_in_the_log(server):
    ctx = ssl.create_default_context(cafile=server.pki["ca"])
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.starttls(context=ctx)
        s.ehlo("client.test")
        code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice@acme.test\0wrong-pass-77").decode())
        assert code == 535
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.starttls(context=ctx)
        s.login("alice@acme.test", ALICE_PW)
    log = server.logtext()
    for secret in ("wrong-pass-77", ALICE_PW, base64.b64encode(b"\0alice@acme.test\0wrong-pass-77").decode()):
        assert secret not in log
