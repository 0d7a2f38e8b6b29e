"""A fleet, part 2 (issue 16): home nodes and internal delivery over LMTP
with mutual TLS. Three hostmaild on 127.0.0.11-13 sharing one private
PostgreSQL database (fleet.py), each with its own certificate from a CA
made here. Mail for a mailbox homed on node 13 sent to node 11's MX port
lands in node 13's Maildir; with node 13 stopped node 11 keeps it queued
and delivers it once node 13 is back, exactly once; the LMTP listener
refuses a peer without a certificate from the cluster CA, answers per
recipient, refuses a second internal hop and stores a repeated hand-over
once; `hostmailctl node` and the home of new accounts.

Always real PostgreSQL (the pg_cluster fixture), so in the SQLite pass of
`make test` these tests would only repeat the PostgreSQL pass: they run in
the PostgreSQL pass and the ASan pass."""
import json
import os
import smtplib
import socket
import ssl
import threading
import time

import pytest

from conftest import BUILD, ON_PG, queue_files, wait_for
from fleet import LMTP, cluster_pki, lmtp_connect, make_fleet

pytestmark = pytest.mark.skipif(not ON_PG and "asan" not in os.path.basename(BUILD.rstrip("/")),
                                reason="a fleet runs on PostgreSQL: the PostgreSQL and ASan passes run it")

ALICE = "alice@acme.test"        # acme's home: node 13
BOB = "bob@beta.test"            # beta's home: node 11
CAROL = "carol@acme.test"
DAVE = "dave@gamma.test"         # gamma's home: node 12


def hop_message(subject, hops=()):
    head = "".join(f"X-Hostmail-Hop: from=11 to=13 id={h}\r\n" for h in hops)
    return f"{head}From: sender@example.org\r\nTo: {ALICE}\r\nSubject: {subject}\r\n\r\nbody {subject}\r\n"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, pg_cluster):
    f = make_fleet(tmp_path_factory.mktemp("fleet"), pg_cluster.dsn(pg_cluster.new_database()),
                   extra="\n[queue]\nretry_schedule = 1s\n")
    f.ctl("account", "add", "acme", "--server-number", "13")
    f.ctl("domain", "add", "acme", "acme.test", "--no-dkim")
    f.ctl("mailbox", "add", ALICE, input="alice-secret\n")
    f.ctl("mailbox", "add", CAROL, input="carol-secret\n")
    f.ctl("account", "add", "gamma", "--server-number", "12")
    f.ctl("domain", "add", "gamma", "gamma.test", "--no-dkim")
    f.ctl("mailbox", "add", DAVE, input="dave-secret-1\n")
    f.ctl("account", "add", "beta", "--server-number", "11")
    f.ctl("domain", "add", "beta", "beta.test", "--no-dkim")
    f.ctl("mailbox", "add", BOB, input="bob-secret-1\n")
    yield f
    f.stop()


def with_subject(node, address, subject):
    return [m for m in node.messages(address) if f"Subject: {subject}".encode() in m]


def queue_empty(node):
    """Wait until node's queue holds nothing (the messages of earlier tests
    are removed a moment after their delivery)."""
    wait_for(lambda: not queue_files(node, "env"), what=f"{node.host}'s queue to empty")


def send_mx(node, rcpts, subject):
    rcpts = [rcpts] if isinstance(rcpts, str) else rcpts
    s = smtplib.SMTP(node.host, node.smtp_port, local_hostname="client.test", timeout=20)
    try:
        s.ehlo()
        assert s.mail("sender@example.org")[0] == 250
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        code, text = s.data(f"From: sender@example.org\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
                            "\r\nhello\r\n.leading dot\r\n.\r\nafter a lone dot\r\n")
        assert code == 250, text
    finally:
        s.close()


