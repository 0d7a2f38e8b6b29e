"""Quarantine in the queue (issue 18): a message held by hand (hostmailctl
queue hold, the admin API) stays in the queue, durable, undelivered even
when flushed, shown as held with its reason, until it is released; then it
is delivered at once. The world of test_outbound: dnsmasq for DNS, a real
second hostmaild as the remote MX."""
import json

from conftest import wait_for
from test_outbound import (ALICE, message, queue_empty, queue_ids, start_counting_queue, submit, to_lf,
                           wait_log, world)  # noqa: F401 (world is a fixture)
from test_admin_api import Admin, ctl_error


def deferred(h, subject):
    """A message for someone@remote.test, deferred once (the remote is down); its id."""
    n = h.logtext().count("to=<someone@remote.test>: deferred")
    submit(h, ["someone@remote.test"], message("someone@remote.test", subject))
    wait_log(h, r"to=<someone@remote\.test>: deferred", count=n + 1)
    return queue_ids(h)[-1]


def held_looks(h, qid):
    return h.logtext().count(f"{qid}: on hold, not delivered until released")


def looked_at_while_held(h, qid, before):
    """The runner opened held message qid once more than before, and left it."""
    wait_log(h, rf"{qid}: on hold, not delivered until released", count=before + 1)


def test_held_message_not_delivered_listed_then_released_and_delivered(world):
    remote = world["remote"]
    h = world["make_sender"]()               # retries every 1-2 s: it would go at once
    qid = deferred(h, "held")
    n = held_looks(h, qid)
    r = h.ctl("queue", "hold", qid, "customer", "asked:", "check it")
    assert r.stdout.strip() == f"{qid} held"
    # its next retry finds it held and leaves it out of the schedule, so
    # flushing the whole queue does not try it (as Postfix's hold queue)
    looked_at_while_held(h, qid, n)
    remote.start()
    assert h.ctl("queue", "flush").stdout.strip() == "0 message(s) to be tried now"
    n = held_looks(h, qid)
    h.ctl("queue", "flush", qid)                  # a flush of the id does not release it either
    looked_at_while_held(h, qid, n)
    assert remote.messages("someone@remote.test") == []
    [line] = h.ctl("queue", "list").stdout.splitlines()
    assert line.startswith(qid + " ") and ' someone@remote.test=pending held="customer asked: check it"' in line
    assert "next=" not in line, line
    [j] = json.loads(h.ctl("queue", "list", "--json").stdout)
    assert j["id"] == qid and j["held"] is True and j["hold_reason"] == "customer asked: check it"
    assert "held: customer asked: check it\n" in h.ctl("queue", "show", qid).stdout
    r = h.ctl("queue", "release", qid)
    assert r.stdout.strip() == f"{qid} released, to be tried now"
    got = remote.wait_messages("someone@remote.test", 1, timeout=20)
    assert len(got) == 1 and got[0].endswith(to_lf(message("someone@remote.test", "held")))
    wait_for(lambda: queue_empty(h), what="queue empty")
    assert h.messages(ALICE) == []                # no bounce, no delay warning
    # errors: what is not held, not queued, not an id
    assert ctl_error(h, "queue", "release", qid) == f"no such message: {qid}"
    assert ctl_error(h, "queue", "hold", qid) == f"no such message: {qid}"
    assert ctl_error(h, "queue", "hold", "../../etc") == "../../etc is not a queue id"
    assert ctl_error(h, "queue", "hold", qid, "x" * 300) == "the reason is longer than 255 bytes"


def test_hold_survives_a_restart_and_release_without_daemon(world):
    remote = world["remote"]
    h = world["make_sender"]()
    qid = deferred(h, "kept")
    h.ctl("queue", "hold", qid)                   # the default reason
    other = deferred(h, "not held")
    assert ctl_error(h, "queue", "release", other) == f"{other} is not on hold"
    h.stop()
    remote.start()
    n = held_looks(h, qid)
    assert start_counting_queue(h) == 2
    assert len(remote.wait_messages("someone@remote.test", 1, timeout=20)) == 1   # the other one
    looked_at_while_held(h, qid, n)
    wait_for(lambda: queue_ids(h) == [qid], what="only the held message left")
    assert 'held="held by the mail administrator"' in h.ctl("queue", "list").stdout
    # released while no daemon runs: delivered when one starts
    h.stop()
    r = h.ctl("queue", "release", qid)
    assert r.stdout.strip() == f"{qid} released (hostmaild is not running: it is tried when it starts)"
    assert "held=" not in h.ctl("queue", "list").stdout
    h.start()
    assert len(remote.wait_messages("someone@remote.test", 2, timeout=20)) == 2
    wait_for(lambda: queue_empty(h), what="queue empty")


def test_delete_a_held_message(world):
    h = world["make_sender"]()
    qid = deferred(h, "deleted")
    h.ctl("queue", "hold", qid, "spam")
    assert h.ctl("queue", "delete", qid).stdout.strip() == f"{qid} deleted"
    assert queue_ids(h) == []
    assert h.messages(ALICE) == []


def test_admin_api_hold_and_release(tmp_path):
    api = Admin(tmp_path)
    try:
        h = api.h
        submit(h, ["far@remote.example"], message("far@remote.example", "api"))
        [qid] = queue_ids(h)
        api.do("POST", f"/api/queue/{qid}/hold", "/api/queue/{id}/hold", 200, body={"reason": "abuse desk"})
        m = api.do("GET", f"/api/queue/{qid}", "/api/queue/{id}", 200)
        assert m["held"] is True and m["hold_reason"] == "abuse desk"
        assert json.loads(h.ctl("queue", "list", "--json").stdout) == [m]
        h.wait_log(rf'admin: token=panel ip=127\.0\.0\.1 change="queue hold {qid}"')
        e = api.do("POST", f"/api/queue/{qid}/hold", "/api/queue/{id}/hold", 400, body={"reason": 5})
        assert e["field"] == "reason"
        status, _ = api.call("POST", f"/api/queue/{qid}/hold", {"reason": "x"}, token=api.ro)
        assert status == 403
        # no body: the default reason
        api.do("POST", f"/api/queue/{qid}/hold", "/api/queue/{id}/hold", 200)
        assert api.do("GET", f"/api/queue/{qid}", "/api/queue/{id}", 200)["hold_reason"] == \
            "held by the mail administrator"
        r = api.do("POST", f"/api/queue/{qid}/release", "/api/queue/{id}/release", 200)
        assert r == {"ok": True, "tried_now": True}
        assert api.do("GET", f"/api/queue/{qid}", "/api/queue/{id}", 200)["held"] is False
        e = api.do("POST", f"/api/queue/{qid}/release", "/api/queue/{id}/release", 409)
        assert e["error"] == ctl_error(h, "queue", "release", qid) == f"{qid} is not on hold"
        api.do("POST", "/api/queue/00000000000000000000/release", "/api/queue/{id}/release", 404)
        assert api.call("POST", "/api/queue/nonsense/hold")[0] == 404
    finally:
        api.h.stop()
