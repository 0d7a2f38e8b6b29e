"""Moving an account between nodes (issue 16, docs/cluster.md "Moving an
account"): three hostmaild on 127.0.0.11-13 sharing one PostgreSQL
database; acme (alice) lives on node 13 and moves to node 12 with
`hostmailctl account move`, run on node 13.

- Under inbound load (a thread sending to node 11's MX port all along):
  every message that got 250 is in node 12's Maildir exactly once
  (Message-IDs), none is left on node 13, and POP3 UIDLs are the ones the
  client saw before.
- Interrupted: hostmailctl killed (-9) after the copy, then --abort: nothing
  moved, node 12 keeps nothing, POP3 on node 13 as before; killed after the
  switch, and node 12 killed (-9) meanwhile: run again, it finishes
  exactly; killed while removing the old copy: run again, it finishes.
- A POP3 session logged in before the move (proxied to node 13) that
  deletes messages and quits after the copy gets -ERR [SYS/TEMP] and
  removes nothing: after the move every message is on node 12 once.
- IMAP (Dovecot, from hostmailctl dovecot-config) refuses a login while the
  move is under way, with NO [CONTACTADMIN] and the reason, and serves it
  after the move."""
import fcntl
import imaplib
import os
import poplib
import re
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import HOSTMAILCTL, ON_PG, wait_for
from dovecot import have_dovecot
from test_cluster_pop3 import ALICE, ALICE_PW, pop, pop3_fleet, stop_all
from test_pg_store import client_ctx

pytestmark = pytest.mark.skipif(not ON_PG, reason="a fleet shares a real PostgreSQL store "
                                "(HOSTMAIL_TEST_STORE=postgresql)")

FAST_RETRY = "\n[queue]\nretry_schedule = 1s\n"


def send(node, tag):
    """One message for alice through node's MX port; True on 250."""
    body = (f"From: someone@example.org\r\nTo: {ALICE}\r\nSubject: {tag}\r\n"
            f"Message-ID: <{tag}@example.org>\r\n\r\nbody of {tag}\r\n")
    try:
        s = smtplib.SMTP(node.host, node.smtp_port, local_hostname="client.test", timeout=20)
        try:
            s.sendmail("someone@example.org", [ALICE], body.encode())
            return True
        finally:
            s.quit()
    except (OSError, smtplib.SMTPException):
        return False


def message_ids(node):
    ids = []
    for m in node.messages(ALICE):
        found = re.search(rb"^Message-ID: <([^@>]+)@", m, re.M | re.I)
        ids.append(found.group(1).decode() if found else None)
    return ids


def uidls(node):
    """{Message-ID: UIDL} as a POP3 client of node sees them."""
    p = pop(node)
    p.pass_(ALICE_PW)
    out = {}
    for line in p.uidl()[1]:
        num, uid = line.decode().split()
        head = b"\n".join(p.top(int(num), 0)[1])
        out[re.search(rb"Message-ID: <([^>]+)>", head, re.I).group(1).decode()] = uid
    p.quit()
    return out


def home_of(nodes):
    return int(nodes[11].ctl("account", "show", "acme").stdout.split("server_number: ")[1].split()[0])


def move(node, *args, pause=None, env=None):
    """hostmailctl account move on node; with pause, it stops at that step
    (HOSTMAIL_MOVE_PAUSE_AT) and is killed -9 there. The result."""
    cmd = [HOSTMAILCTL, "-c", node.config, "account", "move", "acme", *args]
    if not pause:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, **(env or {})))
    env = dict(os.environ, HOSTMAIL_MOVE_PAUSE_AT=pause)
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if f"paused at {pause}" in line:
            break
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=20)
    assert any(f"paused at {pause}" in x for x in lines), (lines, p.stderr.read())
    return lines


def seed(nodes, n):
    tags = [f"seed{i}" for i in range(n)]
    for t in tags:
        assert send(nodes[13], t)
    wait_for(lambda: len(nodes[13].messages(ALICE)) == n, what="the seed messages on node 13")
    return tags


