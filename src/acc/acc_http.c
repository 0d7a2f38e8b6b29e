/*
 * acc_http: HTTP/1.1 for the Account Control Center on a daemon/conn
 * connection (TLS from the first byte, counted in the ACC's connection
 * limits). Requests are read with the strict parser (http_parse.h): an
 * ambiguous request (smuggling material) is answered with its 4xx/5xx and
 * the connection closed. A request's head and body must arrive within
 * [acc] request_timeout of its first byte, however slowly they trickle; an
 * idle keep-alive connection ends after [acc] keepalive_timeout. One
 * request at a time: a pipelined one waits in the input buffer until the
 * previous is answered. Every answer, errors included, carries the ACC's
 * security headers. A client speaking plain HTTP to the port (the
 * connection layer saw no TLS handshake) gets one 301 to the same address
 * over https, then the connection closes: nothing else is served in clear.
 */
#include "acc/acc_http.h"
#include "acc/acc_int.h"
#include "acc/acc_forms.h"
#include "acc/http_conn.h"
#include "acc/http_parse.h"
#include "daemon/conn.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACC_INPUT_HIGH (64 * 1024)
#define ACC_FIELDS_MAX 16
#define ACC_HEAD_MAX 4096

struct acc_conn {
	struct conn *c;
	struct acc *acc;
	int plain;                 /* no TLS: every request is redirected to https */
	struct acc_http_req req;   /* the request being read or answered */
	struct buf body;
	struct http_conn h;        /* last: about 12 KB */
};

static void reset_request(struct acc_conn *ac)
{
	buf_free(&ac->body);
	buf_init(&ac->body, ACC_FORM_MAX);
	memset(&ac->req, 0, sizeof ac->req);
	http_conn_answered(&ac->h);
}

const char *acc_http_ip(const struct acc_conn *ac)
{
	return conn_ip(ac->c);
}

int acc_http_job(struct acc_conn *ac, struct workers *pool, void (*work)(void *),
                 void (*done)(void *st, void *arg), void *arg)
{
	return conn_job(ac->c, pool, 0, work, done, arg);
}

int acc_http_login_job(struct acc_conn *ac, struct login_queue *q, const char *user, void (*work)(void *),
                       void (*done)(void *st, void *arg), void *arg)
{
	return conn_login_job(ac->c, q, LOGIN_ACC, user, work, done, arg);
}

/* Exactly our stylesheet and script (by hash) and the provider's logo. */
static void make_csp(const struct acc_conn *ac, char *csp, size_t len)
{
	const char *logo = conn_cfg(ac->c)->acc_provider_logo;

	snprintf(csp, len, "default-src 'none'; style-src %s; script-src %s; %s%s%sform-action 'self'; "
	         "frame-ancestors 'none'; base-uri 'none'", ac->acc->style_hash, ac->acc->script_hash,
	         *logo ? "img-src " : "", logo, *logo ? "; " : "");
}

/* The security headers of every answer (docs/acc.md), then the caller's. */
static size_t with_security(const char *csp, struct http_field *all, const struct http_field *fields,
                            size_t n)
{
	static const struct http_field fixed[] = {
		{ "X-Frame-Options", "DENY" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "Referrer-Policy", "no-referrer" },
		{ "Cache-Control", "no-store" },
		{ "Strict-Transport-Security", "max-age=31536000" },
	};
	size_t k = 0;

	all[k].name = "Content-Security-Policy";
	all[k++].value = csp;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		all[k++] = fixed[i];
	for (size_t i = 0; i < n && k < ACC_FIELDS_MAX; i++)
		all[k++] = fields[i];
	return k;
}

/* Write an answer; then wait for the next request or close. */
static void answer(struct acc_conn *ac, int status, const struct http_field *fields, size_t n,
                   const char *body, size_t len, int keep_alive)
{
	struct http_field all[ACC_FIELDS_MAX];
	char head[ACC_HEAD_MAX], csp[1024];
	size_t k, hl;

	make_csp(ac, csp, sizeof csp);
	k = with_security(csp, all, fields, n);

	hl = http_format_head(head, sizeof head, status, all, k, len, keep_alive);
	if (hl == 0) {                       /* a field our code made is wrong: say so, plainly */
		log_warn("acc: ip=%s: cannot format the answer (status %d)", conn_ip(ac->c), status);
		hl = http_format_head(head, sizeof head, 500, all, with_security(csp, all, NULL, 0), 0, 0);
		len = 0;
		keep_alive = 0;
	}
	conn_write(ac->c, head, hl);
	if (len && !ac->req.head_only)
		conn_write(ac->c, body, len);
	reset_request(ac);
	if (!keep_alive)
		conn_close(ac->c);
}

void acc_http_reply(struct acc_conn *ac, int status, const struct http_field *fields, size_t n,
                    const char *body, size_t len)
{
	answer(ac, status, fields, n, body, len, ac->req.keep_alive);
}

