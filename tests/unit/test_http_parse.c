/*
 * test_http_parse: the ACC's HTTP/1.1 request parser and response head
 * formatter (src/acc/http_parse.h). Every input is fed whole and byte by
 * byte, and short ones cut in two at every place: all must give the same
 * events. One test per refusal, with its exact status; then requests that
 * must pass: GET, HEAD, POST with Content-Length, chunked, pipelined,
 * HTTP/1.0, keep-alive and close.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acc/http_parse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) lit, sizeof(lit) - 1
#define ACC_BODY_MAX 65536
#define MSG_MAX 8
#define BODY_KEEP 4096
#define SPLIT_ALL_MAX 600   /* inputs up to this long are also cut in two everywhere */

/* What one request looked like to the caller. */
struct msg {
	char method[8];
	char target[HTTP_TARGET_MAX + 1];
	char host[HTTP_HOST_MAX + 1];
	char fields[1024];        /* "name=value;" for each field */
	int minor, keep_alive, chunked, has_length, expect_continue, nfields, done;
	uint64_t content_length;
	char body[BODY_KEEP];
	size_t body_len;
};

/* Everything a whole input gave. */
struct result {
	struct msg msgs[MSG_MAX];
	int nmsgs;
	int status;
	char reason[64];
	size_t consumed;
};

static struct result whole, piecewise;

static void copy_head(struct msg *m, const struct http_request *rq)
{
	size_t off = 0;
	int i;

	snprintf(m->method, sizeof m->method, "%s", rq->method_name);
	snprintf(m->target, sizeof m->target, "%s", rq->target);
	snprintf(m->host, sizeof m->host, "%s", rq->host);
	for (i = 0; i < rq->nfields && off < sizeof m->fields; i++)
		off += (size_t)snprintf(m->fields + off, sizeof m->fields - off, "%s=%s;",
		                        rq->fields[i].name, rq->fields[i].value);
	m->minor = rq->minor;
	m->keep_alive = rq->keep_alive;
	m->chunked = rq->chunked;
	m->has_length = rq->has_length;
	m->content_length = rq->content_length;
	m->expect_continue = rq->expect_continue;
	m->nfields = rq->nfields;
}

static void on_event(struct result *r, const struct http_event *ev)
{
	struct msg *m = r->nmsgs > 0 ? &r->msgs[r->nmsgs - 1] : NULL;
	size_t k;

	switch (ev->type) {
	case HTTP_EV_HEADERS:
		assert_true(r->nmsgs < MSG_MAX);
		copy_head(&r->msgs[r->nmsgs++], ev->req);
		break;
	case HTTP_EV_BODY:
		assert_non_null(m);
		assert_true(ev->len > 0);
		k = ev->len < BODY_KEEP - m->body_len ? ev->len : BODY_KEEP - m->body_len;
		memcpy(m->body + m->body_len, ev->data, k);
		m->body_len += k;
		break;
	case HTTP_EV_DONE:
		assert_non_null(m);
		m->done = 1;
		break;
	case HTTP_EV_ERROR:
		r->status = ev->status;
		snprintf(r->reason, sizeof r->reason, "%s", ev->reason);
		break;
	case HTTP_EV_NEED_MORE:
		break;
	}
}

/* Feed one piece, taking every event until the parser wants more. */
static void feed_piece(struct http_parser *p, const char *in, size_t n, struct result *r)
{
	struct http_event ev;
	size_t used;

	for (;;) {
		used = http_parse(p, in, n, &ev);
		assert_true(used <= n);
		in += used;
		n -= used;
		r->consumed += used;
		on_event(r, &ev);
		if (ev.type == HTTP_EV_ERROR)
			return;
		if (ev.type == HTTP_EV_NEED_MORE) {
			assert_int_equal(n, 0);
			return;
		}
	}
}

/* Feed in[0..len) in pieces: the first cut bytes, then piece bytes at a time. */
static void feed(const char *in, size_t len, size_t cut, size_t piece, size_t max_head,
                 uint64_t max_body, struct result *r)
{
	struct http_parser *p = malloc(sizeof *p);
	size_t off = 0, n;

	assert_non_null(p);
	memset(r, 0, sizeof *r);
	http_parser_init(p, max_head, max_body);
	if (cut > 0 && cut < len) {
		feed_piece(p, in, cut, r);
		off = cut;
	}
	while (off < len && r->status == 0) {
		n = len - off < piece ? len - off : piece;
		feed_piece(p, in + off, n, r);
		off += n;
	}
	if (len == 0)
		feed_piece(p, in, 0, r);
	free(p);
}

