"""A fleet: three hostmaild on 127.0.0.11, .12 and .13 sharing one private
PostgreSQL database (issue 15). Twenty sessions of one account spread over
the nodes at once never pass its hourly budget by one recipient; and
PostgreSQL stopped under load and started again: every message a node
answered 250 is delivered, clients got only 4xx meanwhile (451 4.3.0, never
a 5xx), and every node serves again without a restart."""
import smtplib
import threading
import time

from conftest import queue_files, setup_demo, wait_for
from pg import Cluster
from test_budget import ALICE, race, away_from_the_hour
from test_pg_store import pg_hostmail

HOSTS = ("127.0.0.11", "127.0.0.12", "127.0.0.13")


def fleet(tmp_path, dsn, extra=""):
    nodes = [pg_hostmail(tmp_path / f"node{i}", dsn, host=h, extra=extra) for i, h in enumerate(HOSTS)]
    setup_demo(nodes[0])                 # made through one node, seen by all
    for n in nodes:
        n.start()
    return nodes


def stop_all(nodes):
    for n in nodes:
        n.stop()


def hour_used(cluster, db):
    now = int(time.time())
    rows = cluster.psql("SELECT b.hour_count FROM rate_budget b JOIN accounts a ON a.id = b.account_id"
                        f" WHERE a.name = 'acme' AND b.hour_start = {now - now % 3600}", db)
    return int(rows[0][0]) if rows else 0


def test_three_nodes_never_pass_the_hourly_budget(tmp_path, pg_cluster, pg_dsn):
    away_from_the_hour()
    nodes = fleet(tmp_path, pg_dsn)
    db = pg_dsn.split("dbname=")[1]
    try:
        nodes[1].ctl("account", "limits", "acme", "--per-hour", "10")
        codes, datas = race(nodes, 20, 3)
        assert len(codes) == 60
        assert codes.count(250) == 10, codes
        assert set(codes) == {250, 450}
        assert datas and set(datas) == {250}
        assert sum(len(queue_files(n, "env")) for n in nodes) == len(datas)
        assert hour_used(pg_cluster, db) == 10
        # every node refuses the eleventh
        for n in nodes:
            codes, _ = race([n], 1, 1, send=False)
            assert codes == [450]
        time.sleep(0.5)                  # the refused sessions reserved nothing
        assert hour_used(pg_cluster, db) == 10
    finally:
        stop_all(nodes)


def test_postgresql_stopped_under_load_and_started(tmp_path):
    cluster = Cluster()                  # its own: this test stops it
    nodes = []
    try:
        dsn = cluster.dsn(cluster.new_database())
        nodes = fleet(tmp_path, dsn, extra="\n[queue]\nretry_schedule = 1s\n")
        load_through_an_outage(nodes, cluster)
    finally:
        stop_all(nodes)
        cluster.destroy()


def send_one(node, tag):
    """One message for alice through node's MX port: the reply that counts
    (the first refusal, or DATA's), as (stage, code, text)."""
    try:
        s = smtplib.SMTP(node.host, node.smtp_port, local_hostname="client.test", timeout=20)
    except (OSError, smtplib.SMTPException) as e:
        return ("connect", 0, repr(e).encode())
    try:
        code, text = s.ehlo()
        if code != 250:
            return ("ehlo", code, text)
        code, text = s.mail("load@example.org")
        if code != 250:
            return ("mail", code, text)
        code, text = s.rcpt(ALICE)
        if code != 250:
            return ("rcpt", code, text)
        code, text = s.data(f"From: load@example.org\r\nSubject: load {tag}\r\n\r\n{tag}\r\n")
        return ("data", code, text)
    except smtplib.SMTPServerDisconnected as e:
        return ("disconnected", 0, repr(e).encode())
    finally:
        try:
            s.close()
        except OSError:
            pass


def load_through_an_outage(nodes, cluster):
    stop = threading.Event()
    results, lock = [], threading.Lock()

    def client(k):
        i = 0
        while not stop.is_set():
            node = nodes[(k + i) % len(nodes)]
            tag = f"c{k}-m{i}"
            r = send_one(node, tag)
            with lock:
                results.append((time.time(), node, tag) + r)
            i += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    def ok(r):
        return r[3] == "data" and r[4] == 250

    try:
        wait_for(lambda: any(ok(r) for r in list(results)), 30, "mail accepted before the outage")
        down_at = time.time()
        cluster.stop()                   # pg_ctl stop -m fast, under load
        wait_for(lambda: any(r[0] > down_at and not ok(r) for r in list(results)), 30,
                 "a refusal while PostgreSQL is down")
        time.sleep(1)                    # deliberate: the outage lasts a while under load
        up_at = time.time()
        cluster.start()
        wait_for(lambda: all(any(r[1] is n and r[0] > up_at + 1 and ok(r) for r in list(results))
                             for n in nodes), 60, "every node accepting again")
    finally:
        stop.set()
        for t in threads:
            t.join(60)

    accepted = [r for r in results if r[3] == "data" and r[4] == 250]
    refused = [r for r in results if not (r[3] == "data" and r[4] == 250)]
    # load before, during and after
    assert any(r[0] < down_at for r in accepted)
    assert any(r[0] > up_at + 1 for r in accepted)
    during = [r for r in refused if down_at < r[0] < up_at]
    assert during, "no client was refused while PostgreSQL was down"
    # nothing but temporary refusals, ever
    assert all(400 <= r[4] < 500 for r in refused), [r[1:] for r in refused if not 400 <= r[4] < 500][:5]
    assert any(r[4] == 451 and r[5].startswith(b"4.3.0") for r in refused)
    # every node serves again, without a restart
    for n in nodes:
        assert n.proc.poll() is None
        assert any(r[1] is n and r[0] > up_at + 1 for r in accepted), n.host
    # every 250 is delivered, on the node that took it
    deadline = time.time() + 60
    missing = accepted
    while missing and time.time() < deadline:
        have = {}
        for n in nodes:
            have[n] = b"".join(n.messages(ALICE))
        missing = [r for r in accepted if f"Subject: load {r[2]}\r\n".encode() not in have[r[1]]
                   and f"Subject: load {r[2]}\n".encode() not in have[r[1]]]
        time.sleep(0.2)
    assert not missing, [r[2] for r in missing][:10]


def test_a_password_change_on_one_node_ends_cached_logins_on_every_node(tmp_path, pg_cluster, pg_dsn):
    """Each node caches alice's verdict; the password is changed through
    another node's hostmailctl: at once, no node accepts the old one, and
    every node accepts the new one (issue 23: the stored hash is part of
    the cache's key, so nothing has to be told)."""
    from test_auth_cache import smtp_auth
    nodes = fleet(tmp_path, pg_dsn)
    try:
        for n in nodes:
            for _ in range(2):
                assert smtp_auth(n, ALICE, "alice-secret")[0] == 235
            n.wait_log(r"authenticated user=alice@acme\.test account=acme \(password cached\)")
        nodes[2].ctl("mailbox", "passwd", ALICE, input="alice-moved-on\n")
        for n in nodes:
            assert smtp_auth(n, ALICE, "alice-secret")[0] == 535
            assert smtp_auth(n, ALICE, "alice-moved-on")[0] == 235
    finally:
        stop_all(nodes)