def test_mail_for_a_node13_mailbox_sent_to_node11_lands_on_node13(fleet):
    send_mx(fleet[11], ALICE, "via eleven")
    wait_for(lambda: with_subject(fleet[13], ALICE, "via eleven"), what="the message in node 13's Maildir")
    m = with_subject(fleet[13], ALICE, "via eleven")
    assert len(m) == 1
    assert m[0].startswith(b"Return-Path: <sender@example.org>\nDelivered-To: alice@acme.test\n")
    assert b"\nX-Hostmail-Hop: from=11 to=13 id=11." in m[0]
    assert b"\r\n" not in m[0]                            # stored with LF, like local delivery
    assert not fleet[11].messages(ALICE) and not fleet[12].messages(ALICE)
    wait_for(lambda: not queue_files(fleet[11], "env"), what="node 11's queue to empty")
    fleet[11].wait_log(r"to=<alice@acme.test>: delivered to node 13 over LMTP")
    # mail for a mailbox homed on the accepting node stays there
    send_mx(fleet[11], BOB, "local on eleven")
    wait_for(lambda: with_subject(fleet[11], BOB, "local on eleven"), what="bob's message on node 11")
    assert not fleet[13].messages(BOB)


def test_one_message_for_mailboxes_on_three_nodes(fleet):
    """Each home node gets its own recipients, those of one node in one
    LMTP transaction (one reply per recipient), the message intact."""
    send_mx(fleet[12], [ALICE, BOB, CAROL, DAVE], "to all three")
    for node, addr in ((13, ALICE), (13, CAROL), (11, BOB), (12, DAVE)):
        wait_for(lambda: with_subject(fleet[node], addr, "to all three"), what=f"{addr} on node {node}")
    m = with_subject(fleet[13], CAROL, "to all three")[0]
    assert m.endswith(b"\nhello\n.leading dot\n.\nafter a lone dot\n")            # dot-stuffed on the way, unstuffed there
    assert b"X-Hostmail-Hop: from=12 to=13" in m
    assert b"X-Hostmail-Hop" not in with_subject(fleet[12], DAVE, "to all three")[0]   # local: no hop
    a = fleet[13].wait_log(r"lmtp\[(\d+)\]: to=<alice@acme\.test>: delivered to maildir \(hop id 12\.")
    fleet[13].wait_log(r"lmtp\[" + a.group(1) + r"\]: to=<carol@acme\.test>: delivered to maildir")
    for node, addr in ((13, ALICE), (13, CAROL), (11, BOB), (12, DAVE)):
        assert len(with_subject(fleet[node], addr, "to all three")) == 1
    assert not with_subject(fleet[11], ALICE, "to all three") and not with_subject(fleet[12], ALICE, "to all three")


def test_home_node_down_mail_waits_then_is_delivered_exactly_once(fleet):
    queue_empty(fleet[11])
    fleet[13].stop()
    try:
        send_mx(fleet[11], ALICE, "while thirteen is down")
        assert len(queue_files(fleet[11], "env")) == 1
        fleet[11].wait_log(r"to=<alice@acme.test>: deferred: reason=\"?4\.4\.1 node 13 \(127\.0\.0\.13:\d+\)")
        fleet[11].wait_log(r"to=<alice@acme.test>: deferred", count=2)    # retried, still queued
        assert len(queue_files(fleet[11], "env")) == 1
    finally:
        fleet[13].start()
    wait_for(lambda: with_subject(fleet[13], ALICE, "while thirteen is down"), what="delivery after the restart")
    wait_for(lambda: not queue_files(fleet[11], "env"), what="node 11's queue to empty")
    assert len(with_subject(fleet[13], ALICE, "while thirteen is down")) == 1
    assert not with_subject(fleet[11], ALICE, "while thirteen is down")


def test_queued_mail_follows_a_new_home(fleet):
    """A message queued for node 13 while it is down goes to the account's
    new home when the store says it moved (what `account move` does)."""
    fleet[13].stop()
    try:
        send_mx(fleet[11], CAROL, "follows the move")
        fleet[11].wait_log(r"to=<carol@acme\.test>: deferred: reason=\"?4\.4\.1 node 13")
        fleet.sql("UPDATE accounts SET server_number = 12 WHERE name = 'acme'")
        wait_for(lambda: with_subject(fleet[12], CAROL, "follows the move"), what="delivery to the new home")
        wait_for(lambda: not queue_files(fleet[11], "env"), what="node 11's queue to empty")
    finally:
        fleet.sql("UPDATE accounts SET server_number = 13 WHERE name = 'acme'")
        fleet[13].start()
    assert len(with_subject(fleet[12], CAROL, "follows the move")) == 1
    assert not with_subject(fleet[13], CAROL, "follows the move")