static void assert_same(const struct result *a, const struct result *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->nmsgs, b->nmsgs);
	assert_int_equal(a->consumed, b->consumed);
	assert_memory_equal(a, b, sizeof *a);
}

/* Parse whole, byte by byte and (short inputs) cut in two everywhere. */
static const struct result *parse_lim(const char *in, size_t len, size_t max_head, uint64_t max_body)
{
	size_t cut;

	feed(in, len, 0, len ? len : 1, max_head, max_body, &whole);
	feed(in, len, 0, 1, max_head, max_body, &piecewise);
	assert_same(&whole, &piecewise);
	for (cut = 1; len <= SPLIT_ALL_MAX && cut < len; cut++) {
		feed(in, len, cut, len, max_head, max_body, &piecewise);
		assert_same(&whole, &piecewise);
	}
	return &whole;
}

static const struct result *parse(const char *in, size_t len)
{
	return parse_lim(in, len, 8192, ACC_BODY_MAX);
}

/* One request that must be refused with status. */
static void refused(const char *in, size_t len, int status)
{
	const struct result *r = parse(in, len);

	if (r->status != status)
		fail_msg("%.*s: status %d (%s), wanted %d", (int)len, in, r->status, r->reason, status);
}

/* "POST / HTTP/1.1\r\nHost: a\r\n" + field + "\r\n\r\n" + rest */
static void refused_field(const char *field, const char *rest, int status)
{
	char in[4096];
	int n = snprintf(in, sizeof in, "POST / HTTP/1.1\r\nHost: a\r\n%s\r\n\r\n%s", field, rest);

	assert_true(n > 0 && (size_t)n < sizeof in);
	refused(in, (size_t)n, status);
}

