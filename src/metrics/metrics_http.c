/*
 * metrics_http: see metrics_http.h. One request at a time; a kept-alive
 * connection (Prometheus reuses it) waits [acc] keepalive_timeout for the
 * next, and a request must arrive whole within [acc] request_timeout.
 */
#include "metrics/metrics_http.h"
#include "metrics/metrics.h"
#include "acc/http_conn.h"
#include "acc/http_parse.h"
#include "auth/auth_cache.h"
#include "daemon/conn.h"
#include "queue/queue.h"
#include "store/relay_auth.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_BODY_MAX (4 * 1024 * 1024)

struct mconn {
	struct conn *c;
	int status;                /* of the request whose head has come */
	int head_only, keep_alive;
	struct http_conn h;        /* last: about 12 KB */
};

/* What the worker samples for one scrape. */
struct sample {
	struct server *srv;
	long long queued, oldest_age, grants;
	int queue_ok, grants_ok;
};

static void answer(struct mconn *mc, int status, const char *body, size_t len)
{
	static const struct http_field ok[] = { { "Content-Type", "text/plain; version=0.0.4; charset=utf-8" } };
	static const struct http_field err[] = { { "Content-Type", "text/plain; charset=utf-8" },
	                                         { "Allow", "GET, HEAD" } };
	char head[512];
	size_t hl;

	hl = http_format_head(head, sizeof head, status, status == 200 ? ok : err,
	                      status == 200 ? 1 : status == 405 ? 2 : 1, len, mc->keep_alive);
	conn_write(mc->c, head, hl);
	if (!mc->head_only)
		conn_write(mc->c, body, len);
	http_conn_answered(&mc->h);
	if (!mc->keep_alive)
		conn_close(mc->c);
}

static int count_grant(const struct relay_grant *g, void *arg)
{
	(void)g;
	++*(long long *)arg;
	return 0;
}

static void sample_work(void *arg)
{
	struct sample *s = arg;
	struct queue_entry *q = NULL;
	struct envelope env;
	struct timespec t0;
	time_t now = time(NULL);
	int n = queue_scan(s->srv->queue_dir, &q);

	if (n >= 0) {
		s->queue_ok = 1;
		s->queued = n;
		/* ids sort by creation: the first is the oldest */
		if (n > 0 && envelope_load(s->srv->queue_dir, q[0].id, &env) == 0) {
			s->oldest_age = now > env.arrival ? (long long)(now - env.arrival) : 0;
			envelope_free(&env);
		}
	}
	free(q);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s->grants_ok = relay_auth_list(s->srv->store, now, count_grant, &s->grants) >= 0;
	metrics_observe(s->srv->metrics, M_STORE_SECONDS, "grants_list", NULL, metrics_since(&t0));
}

static void set_sampled(struct metrics *m, const struct sample *s)
{
	struct auth_cache_stats cs;

	if (s->queue_ok) {
		metrics_set(m, M_QUEUE_MESSAGES, NULL, NULL, s->queued);
		metrics_set(m, M_QUEUE_OLDEST, NULL, NULL, s->oldest_age);
	} else {
		metrics_inc(m, M_SCRAPE_ERRORS, "queue", NULL);
	}
	if (s->grants_ok)
		metrics_set(m, M_GRANTS, NULL, NULL, s->grants);
	else
		metrics_inc(m, M_SCRAPE_ERRORS, "grants", NULL);
	if (s->srv->auth_cache) {
		auth_cache_stats(s->srv->auth_cache, &cs);
		metrics_set(m, M_AUTH_CACHE, "hit", NULL, (int64_t)cs.hits);
		metrics_set(m, M_AUTH_CACHE, "miss", NULL, (int64_t)cs.misses);
	}
}