def test_move_under_load_loses_and_duplicates_nothing(tmp_path, pg_cluster, pg_dsn):
    nodes = pop3_fleet(tmp_path, pg_dsn, extra=FAST_RETRY)
    try:
        for n in nodes.values():
            n.start()
        tags = seed(nodes, 4)
        before = uidls(nodes[13])                    # new/ -> cur/ with ":2,"
        tags += seed_more(nodes, 2)                  # and two left in new/

        accepted, stop = [], threading.Event()

        def load():
            i = 0
            while not stop.is_set():
                tag = f"load{i}"
                i += 1
                if send(nodes[11], tag):
                    accepted.append(tag)

        t = threading.Thread(target=load)
        t.start()
        try:
            wait_for(lambda: len(accepted) >= 3, what="load before the move")
            n_before = len(accepted)
            r = move(nodes[13], "--to", "12")
            assert r.returncode == 0, r.stderr
            assert "move: done" in r.stdout
            n_after = len(accepted)
            assert n_after > n_before                # mail kept coming during the move
            wait_for(lambda: len(accepted) >= n_after + 3, what="load after the move")
        finally:
            stop.set()
            t.join()
        assert home_of(nodes) == 12
        expected = sorted(tags + accepted)
        wait_for(lambda: len(nodes[12].messages(ALICE)) >= len(expected), timeout=60,
                 what=f"{len(expected)} messages on node 12")
        for n in nodes.values():
            n.wait_sessions_done()
        time.sleep(1.5)                              # a duplicate would have landed by now (retry 1 s)
        assert sorted(message_ids(nodes[12])) == expected
        assert nodes[13].messages(ALICE) == []
        assert not os.path.exists(os.path.join(nodes[13].maildir(ALICE), "cur"))
        after = uidls(nodes[12])
        assert {k: after[k] for k in before} == before
        # and through a proxy: the same
        p = pop(nodes[13])
        p.pass_(ALICE_PW)
        assert len(p.uidl()[1]) == len(expected)
        p.quit()
    finally:
        stop_all(nodes)


def seed_more(nodes, n):
    tags = [f"late{i}" for i in range(n)]
    have = len(nodes[13].messages(ALICE))
    for t in tags:
        assert send(nodes[13], t)
    wait_for(lambda: len(nodes[13].messages(ALICE)) == have + n, what="more messages on node 13")
    return tags


def test_move_interrupted_is_aborted_or_resumed(tmp_path, pg_cluster, pg_dsn):
    nodes = pop3_fleet(tmp_path, pg_dsn, extra=FAST_RETRY)
    try:
        for n in nodes.values():
            n.start()
        tags = seed(nodes, 3)
        before = uidls(nodes[13])

        # killed after the copy, before the switch: logins wait, mail stays home
        move(nodes[13], "--to", "12", pause="copied")
        assert home_of(nodes) == 13
        assert len(nodes[12].messages(ALICE)) == 3
        p = pop(nodes[12])
        with pytest.raises(Exception, match=r"SYS/TEMP.*being moved"):
            p.pass_(ALICE_PW)
        p.quit()
        # going to another node meanwhile is refused
        r = move(nodes[13], "--to", "11")
        assert r.returncode == 1 and "being moved to node 12" in r.stderr
        # --abort: node 12 drops its copy, nothing changed on node 13
        r = move(nodes[13], "--abort")
        assert r.returncode == 0, r.stderr
        assert nodes[12].messages(ALICE) == []
        assert home_of(nodes) == 13
        assert uidls(nodes[13]) == before

        # killed right after the switch, the new home killed -9 too
        move(nodes[13], "--to", "12", pause="switched")
        assert home_of(nodes) == 12
        nodes[12].kill9()
        assert send(nodes[11], "during")             # queued on node 11: node 12 is down
        r = move(nodes[13], "--to", "12")
        assert r.returncode == 1 and "run it again" in r.stderr
        nodes[12].start()
        # killed while removing the old copy, then run again: it finishes
        move(nodes[13], "--to", "12", pause="removing")
        r = move(nodes[13], "--to", "12")
        assert r.returncode == 0, r.stderr
        r = move(nodes[13], "--to", "12")
        assert r.returncode == 1 and "lives on node 12 already" in r.stderr

        expected = sorted(tags + ["during"])
        wait_for(lambda: len(nodes[12].messages(ALICE)) >= len(expected), timeout=60,
                 what="every message on node 12")
        time.sleep(1.5)
        assert sorted(message_ids(nodes[12])) == expected
        assert nodes[13].messages(ALICE) == []
        after = uidls(nodes[12])
        assert {k: after[k] for k in before} == before
        # an abort after the switch is refused: the move is over
        r = move(nodes[13], "--abort")
        assert r.returncode == 1 and "not being moved" in r.stderr
    finally:
        stop_all(nodes)


