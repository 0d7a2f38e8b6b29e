/*
 * admin_http: the admin API's HTTP/1.1 on a daemon/conn connection (TLS
 * from the first byte; counted in the ACC's connection limits and
 * timeouts, [acc] request_timeout and keepalive_timeout). Requests are
 * read with the ACC's strict parser (acc/http_parse.h): anything
 * ambiguous is answered with its 4xx/5xx and the connection closed. One
 * request at a time: a whole request becomes a struct admin_req, worked
 * on a worker (admin_api.c; password hashing on the hashing pool), then
 * answered, logged and freed here. Logged (key=value, util/log.h): every change made, with the
 * token's name, and every failed token check in the form every service
 * uses ("admin authentication failed: ip=ADDR user=NAME|unknown").
 */
#include "admin/admin.h"
#include "admin/admin_int.h"
#include "acc/http_conn.h"
#include "daemon/conn.h"
#include "daemon/server.h"
#include "util/config.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_INPUT_HIGH (128 * 1024)

struct admin_conn {
	struct conn *c;
	int head_only, keep_alive;
	struct admin_req *req;     /* the request being read */
	struct http_conn h;        /* last: about 12 KB */
};

static void req_free(struct admin_req *r)
{
	if (!r)
		return;
	if (r->body.data)
		explicit_bzero(r->body.data, r->body.len);   /* passwords */
	buf_free(&r->body);
	buf_free(&r->out);
	if (r->cfg)
		config_unref(r->cfg);
	explicit_bzero(r, sizeof *r);
	free(r);
}

static void answer(struct admin_conn *ac, int status, const char *body, size_t len, int www_auth)
{
	struct http_field f[4] = {
		{ "Content-Type", "application/json" },
		{ "Cache-Control", "no-store" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "WWW-Authenticate", "Bearer realm=\"hostmail admin\"" },
	};
	char head[1024];
	size_t hl = http_format_head(head, sizeof head, status, f, www_auth ? 4 : 3, len, ac->keep_alive);

	conn_write(ac->c, head, hl);
	if (len && !ac->head_only)
		conn_write(ac->c, body, len);
	http_conn_answered(&ac->h);
	if (!ac->keep_alive)
		conn_close(ac->c);
}

/* A request we will not read further: its status and close. */
static void refuse(struct admin_conn *ac, int status, const char *why)
{
	char body[200];
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", why);   /* static words, no quotes */

	log_info("admin: ip=%s refused request: %d %s", conn_ip(ac->c), status, why);
	ac->keep_alive = 0;
	ac->head_only = 0;
	req_free(ac->req);
	ac->req = NULL;
	answer(ac, status, body, (size_t)n, 0);
}

static void job_work(void *arg)
{
	admin_api_run(arg);
}

static void job_done(void *st, void *arg)
{
	struct admin_conn *ac = st;
	struct admin_req *r = arg;

	char what[LOG_VALUE_MAX(sizeof r->what)], req[LOG_VALUE_MAX(sizeof r->path + 8)], line[sizeof r->path + 8];

	if (r->auth_failed) {
		log_warn_key(r->ip, "admin authentication failed: ip=%s user=%s", r->ip,
		             r->token[0] ? r->token : "unknown");    /* a name from admin_tokens, or unknown */
	} else if (r->what[0] && r->status >= 200 && r->status < 300) {
		log_info("admin: token=%s ip=%s change=%s", r->token, r->ip,
		         log_value(r->what, strlen(r->what), what, sizeof what));
	} else if (r->authenticated && r->m.route && r->m.route->change) {
		snprintf(line, sizeof line, "%s %s", admin_method_name(r->method), r->path);
		log_info("admin: token=%s ip=%s refused=%d request=%s", r->token, r->ip, r->status,
		         log_value(line, strlen(line), req, sizeof req));
	}
	if (ac)
		answer(ac, r->status ? r->status : 500, r->out.data ? r->out.data : "", r->out.len,
		       r->www_authenticate);
	req_free(r);
}

/* Setting a password hashes it: on the hashing pool, not the commits'. */
static struct workers *pool_for(struct server *srv, const struct admin_req *r)
{
	struct admin_match m;