static void sample_done(void *st, void *arg)
{
	struct mconn *mc = st;
	struct sample *s = arg;
	struct buf out;

	if (mc) {
		buf_init(&out, METRICS_BODY_MAX);
		set_sampled(s->srv->metrics, s);
		if (metrics_render(s->srv->metrics, &out) == 0) {
			answer(mc, 200, out.data ? out.data : "", out.len);
		} else {
			log_warn("metrics: the exposition is larger than %d bytes", METRICS_BODY_MAX);
			answer(mc, 500, "too large\n", 10);
		}
		buf_free(&out);
	}
	free(s);
}

/* A whole GET /metrics: sample on a worker, then render. */
static void scrape(struct mconn *mc)
{
	struct server *srv = conn_server(mc->c);
	struct sample *s = calloc(1, sizeof *s);

	/* read before our own job joins the queue */
	metrics_set(srv->metrics, M_WORKER_QUEUE, "main", NULL, workers_pending(srv->workers));
	metrics_set(srv->metrics, M_WORKER_QUEUE, "auth", NULL, workers_pending(srv->auth_workers));
	if (!s) {
		answer(mc, 503, "out of memory\n", 14);
		return;
	}
	s->srv = srv;
	if (conn_job(mc->c, srv->workers, 0, sample_work, sample_done, s) < 0) {
		free(s);
		answer(mc, 503, "shutting down\n", 14);
	}
}

static void take_head(void *owner, const struct http_request *r)
{
	struct mconn *mc = owner;
	size_t plen = strcspn(r->target, "?");

	mc->keep_alive = r->keep_alive;
	mc->head_only = r->method == HTTP_HEAD;
	if (r->method == HTTP_POST)
		mc->status = 405;
	else if (plen == 8 && memcmp(r->target, "/metrics", 8) == 0)
		mc->status = 200;
	else
		mc->status = 404;
}

static void finish(void *owner)
{
	static const char nf[] = "not found: the metrics are at /metrics\n";
	static const char na[] = "method not allowed: GET or HEAD\n";
	struct mconn *mc = owner;

	if (mc->status == 200)
		scrape(mc);
	else if (mc->status == 405)
		answer(mc, 405, na, sizeof na - 1);
	else
		answer(mc, 404, nf, sizeof nf - 1);
}

static void no_body(void *owner, const char *p, size_t n)
{
	(void)owner;
	(void)p;
	(void)n;                       /* the parser allows none (body_max 0) */
}

static void refuse(void *owner, int status, const char *why)
{
	struct mconn *mc = owner;

	log_info("metrics[%llu] ip=%s: refused request: %d %s", conn_id(mc->c), conn_ip(mc->c), status, why);
	char body[200];
	int n = snprintf(body, sizeof body, "%s\n", why);   /* the parser's words, or ours */

	mc->keep_alive = 0;
	mc->head_only = 0;
	answer(mc, status, body, n > 0 && (size_t)n < sizeof body ? (size_t)n : 0);
}

static const struct http_conn_ops metrics_http_ops = { take_head, no_body, finish, refuse };

static void on_input(struct conn *c, void *st)
{
	(void)c;
	http_conn_input(&((struct mconn *)st)->h);
}

static void on_timeout(struct conn *c, void *st)
{
	(void)c;
	http_conn_timeout(&((struct mconn *)st)->h);
}

static void mconn_free(void *st)
{
	free(st);
}

static const struct conn_proto metrics_proto = {
	.name = "metrics",
	.input = on_input,
	.timeout = on_timeout,
	.free = mconn_free,
};

void metrics_conn_start(struct conn *c)
{
	struct mconn *mc;

	if (!conn_server(c)->metrics || !(mc = calloc(1, sizeof *mc))) {
		conn_abort(c);
		return;
	}
	mc->c = c;
	http_conn_init(&mc->h, c, &metrics_http_ops, mc, 0);
	conn_bind(c, &metrics_proto, mc);
	conn_set_input_max(c, 16 * 1024, 0);
	conn_set_idle(c, conn_cfg(c)->acc_keepalive_timeout);
}