def test_a_home_node_with_a_certificate_from_another_ca_gets_nothing(fleet):
    """The sending node verifies the home node: a listener at a node's
    registered address with a certificate of another CA (naming that
    address) is refused during the handshake and the mail stays queued."""
    p = cluster_pki()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(p["stranger"]["crt"], p["stranger"]["key"])
    lsock = socket.socket()
    lsock.bind(("127.0.0.12", 0))
    lsock.listen(8)
    lsock.settimeout(30)
    got = []

    def impostor():
        try:
            while True:
                conn, _ = lsock.accept()
                try:
                    t = ctx.wrap_socket(conn, server_side=True)
                    t.sendall(b"220 impostor LMTP\r\n")
                    got.append(t.recv(100))
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    conn.close()
        except OSError:
            return

    th = threading.Thread(target=impostor, daemon=True)
    th.start()
    port = lsock.getsockname()[1]
    fleet.ctl("node", "add", "14", "--lmtp", f"127.0.0.12:{port}", "--pop3", "127.0.0.12:1")
    fleet.ctl("account", "add", "delta", "--server-number", "14")
    fleet.ctl("domain", "add", "delta", "delta.test", "--no-dkim")
    fleet.ctl("mailbox", "add", "eve@delta.test", input="eve-secret-12\n")
    queue_empty(fleet[11])
    try:
        send_mx(fleet[11], "eve@delta.test", "to the impostor")
        fleet[11].wait_log(r"to=<eve@delta\.test>: deferred: reason=\"?4\.4\.1 node 14 \(127\.0\.0\.12:\d+\):"
                           r" TLS failed: (unable to get local issuer certificate|certificate verify failed)")
        assert len(queue_files(fleet[11], "env")) == 1
        assert not [g for g in got if g]             # not one byte of the session reached it
    finally:
        fleet.ctl("account", "remove", "delta")
        fleet.ctl("node", "remove", "14")
        lsock.close()
    for qid in queue_files(fleet[11], "env"):
        # with its account removed the runner may bounce and remove it first
        r = fleet[11].ctl("queue", "delete", qid, check=False)
        assert r.returncode == 0 or "no such message" in r.stderr, r.stderr


@pytest.mark.parametrize("cert, logged", [("none", "peer did not return a certificate"),
                                          ("stranger", "certificate verify failed")])
def test_lmtp_refuses_a_peer_without_a_cluster_certificate(fleet, cert, logged):
    with pytest.raises((ssl.SSLError, EOFError, ConnectionResetError, BrokenPipeError)):
        c = LMTP(lmtp_connect(fleet, 13, cert=cert))
        try:
            c.reply()                    # TLS 1.3: the refusal arrives after the client's Finished
            c.cmd("LHLO node12.fleet.test")
        finally:
            c.close()
    fleet[13].wait_log(r"lmtp\[\d+\] ip=[0-9.]+: TLS error: .*" + logged)
    # a node's certificate gets the greeting
    c = LMTP(lmtp_connect(fleet, 13, cert="node"))
    try:
        code, text = c.reply()
        assert code == 220 and "LMTP" in text
    finally:
        c.close()


