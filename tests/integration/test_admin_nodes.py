"""The nodes of a fleet and the account moves under way through the admin
API (docs/admin-api.md, docs/cluster.md): a real hostmaild driven with
curl, answers checked against the served OpenAPI document and against
hostmailctl node list on the same store, refusals with hostmailctl's
words. The nodes table is in both stores, so these run on SQLite and on
PostgreSQL; a move needs a fleet ([cluster] needs PostgreSQL), so the
moves test runs on PostgreSQL only."""
import json

import pytest

from conftest import ON_PG, free_port
from test_admin_api import Admin, ctl_error

NODES = "/api/nodes"
NODE = "/api/nodes/{n}"


@pytest.fixture
def api(tmp_path):
    a = Admin(tmp_path)
    yield a
    a.h.stop()


def node_list(h):
    return h.ctl("node", "list").stdout.splitlines()


def test_nodes_mirror_hostmailctl(api):
    h = api.h
    assert api.do("GET", NODES, NODES, 200, token=api.ro) == []
    # acme (setup_demo) has server number 7, with two mailboxes
    n = api.do("POST", NODES, NODES, 201, {"number": 7, "lmtp": "127.0.0.1:2401", "pop3": "127.0.0.1:1101"})
    assert n == {"number": 7, "state": "active", "lmtp": "127.0.0.1:2401", "pop3": "127.0.0.1:1101", "imap": "",
                 "accounts": 1, "mailboxes": 2}
    assert node_list(h) == ["7 active 127.0.0.1:2401 127.0.0.1:1101 - 1 2"]
    h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="node add 7"')
    # the reverse, and one JSON shape for both
    h.ctl("node", "add", "8", "--lmtp", "127.0.0.1:2402", "--pop3", "127.0.0.1:1102", "--imap", "127.0.0.1:1432")
    rows = api.do("GET", NODES, NODES, 200)
    assert [r["number"] for r in rows] == [7, 8] and rows[1]["imap"] == "127.0.0.1:1432"
    assert json.loads(h.ctl("node", "list", "--json").stdout) == rows

    # drain: no new account lands there; activate: it takes them again
    n = api.do("POST", "/api/nodes/7/drain", "/api/nodes/{n}/drain", 200)
    assert n["state"] == "draining" and node_list(h)[0].startswith("7 draining ")
    a = api.do("POST", "/api/accounts", "/api/accounts", 201, {"name": "shop"})
    assert a["server_number"] == 8
    e = api.do("POST", "/api/accounts", "/api/accounts", 400, {"name": "shop2", "server_number": 7})
    assert e["field"] == "server_number" and "draining" in e["error"]
    assert api.do("POST", "/api/nodes/7/activate", "/api/nodes/{n}/activate", 200)["state"] == "active"
    assert node_list(h)[0].startswith("7 active ")
    h.ctl("node", "drain", "8")
    assert [r["state"] for r in api.do("GET", NODES, NODES, 200)] == ["active", "draining"]

    # a node with accounts cannot be removed: 409, hostmailctl's words
    e = api.do("DELETE", "/api/nodes/8", NODE, 409)
    assert e["error"] == ctl_error(h, "node", "remove", "8")
    api.do("DELETE", "/api/accounts/shop", "/api/accounts/{name}", 200)
    api.do("DELETE", "/api/nodes/8", NODE, 200)
    h.wait_log(r'admin: token=panel ip=127\.0\.0\.1 change="node remove 8"')
    assert [line.split()[0] for line in node_list(h)] == ["7"]
    e = api.do("DELETE", "/api/nodes/8", NODE, 404)
    assert e["error"] == ctl_error(h, "node", "remove", "8")