/* A chunked POST with the given body bytes after the head */
static void chunked_body(const char *body, size_t len, int status)
{
	char in[4096];
	int n = snprintf(in, sizeof in, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");

	assert_true(len < sizeof in - (size_t)n);
	memcpy(in + n, body, len);
	refused(in, (size_t)n + len, status);
}

/* ---- requests that pass ---- */

static void test_simple_get(void **state)
{
	const struct result *r = parse(S("GET /mail?x=1 HTTP/1.1\r\nHost: acc.example.net\r\n"
	                                 "User-Agent: t\r\n\r\n"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_int_equal(r->nmsgs, 1);
	assert_string_equal(r->msgs[0].method, "GET");
	assert_string_equal(r->msgs[0].target, "/mail?x=1");
	assert_string_equal(r->msgs[0].host, "acc.example.net");
	assert_int_equal(r->msgs[0].minor, 1);
	assert_int_equal(r->msgs[0].keep_alive, 1);
	assert_int_equal(r->msgs[0].has_length, 0);
	assert_int_equal(r->msgs[0].body_len, 0);
	assert_int_equal(r->msgs[0].done, 1);
	assert_string_equal(r->msgs[0].fields, "Host=acc.example.net;User-Agent=t;");
}

/* A caller with nothing buffered may pass NULL and 0 (a torn body waits). */
static void test_null_input_with_no_bytes(void **state)
{
	static struct http_parser p;
	static const char in[] = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\ntorn";
	struct http_event ev;
	size_t used;

	(void)state;
	http_parser_init(&p, 0, 1024);
	used = http_parse(&p, in, sizeof in - 1, &ev);
	assert_int_equal(ev.type, HTTP_EV_HEADERS);
	used += http_parse(&p, in + used, sizeof in - 1 - used, &ev);
	assert_int_equal(ev.type, HTTP_EV_BODY);
	assert_int_equal(used, sizeof in - 1);
	assert_int_equal(http_parse(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, HTTP_EV_NEED_MORE);
}

static void test_head_request(void **state)
{
	const struct result *r = parse(S("HEAD /overview HTTP/1.1\r\nHost: a\r\n\r\n"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_string_equal(r->msgs[0].method, "HEAD");
	assert_int_equal(r->msgs[0].done, 1);
}

static void test_post_content_length(void **state)
{
	static const char in[] = "POST /login HTTP/1.1\r\nHost: a:8443\r\n"
	                         "Content-Type: application/x-www-form-urlencoded\r\n"
	                         "Content-Length: 11\r\n\r\naccount=ab\n";
	const struct result *r = parse(in, sizeof in - 1);

	(void)state;
	assert_int_equal(r->status, 0);
	assert_string_equal(r->msgs[0].method, "POST");
	assert_int_equal(r->msgs[0].has_length, 1);
	assert_int_equal(r->msgs[0].content_length, 11);
	assert_int_equal(r->msgs[0].body_len, 11);
	assert_memory_equal(r->msgs[0].body, "account=ab\n", 11);
	assert_int_equal(r->msgs[0].done, 1);
	assert_int_equal(r->consumed, sizeof in - 1);
}

static void test_post_body_incomplete(void **state)
{
	const struct result *r = parse(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_int_equal(r->msgs[0].body_len, 3);
	assert_int_equal(r->msgs[0].done, 0);
}

static void test_chunked_post_every_split(void **state)
{
	/* parse() cuts inputs this short in two at every byte as well */
	const struct result *r = parse(S("POST /mail/add HTTP/1.1\r\nHost: a\r\n"
	                                 "Transfer-Encoding: Chunked\r\n\r\n"
	                                 "5\r\nhello\r\n"
	                                 "1A;name=value;q=\"a \\\"b\\\"\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	                                 "0001\r\n!\r\n"
	                                 "0\r\nX-Trailer: yes\r\n\r\n"
	                                 "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_int_equal(r->nmsgs, 2);
	assert_int_equal(r->msgs[0].chunked, 1);
	assert_int_equal(r->msgs[0].body_len, 32);
	assert_memory_equal(r->msgs[0].body, "helloabcdefghijklmnopqrstuvwxyz!", 32);
	assert_int_equal(r->msgs[0].done, 1);
	/* the trailer is not a header field */
	assert_null(strstr(r->msgs[0].fields, "X-Trailer"));
	assert_string_equal(r->msgs[1].method, "GET");
	assert_int_equal(r->msgs[1].done, 1);
}

static void test_chunked_empty_body(void **state)
{
	const struct result *r = parse(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	                                 "0\r\n\r\n"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_int_equal(r->msgs[0].body_len, 0);
	assert_int_equal(r->msgs[0].done, 1);
}

static void test_pipelined(void **state)
{
	static const char in[] =
		"GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
		"\r\n"   /* an empty line before the next request line is allowed */
		"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
		"GET /d HTT";
	const struct result *r = parse(in, sizeof in - 1);

	(void)state;
	assert_int_equal(r->status, 0);
	assert_int_equal(r->nmsgs, 3);
	assert_string_equal(r->msgs[0].target, "/a");
	assert_string_equal(r->msgs[1].target, "/b");
	assert_memory_equal(r->msgs[1].body, "xyz", 3);
	assert_string_equal(r->msgs[2].target, "/c");
	assert_int_equal(r->msgs[2].keep_alive, 0);
	assert_int_equal(r->msgs[2].done, 1);
	assert_int_equal(r->consumed, sizeof in - 1); /* the torn fourth is buffered */
}

static void test_pipelined_stops_after_each_message(void **state)
{
	static const char in[] = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_parser p;
	struct http_event ev;
	size_t used;

	(void)state;
	http_parser_init(&p, 0, ACC_BODY_MAX);
	used = http_parse(&p, in, sizeof in - 1, &ev);
	assert_int_equal(ev.type, HTTP_EV_HEADERS);
	assert_int_equal(used, 28);
	assert_string_equal(ev.req->target, "/a");
	assert_int_equal(http_parse(&p, in + used, sizeof in - 1 - used, &ev), 0);
	assert_int_equal(ev.type, HTTP_EV_DONE);
	assert_string_equal(ev.req->target, "/a");   /* still valid until the next call */
	assert_int_equal(http_parse(&p, in + used, sizeof in - 1 - used, &ev), 28);
	assert_int_equal(ev.type, HTTP_EV_HEADERS);
	assert_string_equal(ev.req->target, "/b");
	assert_int_equal(parse(in, sizeof in - 1)->nmsgs, 2);   /* and whole, byte by byte */
}

static void test_http10(void **state)
{
	const struct result *r = parse(S("GET / HTTP/1.0\r\n\r\n"
	                                 "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: a\r\n\r\n"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_int_equal(r->nmsgs, 2);
	assert_int_equal(r->msgs[0].minor, 0);
	assert_string_equal(r->msgs[0].host, "");
	assert_int_equal(r->msgs[0].keep_alive, 0);
	assert_int_equal(r->msgs[1].keep_alive, 1);
	assert_string_equal(r->msgs[1].host, "a");
}

static void test_keep_alive_and_close(void **state)
{
	const struct result *r;

	(void)state;
	r = parse(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n\r\n"));
	assert_int_equal(r->msgs[0].keep_alive, 1);
	r = parse(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: , TE, CLOSE\r\n\r\n"));
	assert_int_equal(r->msgs[0].keep_alive, 0);
	r = parse(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n"));
	assert_int_equal(r->msgs[0].keep_alive, 0);
	r = parse(S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
	assert_int_equal(r->msgs[0].keep_alive, 0);
	r = parse(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"));
	assert_int_equal(r->msgs[0].keep_alive, 1);
}

static void test_connection_not_a_list(void **state)
{
	(void)state;
	refused_field("Connection: keep alive", "", 400);
	refused_field("Connection: close;x", "", 400);
}

static void test_field_values_trimmed(void **state)
{
	const struct result *r = parse(S("GET / HTTP/1.1\r\nHost:a\r\nX-A: \t v w \t\r\nX-B:\r\n"
	                                 "X-C: caf\xc3\xa9\r\n\r\n"));

	(void)state;
	assert_int_equal(r->status, 0);
	assert_string_equal(r->msgs[0].fields, "Host=a;X-A=v w;X-B=;X-C=caf\xc3\xa9;");
}

static void test_field_lookup(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\ncookie: hm_session=1\r\n\r\n";
	struct http_parser p;
	struct http_event ev;

	(void)state;
	http_parser_init(&p, 0, ACC_BODY_MAX);
	http_parse(&p, in, sizeof in - 1, &ev);
	assert_int_equal(ev.type, HTTP_EV_HEADERS);
	assert_string_equal(http_request_field(ev.req, "Cookie"), "hm_session=1");
	assert_null(http_request_field(ev.req, "Referer"));
	assert_int_equal(parse(in, sizeof in - 1)->status, 0);
}

static void test_expect_continue(void **state)
{
	const struct result *r;

	(void)state;
	r = parse(S("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx"));
	assert_int_equal(r->msgs[0].expect_continue, 1);
	r = parse(S("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"));
	assert_int_equal(r->msgs[0].expect_continue, 0);
}

static void test_host_forms(void **state)
{
	static const char *const ok[] = { "acc.example.net:8443", "[::1]:8443", "127.0.0.1",
	                                  "[2001:db8::1]", "A-1.Example" };
	char in[512];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		n = snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", ok[i]);
		assert_int_equal(parse(in, (size_t)n)->status, 0);
		assert_string_equal(whole.msgs[0].host, ok[i]);
	}
}

static void test_leading_empty_lines(void **state)
{
	(void)state;
	assert_int_equal(parse(S("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))->status, 0);
	assert_int_equal(whole.msgs[0].done, 1);
	refused(S("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

static void test_limits_reached_not_passed(void **state)
{
	char *in = malloc(16384), target[HTTP_TARGET_MAX + 1];
	int n = 0, i;

	(void)state;
	assert_non_null(in);
	/* a target of HTTP_TARGET_MAX bytes */
	memset(target, 'a', sizeof target);
	target[0] = '/';
	target[HTTP_TARGET_MAX] = '\0';
	n = snprintf(in, 16384, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", target);
	assert_int_equal(parse(in, (size_t)n)->status, 0);
	/* HTTP_FIELDS_MAX fields */
	n = snprintf(in, 16384, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < HTTP_FIELDS_MAX; i++)
		n += snprintf(in + n, 16384 - (size_t)n, "X-%d: v\r\n", i);
	n += snprintf(in + n, 16384 - (size_t)n, "\r\n");
	assert_int_equal(parse(in, (size_t)n)->status, 0);
	assert_int_equal(whole.msgs[0].nfields, HTTP_FIELDS_MAX);
	/* a body of exactly max_body */
	n = snprintf(in, 16384, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n");
	memset(in + n, 'b', 100);
	assert_int_equal(parse_lim(in, (size_t)n + 100, 0, 100)->status, 0);
	assert_int_equal(whole.msgs[0].done, 1);
	free(in);
}

/* ---- Content-Length ---- */

static void test_cl_duplicate_equal(void **state)
{
	(void)state;
	refused_field("Content-Length: 3\r\nContent-Length: 3", "abc", 400);
}

static void test_cl_duplicate_different(void **state)
{
	(void)state;
	refused_field("Content-Length: 3\r\nContent-Length: 4", "abcd", 400);
	refused_field("Content-Length: 3, 3", "abc", 400);
}

static void test_cl_sign(void **state)
{
	(void)state;
	refused_field("Content-Length: +3", "abc", 400);
	refused_field("Content-Length: -1", "", 400);
}

static void test_cl_inner_junk(void **state)
{
	(void)state;
	refused_field("Content-Length: 3 3", "abc", 400);
	refused_field("Content-Length: 3a", "abc", 400);
	refused_field("Content-Length: 1.0", "a", 400);
	refused_field("Content-Length:", "", 400);
	assert_int_equal(parse(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t3 \r\n\r\nabc"))->status, 0);
}

static void test_cl_hex(void **state)
{
	(void)state;
	refused_field("Content-Length: 0x3", "abc", 400);
	refused_field("Content-Length: a", "", 400);
}

static void test_cl_overflow(void **state)
{
	(void)state;
	refused_field("Content-Length: 18446744073709551616", "", 400);
	refused_field("Content-Length: 99999999999999999999999", "", 400);
	/* fits, but over the body limit */
	refused_field("Content-Length: 18446744073709551615", "", 413);
}

/* ---- Transfer-Encoding ---- */

static void test_te_with_cl(void **state)
{
	(void)state;
	refused_field("Transfer-Encoding: chunked\r\nContent-Length: 3", "0\r\n\r\n", 400);
	refused_field("Content-Length: 3\r\nTransfer-Encoding: chunked", "0\r\n\r\n", 400);
	refused_field("Content-Length: 3\r\nTransfer-Encoding: gzip", "abc", 400);
}

static void test_te_not_chunked(void **state)
{
	static const char *const te[] = { "gzip", "identity", "gzip, chunked", "chunked, chunked",
	                                  "chunked;q=1", "chunked ,", "x-chunked", "chunk" };
	char f[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof te / sizeof te[0]; i++) {
		snprintf(f, sizeof f, "Transfer-Encoding: %s", te[i]);
		refused_field(f, "0\r\n\r\n", 501);
	}
}

static void test_te_http10(void **state)
{
	(void)state;
	refused(S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
}

static void test_te_duplicate_or_empty(void **state)
{
	(void)state;
	refused_field("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "0\r\n\r\n", 400);
	refused_field("Transfer-Encoding:", "", 400);
}

/* ---- field lines ---- */

static void test_space_before_colon(void **state)
{
	(void)state;
	refused_field("Transfer-Encoding : chunked", "0\r\n\r\n", 400);
	refused_field("Content-Length\t: 3", "abc", 400);
	refused(S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
}

static void test_field_name_not_token(void **state)
{
	(void)state;
	refused_field("Foo@Bar: x", "", 400);
	refused_field("\"x\": y", "", 400);
	refused_field(": x", "", 400);
	refused_field("No-Colon", "", 400);
	refused_field("Caf\xc3\xa9: x", "", 400);
	refused_field("Content-Length\x0b: 3", "abc", 400);
}

static void test_obs_fold(void **state)
{
	(void)state;
	refused_field("X-A: a\r\n b", "", 400);
	refused_field("X-A: a\r\n\tb", "", 400);
	refused_field("Transfer-Encoding: gzip,\r\n chunked", "", 400);
	/* white space between the request line and the first field (RFC 9112 2.2) */
	refused(S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400);
}

static void test_bare_cr(void **state)
{
	(void)state;
	refused(S("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
	refused_field("X-A: a\rb", "", 400);
	refused_field("X-A: a\r", "", 400);
}

static void test_nul(void **state)
{
	(void)state;
	refused(S("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost: a\r\nX-\0: b\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"), 400);
}

static void test_bare_lf(void **state)
{
	(void)state;
	refused(S("GET / HTTP/1.1\nHost: a\n\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);
}

static void test_control_in_value(void **state)
{
	(void)state;
	refused_field("X-A: a\x01" "b", "", 400);
	refused_field("X-A: a\x7f", "", 400);
	refused_field("Transfer-Encoding: \x0b" "chunked", "", 400);
}

static void test_too_many_fields(void **state)
{
	char in[4096];
	int n, i;

	(void)state;
	n = snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < HTTP_FIELDS_MAX; i++)
		n += snprintf(in + n, sizeof in - (size_t)n, "X-%d: v\r\n", i);
	n += snprintf(in + n, sizeof in - (size_t)n, "\r\n");
	refused(in, (size_t)n, 431);
}

static void test_header_section_too_large(void **state)
{
	char *in = malloc(20000);
	int n;

	(void)state;
	assert_non_null(in);
	n = snprintf(in, 20000, "GET / HTTP/1.1\r\nHost: a\r\nX-Long: ");
	memset(in + n, 'a', 9000);
	n += 9000;
	n += snprintf(in + n, 20000 - (size_t)n, "\r\n\r\n");
	refused(in, (size_t)n, 431);
	/* the caller's smaller limit */
	n = snprintf(in, 20000, "GET / HTTP/1.1\r\nHost: a\r\nX-A: 0123456789\r\n\r\n");
	assert_int_equal(parse_lim(in, (size_t)n, 28, ACC_BODY_MAX)->status, 0);
	assert_int_equal(parse_lim(in, (size_t)n, 27, ACC_BODY_MAX)->status, 431);
	free(in);
}

/* ---- chunked bodies ---- */

static void test_chunk_size_not_hex(void **state)
{
	(void)state;
	chunked_body(S("0x3\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("+3\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("-3\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S(" 3\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("3 \r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("g\r\n"), 400);
}

static void test_chunk_size_overflow(void **state)
{
	(void)state;
	chunked_body(S("10000000000000000\r\n"), 400);   /* 17 digits */
	chunked_body(S("00000000000000001\r\nx\r\n0\r\n\r\n"), 400);
	chunked_body(S("ffffffffffffffff\r\n"), 413);    /* 16 digits: fits, too large */
}

static void test_chunk_extensions(void **state)
{
	char ext[HTTP_CHUNK_LINE_MAX + 16];

	(void)state;
	assert_int_equal(parse(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "3 ; a ; b = c;d=\"\\\\ e\"\r\nabc\r\n0;last\r\n\r\n"))->status, 0);
	assert_memory_equal(whole.msgs[0].body, "abc", 3);
	chunked_body(S("3;\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("3;=x\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("3;a=\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("3;a=\"open\r\nabc\r\n0\r\n\r\n"), 400);
	chunked_body(S("3;a=b c\r\nabc\r\n0\r\n\r\n"), 400);
	/* bounded */
	memset(ext, 'e', sizeof ext);
	memcpy(ext, "3;", 2);
	memcpy(ext + sizeof ext - 2, "\r\n", 2);
	chunked_body(ext, sizeof ext, 400);
}

static void test_chunk_without_crlf(void **state)
{
	(void)state;
	chunked_body(S("3\r\nabcX\r\n0\r\n\r\n"), 400);
	chunked_body(S("3\r\nabc\n0\r\n\r\n"), 400);
	chunked_body(S("3\r\nabc\r0\r\n\r\n"), 400);
	chunked_body(S("3\nabc\r\n0\r\n\r\n"), 400);
}

static void test_trailers(void **state)
{
	char *big = malloc(HTTP_TRAILER_MAX + 64);

	(void)state;
	assert_non_null(big);
	assert_int_equal(parse(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "1\r\nx\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n"))->status, 0);
	assert_int_equal(whole.msgs[0].done, 1);
	chunked_body(S("0\r\nX-A : 1\r\n\r\n"), 400);
	chunked_body(S("0\r\nX-A: 1\r\n b\r\n\r\n"), 400);
	chunked_body(S("0\r\nX-A: 1\n\r\n"), 400);
	chunked_body(S("0\r\n\0\r\n\r\n"), 400);
	memcpy(big, "0\r\nX-Big: ", 10);
	memset(big + 10, 'v', HTTP_TRAILER_MAX);
	memcpy(big + 10 + HTTP_TRAILER_MAX, "\r\n\r\n", 4);
	chunked_body(big, HTTP_TRAILER_MAX + 14, 431);
	free(big);
}

static void test_chunked_too_large(void **state)
{
	char in[512];
	int n = snprintf(in, sizeof in, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	                 "40\r\n%064d\r\n1\r\n", 0);

	(void)state;
	assert_int_equal(parse_lim(in, (size_t)n, 0, 64)->status, 413);
	assert_int_equal(whole.msgs[0].body_len, 64);
}

/* ---- Host ---- */

static void test_host_missing(void **state)
{
	(void)state;
	refused(S("GET / HTTP/1.1\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1\r\nHost-Name: a\r\n\r\n"), 400);
}

static void test_host_duplicate(void **state)
{
	(void)state;
	refused(S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
}

static void test_host_invalid(void **state)
{
	static const char *const bad[] = { "", "a b", "a/b", "user@a", "a:", "a:99999", "a:123456",
	                                   "a:-1", "[::1", "[]", "[::1]x", "a_b", "a,b", "%61" };
	char in[512];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		refused(in, (size_t)n, 400);
	}
}

/* ---- the request line ---- */

static void test_version_not_supported(void **state)
{
	(void)state;
	refused(S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
	refused(S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
	refused(S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 505);
	refused(S("GET / http/1.1\r\nHost: a\r\n\r\n"), 505);
	refused(S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505);
	refused(S("GET / HTTP/11.1\r\nHost: a\r\n\r\n"), 505);
}

static void test_version_garbage(void **state)
{
	(void)state;
	refused(S("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
	refused(S("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET / FOO/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET / \r\nHost: a\r\n\r\n"), 400);
}

static void test_request_line_spaces(void **state)
{
	(void)state;
	refused(S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /\r\n\r\n"), 400);
	refused(S("GET\r\n\r\n"), 400);
}

static void test_method_not_token(void **state)
{
	(void)state;
	refused(S("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GE\x80 / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

static void test_method_unknown(void **state)
{
	(void)state;
	refused(S("PATCH / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	refused(S("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	refused(S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	refused(S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 501);
	refused(S("GETGETGETGETGETGETGETGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
}

static void test_target_not_origin_form(void **state)
{
	(void)state;
	refused(S("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

static void test_target_bad_characters(void **state)
{
	(void)state;
	refused(S("GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /<x> HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /%4 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	refused(S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	assert_int_equal(parse(S("GET /a/b;c=d?e=%41&f=/?@:~!$'()*+, HTTP/1.1\r\nHost: a\r\n\r\n"))->status, 0);
}

static void test_target_too_long(void **state)
{
	char *in = malloc(20000);
	int n;

	(void)state;
	assert_non_null(in);
	/* one byte over, complete line */
	memcpy(in, "GET /", 5);
	memset(in + 5, 'a', HTTP_TARGET_MAX);
	n = 5 + HTTP_TARGET_MAX;
	n += snprintf(in + n, 20000 - (size_t)n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	refused(in, (size_t)n, 414);
	/* far over: refused before its end arrives */
	memset(in + 5, 'a', 15000);
	refused(in, 5 + 15000, 414);
	free(in);
}

static void test_request_line_too_long(void **state)
{
	char *in = malloc(HTTP_REQLINE_MAX + 64);

	(void)state;
	assert_non_null(in);
	memcpy(in, "GET / HTTP/1.1", 14);
	memset(in + 14, '1', HTTP_REQLINE_MAX);
	refused(in, HTTP_REQLINE_MAX + 14, 400);
	free(in);
}

/* ---- limits on the body and behaviour after an error ---- */

static void test_body_too_large(void **state)
{
	(void)state;
	refused_field("Content-Length: 65537", "", 413);
	assert_int_equal(parse(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"))->status, 0);
	assert_int_equal(parse_lim(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), 0, 4)->status, 413);
}

static void test_error_is_final(void **state)
{
	static const char in[] = "GET / HTTP/9.9\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_parser p;
	struct http_event ev;
	size_t used;

	(void)state;
	http_parser_init(&p, 0, ACC_BODY_MAX);
	used = http_parse(&p, in, sizeof in - 1, &ev);
	assert_int_equal(ev.type, HTTP_EV_ERROR);
	assert_int_equal(ev.status, 505);
	assert_non_null(ev.reason);
	assert_true(used <= 16);
	assert_int_equal(http_parse(&p, in + used, sizeof in - 1 - used, &ev), 0);
	assert_int_equal(ev.type, HTTP_EV_ERROR);
	assert_int_equal(ev.status, 505);
	refused(in, sizeof in - 1, 505);
	assert_int_equal(whole.nmsgs, 0);
}

static void test_body_points_into_input(void **state)
{
	static const char in[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody";
	struct http_parser p;
	struct http_event ev;
	size_t used;

	(void)state;
	http_parser_init(&p, 0, ACC_BODY_MAX);
	used = http_parse(&p, in, sizeof in - 1, &ev);
	assert_int_equal(ev.type, HTTP_EV_HEADERS);
	assert_int_equal(http_parse(&p, in + used, sizeof in - 1 - used, &ev), 4);
	assert_int_equal(ev.type, HTTP_EV_BODY);
	assert_ptr_equal(ev.data, in + used);
	assert_int_equal(ev.len, 4);
	assert_int_equal(http_parse(&p, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, HTTP_EV_DONE);
	assert_memory_equal(parse(in, sizeof in - 1)->msgs[0].body, "body", 4);
}

/* ---- response heads ---- */

static void test_format_head(void **state)
{
	static const struct http_field f[] = {
		{ "Content-Security-Policy", "default-src 'none'" },
		{ "X-Frame-Options", "DENY" },
		{ "Content-Type", "text/html; charset=utf-8" },
	};
	char out[512];
	size_t n;

	(void)state;
	n = http_format_head(out, sizeof out, 200, f, 3, 1234, 1);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Security-Policy: default-src 'none'\r\n"
	                         "X-Frame-Options: DENY\r\nContent-Type: text/html; charset=utf-8\r\n"
	                         "Content-Length: 1234\r\n\r\n");
	assert_int_equal(n, strlen(out));
	n = http_format_head(out, sizeof out, 400, f, 2, 0, 0);
	assert_string_equal(out, "HTTP/1.1 400 Bad Request\r\nContent-Security-Policy: default-src 'none'\r\n"
	                         "X-Frame-Options: DENY\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	assert_int_equal(n, strlen(out));
	n = http_format_head(out, sizeof out, 100, NULL, 0, 0, 0);
	assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n");
	http_format_head(out, sizeof out, 204, NULL, 0, 99, 1);
	assert_string_equal(out, "HTTP/1.1 204 No Content\r\n\r\n");
	http_format_head(out, sizeof out, 299, NULL, 0, 0, 1);
	assert_string_equal(out, "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(http_status_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_status_reason(413), "Content Too Large");
}

static void test_format_head_refuses(void **state)
{
	static const struct http_field split[] = { { "Location", "/x\r\nSet-Cookie: a=b" } };
	static const struct http_field lf[] = { { "Location", "/x\nY: z" } };
	static const struct http_field name[] = { { "Bad Name", "x" } };
	static const struct http_field empty[] = { { "", "x" } };
	static const struct http_field cl[] = { { "content-length", "5" } };
	static const struct http_field conn[] = { { "Connection", "keep-alive" } };
	static const struct http_field te[] = { { "Transfer-Encoding", "chunked" } };
	static const struct http_field nul[] = { { NULL, "x" } };
	char out[64];

	(void)state;
	assert_int_equal(http_format_head(out, sizeof out, 302, split, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 302, lf, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 200, name, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 200, empty, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 200, cl, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 200, conn, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 200, te, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 200, nul, 1, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 99, NULL, 0, 0, 1), 0);
	assert_int_equal(http_format_head(out, sizeof out, 600, NULL, 0, 0, 1), 0);
	/* too small: exactly the length needs one more byte for the NUL */
	assert_int_equal(http_format_head(out, 39, 200, NULL, 0, 0, 1), 38);
	assert_int_equal(http_format_head(out, 38, 200, NULL, 0, 0, 1), 0);
	assert_int_equal(http_format_head(out, 0, 200, NULL, 0, 0, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_head_request),
		cmocka_unit_test(test_post_content_length),
		cmocka_unit_test(test_post_body_incomplete),
		cmocka_unit_test(test_chunked_post_every_split),
		cmocka_unit_test(test_chunked_empty_body),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_pipelined_stops_after_each_message),
		cmocka_unit_test(test_http10),
		cmocka_unit_test(test_keep_alive_and_close),
		cmocka_unit_test(test_connection_not_a_list),
		cmocka_unit_test(test_field_values_trimmed),
		cmocka_unit_test(test_field_lookup),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_host_forms),
		cmocka_unit_test(test_leading_empty_lines),
		cmocka_unit_test(test_limits_reached_not_passed),
		cmocka_unit_test(test_cl_duplicate_equal),
		cmocka_unit_test(test_cl_duplicate_different),
		cmocka_unit_test(test_cl_sign),
		cmocka_unit_test(test_cl_inner_junk),
		cmocka_unit_test(test_cl_hex),
		cmocka_unit_test(test_cl_overflow),
		cmocka_unit_test(test_te_with_cl),
		cmocka_unit_test(test_te_not_chunked),
		cmocka_unit_test(test_te_http10),
		cmocka_unit_test(test_te_duplicate_or_empty),
		cmocka_unit_test(test_space_before_colon),
		cmocka_unit_test(test_field_name_not_token),
		cmocka_unit_test(test_obs_fold),
		cmocka_unit_test(test_bare_cr),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_control_in_value),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_header_section_too_large),
		cmocka_unit_test(test_chunk_size_not_hex),
		cmocka_unit_test(test_chunk_size_overflow),
		cmocka_unit_test(test_chunk_extensions),
		cmocka_unit_test(test_chunk_without_crlf),
		cmocka_unit_test(test_trailers),
		cmocka_unit_test(test_chunked_too_large),
		cmocka_unit_test(test_host_missing),
		cmocka_unit_test(test_host_duplicate),
		cmocka_unit_test(test_host_invalid),
		cmocka_unit_test(test_version_not_supported),
		cmocka_unit_test(test_version_garbage),
		cmocka_unit_test(test_request_line_spaces),
		cmocka_unit_test(test_method_not_token),
		cmocka_unit_test(test_method_unknown),
		cmocka_unit_test(test_target_not_origin_form),
		cmocka_unit_test(test_target_bad_characters),
		cmocka_unit_test(test_target_too_long),
		cmocka_unit_test(test_request_line_too_long),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_error_is_final),
		cmocka_unit_test(test_body_points_into_input),
		cmocka_unit_test(test_format_head),
		cmocka_unit_test(test_null_input_with_no_bytes),
		cmocka_unit_test(test_format_head_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