def test_pop3_quit_during_move_removes_nothing(tmp_path, pg_cluster, pg_dsn):
    nodes = pop3_fleet(tmp_path, pg_dsn)
    try:
        for n in nodes.values():
            n.start()
        tags = seed(nodes, 3)
        # logged in before the move, through node 11's proxy: node 13 serves it
        p = pop(nodes[11])
        p.pass_(ALICE_PW)
        assert p.stat()[0] == 3
        p.dele(1)
        p.dele(2)
        # the move begins and copies the three messages (then stops there)
        move(nodes[13], "--to", "12", pause="copied")
        assert len(nodes[12].messages(ALICE)) == 3
        with pytest.raises(poplib.error_proto, match=r"^b'-ERR \[SYS/TEMP\] deleted messages not removed: "
                           r"your mailbox is being moved, try again in a few minutes'$"):
            p.quit()
        p.close()
        nodes[13].wait_log(r"alice@acme\.test: 2 deleted message\(s\) kept: account acme is being moved")
        assert len(nodes[13].messages(ALICE)) == 3
        r = move(nodes[13], "--to", "12")
        assert r.returncode == 0, r.stderr
        assert home_of(nodes) == 12
        # none lost, none twice
        assert sorted(message_ids(nodes[12])) == sorted(tags)
        assert nodes[13].messages(ALICE) == []
    finally:
        stop_all(nodes)


def test_quit_and_move_share_the_maildir_lock(tmp_path, pg_cluster, pg_dsn):
    """The lock that orders a QUIT and a move's copy is real: held by
    someone else (here the test), a fleet QUIT removes nothing and a move
    stops before it copies anything."""
    nodes = pop3_fleet(tmp_path, pg_dsn)
    try:
        for n in nodes.values():
            n.start()
        tags = seed(nodes, 2)
        p = pop(nodes[13])
        p.pass_(ALICE_PW)
        p.dele(1)
        fd = os.open(nodes[13].maildir(ALICE), os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # the QUIT waits its 10 s for the lock, then keeps the message
            with pytest.raises(poplib.error_proto, match=r"^b'-ERR \[SYS/TEMP\] deleted messages not removed, "
                               r"try again later'$"):
                p.quit()
            p.close()
            assert len(nodes[13].messages(ALICE)) == 2
            r = move(nodes[13], "--to", "12", env={"HOSTMAIL_MOVE_LOCK_WAIT_MS": "500"})
            assert r.returncode == 1
            assert "cannot lock the Maildir of alice@acme.test" in r.stderr
            assert "a POP3 session is still removing messages" in r.stderr
            assert nodes[12].messages(ALICE) == []
            assert home_of(nodes) == 13
        finally:
            os.close(fd)
        r = move(nodes[13], "--to", "12")
        assert r.returncode == 0, r.stderr
        assert sorted(message_ids(nodes[12])) == sorted(tags)
    finally:
        stop_all(nodes)


def test_imap_login_refused_during_move(tmp_path, pg_cluster, pg_dsn):
    if not have_dovecot():
        pytest.skip("Dovecot (dovecot-imapd) is not installed")
    nodes = pop3_fleet(tmp_path, pg_dsn, dovecot=(12, 13))
    try:
        for n in nodes.values():
            n.start()
        for num in (12, 13):
            nodes[num].dovecot.start()
        tags = seed(nodes, 2)

        def imap_count(num):
            c = imaplib.IMAP4_SSL("127.0.0.1", nodes[num].dovecot.imaps_port,
                                  ssl_context=client_ctx(nodes[num]), timeout=20)
            try:
                c.login(ALICE, ALICE_PW)
                typ, data = c.select("INBOX", readonly=True)
                return int(data[0])
            finally:
                try:
                    c.logout()
                except (OSError, imaplib.IMAP4.error):
                    pass

        assert imap_count(13) == 2
        move(nodes[13], "--to", "12", pause="copied")
        for num in (13, 12):                 # the old home, and the new one (not proxied)
            with pytest.raises(imaplib.IMAP4.error, match=r"\[CONTACTADMIN\] your mailbox is being moved, "
                               r"try again in a few minutes"):
                imap_count(num)
        r = move(nodes[13], "--to", "12")
        assert r.returncode == 0, r.stderr
        assert imap_count(12) == 2
        assert sorted(message_ids(nodes[12])) == sorted(tags)
    finally:
        stop_all(nodes)