def test_node_refusals(api):
    h = api.h
    api.do("POST", NODES, NODES, 201, {"number": 7, "lmtp": "127.0.0.1:2401", "pop3": "127.0.0.1:1101"})
    e = api.do("POST", NODES, NODES, 409, {"number": 7, "lmtp": "127.0.0.1:2401", "pop3": "127.0.0.1:1101"})
    assert e["error"] == ctl_error(h, "node", "add", "7", "--lmtp", "127.0.0.1:2401", "--pop3", "127.0.0.1:1101")
    e = api.do("POST", NODES, NODES, 400, {"number": 9, "lmtp": "nohost", "pop3": "127.0.0.1:1101"})
    assert e["field"] == "lmtp"
    assert e["error"] == ctl_error(h, "node", "add", "9", "--lmtp", "nohost", "--pop3", "127.0.0.1:1101")
    e = api.do("POST", NODES, NODES, 400, {"number": 9, "lmtp": "127.0.0.1:2409", "pop3": "127.0.0.1:99999"})
    assert e["field"] == "pop3"
    for body, field in (({"number": 0, "lmtp": "a:1", "pop3": "a:2"}, "number"),
                        ({"number": "9", "lmtp": "a:1", "pop3": "a:2"}, "number"),
                        ({"lmtp": "a:1", "pop3": "a:2"}, "number"),
                        ({"number": 9, "lmtp": "a:1"}, "pop3"),
                        ({"number": 9, "lmtp": "a:1", "pop3": "a:2", "imap": 5}, "imap"),
                        ({"number": 9, "lmtp": "a:1", "pop3": "a:2", "smtp": "a:3"}, "smtp")):
        assert api.do("POST", NODES, NODES, 400, body)["field"] == field, body
    assert api.do("POST", "/api/nodes/abc/drain", "/api/nodes/{n}/drain", 400)["error"] == \
        ctl_error(h, "node", "drain", "abc")
    e = api.do("POST", "/api/nodes/99/drain", "/api/nodes/{n}/drain", 404)
    assert e["error"] == ctl_error(h, "node", "drain", "99")
    api.do("DELETE", "/api/nodes/0", NODE, 400)
    assert node_list(h) == ["7 active 127.0.0.1:2401 127.0.0.1:1101 - 1 2"]
    # read-only tokens list, never change
    assert len(api.do("GET", NODES, NODES, 200, token=api.ro)) == 1
    api.do("POST", "/api/nodes/7/drain", "/api/nodes/{n}/drain", 403, token=api.ro)
    api.do("DELETE", "/api/nodes/7", NODE, 403, token=api.ro)
    assert api.do("GET", "/api/moves", "/api/moves", 200, token=api.ro) == []
    assert api.call("POST", "/api/moves", {})[0] == 405      # a move is hostmailctl's


@pytest.mark.skipif(not ON_PG, reason="a move is between the nodes of a fleet, which shares a PostgreSQL store "
                    "(HOSTMAIL_TEST_STORE=postgresql)")
def test_moves_under_way_and_remote_usage(tmp_path):
    from fleet import cluster_config, host_of
    lmtp = free_port()
    api = Admin(tmp_path, extra=cluster_config(11, lmtp))
    h = api.h
    try:
        h.ctl("node", "add", "11", "--lmtp", f"{host_of(11)}:{lmtp}", "--pop3", f"127.0.0.1:{h.pop3_port}")
        # node 12 is registered but down: a move to it stops after its first step
        api.do("POST", NODES, NODES, 201, {"number": 12, "lmtp": f"{host_of(12)}:{free_port()}",
                                           "pop3": f"{host_of(12)}:{free_port()}"})
        for name, home in (("shop", 11), ("far", 12)):
            h.ctl("account", "add", name, "--server-number", str(home))
            h.ctl("domain", "add", name, f"{name}.test", "--no-dkim")
            h.ctl("mailbox", "add", f"ann@{name}.test", input="ann-secret-1\n")
        assert api.do("GET", "/api/moves", "/api/moves", 200) == []
        r = h.ctl("account", "move", "shop", "--to", "12", check=False)
        assert r.returncode == 1 and "run it again to go on" in r.stderr
        moves = api.do("GET", "/api/moves", "/api/moves", 200, token=api.ro)
        assert [(m["account"], m["from_node"], m["to_node"], m["switched"]) for m in moves] == [("shop", 11, 12, False)]

        # a mailbox homed on another node: its usage is read there, not here
        q = api.do("GET", "/api/mailboxes/ann%40far.test", "/api/mailboxes/{address}", 200)["quota"]
        assert q["local"] is False and q["home_node"] == 12 and q["used_bytes"] is None
        assert "quota_used: on node 12 (mailbox show there)\n" in h.ctl("mailbox", "show", "ann@far.test").stdout
        q = api.do("GET", "/api/mailboxes/ann%40shop.test", "/api/mailboxes/{address}", 200)["quota"]
        assert q["local"] is True and q["used_messages"] == 0
    finally:
        h.stop()