def test_lmtp_answers_per_recipient_refuses_a_second_hop_and_stores_a_repeat_once(fleet):
    c = LMTP(lmtp_connect(fleet, 13))
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO node12.fleet.test")[0] == 500          # LMTP: LHLO only
        assert c.cmd("LHLO node12.fleet.test")[0] == 250
        assert c.cmd("MAIL FROM:<sender@example.org>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        code, text = c.cmd(f"RCPT TO:<{BOB}>")                   # homed on node 11
        assert code == 451 and text.startswith("4.3.0") and "node 11" in text
        code, text = c.cmd("RCPT TO:<nobody@acme.test>")
        assert code == 550 and text.startswith("5.1.1")
        assert c.cmd("RCPT TO:<someone@unhosted.example>")[0] == 550
        # a message that made an internal hop already: refused, not stored
        replies = c.data(hop_message("looping", hops=["11.AAAA", "12.BBBB"]), 1)
        assert replies[0][0] == 554 and replies[0][1].startswith("5.4.6"), replies
        assert not with_subject(fleet[13], ALICE, "looping")
        # one hop: delivered, once per recipient listed
        assert c.cmd("MAIL FROM:<sender@example.org>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.cmd("RCPT TO:<ALICE@ACME.TEST>")[0] == 250
        replies = c.data(hop_message("first hand-over", hops=["12.CCCC"]), 2)
        assert [r[0] for r in replies] == [250, 250], replies
        # the same hand-over again (the sender crashed before recording it): stored once
        assert c.cmd("MAIL FROM:<sender@example.org>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        replies = c.data(hop_message("first hand-over", hops=["12.CCCC"]), 1)
        assert replies[0][0] == 250 and "already" in replies[0][1], replies
        assert c.cmd("QUIT")[0] == 221
    finally:
        c.close()
    assert len(with_subject(fleet[13], ALICE, "first hand-over")) == 1


def test_the_home_node_keeps_the_mailbox_quota(fleet):
    """The quota of a mailbox homed on node 13 holds for mail accepted by
    node 11, which cannot see node 13's Maildir: the first message fits,
    the second would pass the limit there, so node 13's LMTP answers
    552 5.2.2 for it and node 11 bounces that recipient."""
    erin = "erin@acme.test"
    fleet.ctl("mailbox", "add", erin, input="erin-secret-1\n")
    fleet.ctl("mailbox", "quota", erin, "4K")
    for subject in ("first fits", "second is too much"):
        s = smtplib.SMTP(fleet[11].host, fleet[11].smtp_port, local_hostname="client.test", timeout=20)
        try:
            s.ehlo()
            assert s.mail("sender@example.org")[0] == 250
            assert s.rcpt(erin)[0] == 250
            code, text = s.data(f"From: sender@example.org\r\nTo: {erin}\r\nSubject: {subject}\r\n\r\n"
                                + ("y" * 70 + "\r\n") * 36)
            assert code == 250, text
        finally:
            s.quit()
        if subject == "first fits":
            wait_for(lambda: with_subject(fleet[13], erin, subject), what="the first message on node 13")
    fleet[13].wait_log(r"lmtp\[\d+\]: to=<erin@acme\.test>: mailbox full \(552\)")
    fleet[11].wait_log(r"to=<erin@acme\.test>: failed: reason=.*5\.2\.2")
    assert len(fleet[13].messages(erin)) == 1


def test_the_home_node_answers_for_the_autoresponder(fleet):
    """Mail for a node-13 mailbox accepted by node 11 is answered by the
    autoresponder on node 13, once per sender, the reply in node 13's queue."""
    frank = "frank@acme.test"
    fleet.ctl("mailbox", "add", frank, input="frank-secret-1\n")
    fleet.ctl("mailbox", "vacation", frank, "on", "--subject", "Away", "--text", "Back on Monday.")
    for n in (1, 2):
        send_mx(fleet[11], frank, f"to frank {n}")
    wait_for(lambda: len(fleet[13].messages(frank)) == 2, what="both messages on node 13")
    fleet[13].wait_log(r"to=<frank@acme\.test>: vacation: reply to \S*sender@example\.org\S* queued as \w+")
    fleet[13].wait_log(r"to=<frank@acme\.test>: vacation: no reply to \S*sender@example\.org\S*: answered within")


def test_node_verbs_and_the_home_of_new_accounts(tmp_path, pg_cluster):
    f = make_fleet(tmp_path, pg_cluster.dsn(pg_cluster.new_database()), start=False)
    nodes = json.loads(f.ctl("node", "list", "--json").stdout)
    assert [(n["number"], n["state"], n["accounts"], n["mailboxes"]) for n in nodes] == \
        [(11, "active", 0, 0), (12, "active", 0, 0), (13, "active", 0, 0)]
    assert nodes[2]["lmtp"] == f"127.0.0.13:{f.lmtp[13]}"
    r = f.ctl("node", "add", "12", "--lmtp", "127.0.0.12:1", "--pop3", "127.0.0.12:2", check=False)
    assert r.returncode == 1 and "node 12 already exists" in r.stderr
    r = f.ctl("node", "add", "14", "--lmtp", "nowhere", "--pop3", "127.0.0.14:110", check=False)
    assert r.returncode == 1 and "--lmtp needs HOST:PORT" in r.stderr
    # a new account without --server-number: the node with the fewest mailboxes
    f.ctl("account", "add", "big", "--server-number", "11")
    f.ctl("domain", "add", "big", "big.test", "--no-dkim")
    for i in range(2):
        f.ctl("mailbox", "add", f"u{i}@big.test", input="password-123\n")
    f.ctl("account", "add", "mid", "--server-number", "12")
    f.ctl("domain", "add", "mid", "mid.test", "--no-dkim")
    f.ctl("mailbox", "add", "u@mid.test", input="password-123\n")
    f.ctl("account", "add", "fresh")
    assert f.ctl("account", "show", "fresh").stdout.count("server_number: 13") == 1
    f.ctl("node", "drain", "13")
    f.ctl("account", "add", "fresh2")
    assert "server_number: 12" in f.ctl("account", "show", "fresh2").stdout
    r = f.ctl("account", "add", "refused", "--server-number", "13", check=False)
    assert r.returncode == 1 and "node 13 is draining" in r.stderr
    r = f.ctl("account", "add", "refused", "--server-number", "99", check=False)
    assert r.returncode == 1 and "not a node of this fleet" in r.stderr
    lines = f.ctl("node", "list").stdout.splitlines()
    assert lines[0].split()[:2] == ["11", "active"] and lines[0].split()[-2:] == ["1", "2"]
    assert lines[2].split()[:2] == ["13", "draining"] and lines[2].split()[-2:] == ["1", "0"]
    # removal: refused while accounts live there
    r = f.ctl("node", "remove", "13", check=False)
    assert r.returncode == 1 and "node 13 is the home of 1 account(s)" in r.stderr
    f.ctl("account", "remove", "fresh")
    f.ctl("node", "remove", "13")
    assert [n["number"] for n in json.loads(f.ctl("node", "list", "--json").stdout)] == [11, 12]
    f.ctl("node", "activate", "12")


@pytest.mark.parametrize("cluster, why", [
    ("node = 12\n", "[cluster] node = 12 needs [cluster] ca"),
    ("node = 12\nca = /x\ncertificate = /y\n", "[cluster] node = 12 needs [cluster] key"),
    ("ca = /x\n", "[cluster] ca, certificate and key need [cluster] node"),
    ("node = 0\n", "bad value for [cluster] node"),
])
def test_cluster_configuration_errors(tmp_path, pg_cluster, cluster, why):
    from conftest import Hostmail
    from pg import store_config
    h = Hostmail(tmp_path, extra=store_config(pg_cluster.dsn(pg_cluster.new_database())) + "\n[cluster]\n" + cluster)
    r = h.ctl("node", "list", check=False)
    assert r.returncode == 1 and why in r.stderr, r.stderr


def test_a_node_with_a_key_that_does_not_load_does_not_start(tmp_path, pg_cluster):
    from conftest import Hostmail
    from pg import store_config
    p = cluster_pki()
    h = Hostmail(tmp_path, extra=store_config(pg_cluster.dsn(pg_cluster.new_database())) +
                 f"\n[cluster]\nnode = 12\nca = {p['ca']}\ncertificate = {p['nodes'][12]['crt']}\n"
                 f"key = {p['nodes'][13]['key']}\n")
    with pytest.raises(RuntimeError, match=r"cluster: \[cluster\] key"):
        h.start()