	if (admin_route(r->method, r->path, &m) == ROUTE_OK &&
	    (m.route->op == OP_ACCOUNT_PASSWORD || m.route->op == OP_MAILBOX_PASSWORD ||
	     m.route->op == OP_MAILBOX_ADD))
		return srv->auth_workers;
	return srv->workers;
}

static void dispatch(struct admin_conn *ac)
{
	struct server *srv = conn_server(ac->c);
	struct admin_req *r = ac->req;

	ac->req = NULL;
	r->cfg = config_ref(conn_cfg(ac->c));
	r->store = srv->store;
	snprintf(r->ip, sizeof r->ip, "%s", conn_ip(ac->c));
	if (conn_job(ac->c, pool_for(srv, r), 0, job_work, job_done, r) < 0) {
		req_free(r);
		refuse(ac, 503, "busy");
	}
}

/* The head is complete: keep what the API needs. -1: too long (431). */
static int take_head(struct admin_conn *ac, const struct http_request *hr)
{
	struct admin_req *r = calloc(1, sizeof *r);
	const char *qm = strchr(hr->target, '?'), *v;
	size_t plen = qm ? (size_t)(qm - hr->target) : strlen(hr->target);

	if (!r)
		return -1;
	ac->req = r;
	buf_init(&r->body, ADMIN_BODY_MAX);
	r->method = hr->method;
	ac->head_only = hr->method == HTTP_HEAD;
	ac->keep_alive = hr->keep_alive;
	if (plen >= sizeof r->path || (qm && strlen(qm + 1) >= sizeof r->query))
		return -1;
	memcpy(r->path, hr->target, plen);
	snprintf(r->query, sizeof r->query, "%s", qm ? qm + 1 : "");
	if ((v = http_request_field(hr, "Authorization")) &&
	    snprintf(r->authorization, sizeof r->authorization, "%s", v) >= (int)sizeof r->authorization)
		r->auth_too_long = 1;
	if ((v = http_request_field(hr, "Content-Type")))
		snprintf(r->content_type, sizeof r->content_type, "%s", v);
	if (hr->expect_continue)
		conn_printf(ac->c, "HTTP/1.1 100 Continue\r\n\r\n");
	return 0;
}

static void on_head(void *owner, const struct http_request *hr)
{
	if (take_head(owner, hr) < 0)
		refuse(owner, 431, "request target or a field too long");
}

static void on_body(void *owner, const char *p, size_t n)
{
	struct admin_conn *ac = owner;

	if (ac->req && buf_append(&ac->req->body, p, n) < 0)
		refuse(ac, 413, "body too large");
}

static void on_done(void *owner)
{
	struct admin_conn *ac = owner;

	if (ac->req)
		dispatch(ac);
}

static void on_refuse(void *owner, int status, const char *why)
{
	refuse(owner, status, why);
}

static const struct http_conn_ops admin_http_ops = { on_head, on_body, on_done, on_refuse };

static void on_input(struct conn *c, void *st)
{
	(void)c;
	http_conn_input(&((struct admin_conn *)st)->h);
}

static void on_timeout(struct conn *c, void *st)
{
	(void)c;
	http_conn_timeout(&((struct admin_conn *)st)->h);
}

static void admin_conn_free(void *st)
{
	struct admin_conn *ac = st;

	req_free(ac->req);
	free(ac);
}

static const struct conn_proto admin_proto = {
	.name = "admin",
	.input = on_input,
	.timeout = on_timeout,
	.free = admin_conn_free,
};

void admin_conn_start(struct conn *c)
{
	struct admin_conn *ac = calloc(1, sizeof *ac);

	if (!ac) {
		conn_abort(c);
		return;
	}
	ac->c = c;
	http_conn_init(&ac->h, c, &admin_http_ops, ac, ADMIN_BODY_MAX);
	conn_bind(c, &admin_proto, ac);
	conn_set_input_max(c, ADMIN_INPUT_HIGH, 0);
	conn_set_idle(c, conn_cfg(c)->acc_keepalive_timeout);
}
