"""Prometheus metrics (docs/metrics.md): the [listen] metrics listener
answers GET /metrics in the text exposition format and nothing else, and
a real Prometheus (Debian's, private: prom.py) scraping it sees the
counters move as mail is sent, refused and delivered and a login fails.
One daemon and one Prometheus for the module: starting Prometheus costs
a second or two."""
import os
import poplib
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request

import pytest

from conftest import Hostmail, free_port, setup_demo, wait_for
from prom import Prometheus

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def hmm(tmp_path_factory):
    d = tmp_path_factory.mktemp("metrics")
    port = free_port()
    h = Hostmail(d, extra=f"[listen]\nmetrics = 127.0.0.1:{port}\n")
    h.metrics_port = port
    setup_demo(h)
    h.start()
    h.prom = Prometheus(os.path.join(str(d), "prom"), [f"127.0.0.1:{port}"])
    yield h
    h.prom.stop()
    h.stop()


def get(h, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{h.metrics_port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def documented_metrics():
    """Every metric name docs/metrics.md lists in its tables."""
    with open(os.path.join(ROOT, "docs", "metrics.md")) as f:
        return set(re.findall(r"^\| `(hostmail_[a-z_]+)`", f.read(), re.M))


def test_exposition_format_and_every_documented_metric(hmm):
    status, headers, body = get(hmm, "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", body, re.M))
    names = documented_metrics()
    assert len(names) >= 15
    assert names == set(types), (names ^ set(types))
    for name, kind in types.items():
        assert name.startswith("hostmail_")
        assert name.endswith("_total") == (kind == "counter"), name
        if kind == "histogram":
            assert name.endswith("_seconds"), name
    # every sample line is NAME{labels} VALUE under its family
    for line in body.splitlines():
        if not line.startswith("#"):
            assert re.match(r'^hostmail_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.]+$', line), line
    assert re.search(r"^hostmail_queue_messages 0$", body, re.M)
    assert re.search(r'^hostmail_worker_queue_depth\{pool="main"\} \d+$', body, re.M)


def test_only_get_metrics_is_served(hmm):
    assert get(hmm, "/")[0] == 404
    assert get(hmm, "/metrics/x")[0] == 404
    status, headers, _ = get(hmm, "/metrics", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, _, body = get(hmm, "/metrics", method="HEAD")
    assert status == 200 and body == ""
    # the ACC's strict parser: an ambiguous request is refused, not guessed at
    with socket.create_connection(("127.0.0.1", hmm.metrics_port), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")
        assert s.recv(100).startswith(b"HTTP/1.1 400 ")


def scraped(h, expr):
    """expr's value once Prometheus has a sample of it (waits for a scrape)."""
    got = []
    wait_for(lambda: got.append(h.prom.value(expr)) or got[-1] is not None, 30,
             f"Prometheus to have {expr}")
    return got[-1]


def moved(h, expr, before):
    """Wait until Prometheus has scraped a value of expr above before."""
    return wait_for(lambda: (h.prom.value(expr) or 0) > before, 30,
                    f"Prometheus to see {expr} above {before}")


def test_prometheus_sees_counters_move(hmm):
    p = hmm.prom
    wait_for(lambda: any(t["health"] == "up" for t in p.targets()), 30, "the target up")
    q_accepted = 'sum(hostmail_messages_accepted_total)'
    q_relay = 'sum(hostmail_messages_refused_total{class="5xx",reason="relay"})'
    q_failed = 'sum(hostmail_logins_total{service="pop3",result="failed"})'
    q_delivered = 'sum(hostmail_deliveries_total{result="delivered",route="local"})'
    q_sessions = 'sum(hostmail_sessions_total{listener="smtp"})'
    q_tls = 'sum(hostmail_tls_handshakes_total{listener="pop3"})'
    # the series exist (at 0 or above) before the events
    before = {q: scraped(hmm, f"{q} or vector(0)") for q in
              (q_accepted, q_relay, q_failed, q_delivered, q_sessions, q_tls)}

    with smtplib.SMTP("127.0.0.1", hmm.smtp_port, local_hostname="client.test", timeout=15) as s:
        s.sendmail("someone@elsewhere.test", ["alice@acme.test"], b"Subject: m\r\n\r\nHi.\r\n")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            s.sendmail("someone@elsewhere.test", ["x@not-hosted.test"], b"Subject: r\r\n\r\nNo.\r\n")
    p3 = poplib.POP3("127.0.0.1", hmm.pop3_port, timeout=15)
    p3.stls(context=ssl._create_unverified_context())
    p3.user("alice@acme.test")
    with pytest.raises(poplib.error_proto):
        p3.pass_("wrong-password")
    p3.close()

    for q in (q_accepted, q_relay, q_failed, q_delivered, q_sessions, q_tls):
        moved(hmm, q, before[q])
    # the refusal and the failed login are in the log as sent and in one form
    assert hmm.wait_log(r"pop3 authentication failed: ip=127\.0\.0\.1 user=alice@acme\.test")
    # delivery latency: one observation for the local delivery
    moved(hmm, 'sum(hostmail_delivery_latency_seconds_count{route="local"})', 0)


def test_grafana_dashboard_queries_run_on_prometheus(hmm):
    """Every query of docs/grafana-dashboard.json is valid PromQL for the
    real Prometheus and names only metrics the daemon exports."""
    import json
    with open(os.path.join(ROOT, "docs", "grafana-dashboard.json")) as f:
        dash = json.load(f)
    assert dash["__inputs"][0]["pluginId"] == "prometheus"
    names = documented_metrics()
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert len(exprs) >= 12
    for e in exprs:
        for m in re.findall(r"hostmail_[a-z_]+", e):
            assert re.sub(r"_(bucket|sum|count)$", "", m) in names, m
        hmm.prom.query(e.replace("$__rate_interval", "1m").replace("$instance", ".*"))