/* A request we will not serve: its status, a short page, and close. */
static void refuse(struct acc_conn *ac, int status, const char *why)
{
	static const struct http_field ct = { "Content-Type", "text/html; charset=utf-8" };
	char page[512];
	int n;

	log_info("acc: ip=%s refused request: %d %s", conn_ip(ac->c), status, why);
	n = snprintf(page, sizeof page,
	             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%d %s</title>"
	             "</head><body><h1>%d %s</h1><p>The request could not be read.</p></body></html>\n",
	             status, http_status_reason(status), status, http_status_reason(status));
	answer(ac, status, &ct, 1, page, n > 0 ? (size_t)n : 0, 0);
}

/* The request's head is complete: keep what the ACC needs. */
static int take_head(struct acc_conn *ac, const struct http_request *hr)
{
	struct acc_http_req *q = &ac->req;
	const char *v, *qm;
	size_t plen;

	if (hr->method != HTTP_GET && hr->method != HTTP_HEAD && hr->method != HTTP_POST)
		return -2;          /* PUT, DELETE: the admin API's, not ours */
	q->method = hr->method == HTTP_POST ? ACC_POST : ACC_GET;
	q->head_only = hr->method == HTTP_HEAD;
	q->keep_alive = hr->keep_alive;
	qm = strchr(hr->target, '?');
	plen = qm ? (size_t)(qm - hr->target) : strlen(hr->target);
	if (plen >= sizeof q->path || (qm && strlen(qm + 1) >= sizeof q->query))
		return -1;
	memcpy(q->path, hr->target, plen);
	q->path[plen] = '\0';
	snprintf(q->query, sizeof q->query, "%s", qm ? qm + 1 : "");
	if ((v = http_request_field(hr, "Cookie")) && snprintf(q->cookie, sizeof q->cookie, "%s", v) >= (int)sizeof q->cookie)
		return -1;
	if ((v = http_request_field(hr, "Host")))
		snprintf(q->host, sizeof q->host, "%s", v);
	if ((v = http_request_field(hr, "Content-Type")))
		snprintf(q->content_type, sizeof q->content_type, "%s", v);
	if (hr->expect_continue)
		conn_printf(ac->c, "HTTP/1.1 100 Continue\r\n\r\n");
	return 0;
}

/* Plain HTTP on the ACC's port: the same host and target over https. */
static void redirect_to_https(struct acc_conn *ac, const struct http_request *hr)
{
	static const struct http_field ct = { "Content-Type", "text/html; charset=utf-8" };
	static const char page[] = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                           "<title>Moved</title></head><body><p>This site is served over HTTPS only."
	                           "</p></body></html>\n";
	struct http_field f[2] = { ct, { "Location", NULL } };
	const char *host = http_request_field(hr, "Host");
	char loc[HTTP_TARGET_MAX + 300];

	if (!host || !*host || strlen(host) > 255) {
		refuse(ac, 400, "plain HTTP without a Host");
		return;
	}
	snprintf(loc, sizeof loc, "https://%s%s", host, hr->target[0] == '/' ? hr->target : "/");
	f[1].value = loc;
	log_info("acc: ip=%s plain HTTP request redirected to https", conn_ip(ac->c));
	answer(ac, 301, f, 2, page, sizeof page - 1, 0);
}

static void on_head(void *owner, const struct http_request *hr)
{
	struct acc_conn *ac = owner;
	int th;

	if (ac->plain)
		redirect_to_https(ac, hr);
	else if ((th = take_head(ac, hr)) < 0)
		refuse(ac, th == -2 ? 501 : 431, th == -2 ? "method not implemented"
		                                          : "request target or cookies too long");
}

static void on_body(void *owner, const char *p, size_t n)
{
	struct acc_conn *ac = owner;

	if (buf_append(&ac->body, p, n) < 0)
		refuse(ac, 413, "form too large");
}

static void on_done(void *owner)
{
	struct acc_conn *ac = owner;

	ac->req.body = ac->body.data ? ac->body.data : "";
	ac->req.body_len = ac->body.len;
	acc_handle(ac->acc, ac, &ac->req);
}

static void on_refuse(void *owner, int status, const char *why)
{
	refuse(owner, status, why);
}

static const struct http_conn_ops acc_http_ops = { on_head, on_body, on_done, on_refuse };

static void on_input(struct conn *c, void *st)
{
	(void)c;
	http_conn_input(&((struct acc_conn *)st)->h);
}

static void on_timeout(struct conn *c, void *st)
{
	(void)c;
	http_conn_timeout(&((struct acc_conn *)st)->h);
}

static void acc_conn_free(void *st)
{
	struct acc_conn *ac = st;

	buf_free(&ac->body);
	free(ac);
}

static const struct conn_proto acc_proto = {
	.name = "acc",
	.input = on_input,
	.timeout = on_timeout,
	.free = acc_conn_free,
};

void acc_conn_start(struct conn *c)
{
	struct server *srv = conn_server(c);
	struct acc_conn *ac;

	if (!srv->acc || !(ac = calloc(1, sizeof *ac))) {
		conn_abort(c);
		return;
	}
	ac->c = c;
	ac->acc = srv->acc;
	ac->plain = !conn_tls(c);
	http_conn_init(&ac->h, c, &acc_http_ops, ac, ACC_FORM_MAX);
	reset_request(ac);
	conn_bind(c, &acc_proto, ac);
	conn_set_input_max(c, ACC_INPUT_HIGH, 0);
	conn_set_idle(c, conn_cfg(c)->acc_keepalive_timeout);
}
