/*
 * fuzz_http_parse: the ACC's HTTP/1.1 request parser (acc/http_parse.h).
 * Input: one byte choosing the limits (header section 64 bytes or 8 KB,
 * body 0, 16 or 64 KB bytes), one byte choosing where to cut, then a
 * connection's byte stream (pipelined requests and all).
 *
 * The stream is fed three ways: whole, byte by byte, and cut in two at
 * the chosen place. Each run writes a transcript (every request head with
 * the offset it ended at, every body with the offset its message ended
 * at, the error and its offset); the three must be equal. Checks besides:
 * a call never uses more than it was given and a body span lies inside
 * it; a head is what the parser promises (origin-form target, version 1.0
 * or 1.1, Host on 1.1, token field names, values without CR, LF or NUL,
 * a body limit kept, never Content-Length and chunked at once); a
 * Content-Length body has exactly that length; an error is 400, 413, 414,
 * 431, 501 or 505 with a reason. Every complete request, written again in
 * canonical form (fields as "name: value", chunked turned into
 * Content-Length), parses to the same request.
 */
#include "acc/http_parse.h"
#include "util/buf.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct run {
	struct http_parser p;
	struct buf log;            /* the transcript */
	struct buf body;           /* the current request's body */
	struct buf canon;          /* the current request, canonical form */
	struct buf summary;        /* the current head, as canonical form keeps it */
	size_t offset;             /* stream bytes used so far */
	int in_message;            /* a head was seen, no DONE yet */
	int ndone;                 /* requests completed */
	int chunked, has_length, failed;
	uint64_t content_length, max_body;
};

static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", *s)))
			return 0;
	return 1;
}

static void check_head(const struct run *r, const struct http_request *q)
{
	int i;

	CHECK(q->method == HTTP_GET || q->method == HTTP_HEAD || q->method == HTTP_POST ||
	      q->method == HTTP_PUT || q->method == HTTP_DELETE);
	CHECK(!strcmp(q->method_name, "GET") + !strcmp(q->method_name, "HEAD") + !strcmp(q->method_name, "POST") +
	      !strcmp(q->method_name, "PUT") + !strcmp(q->method_name, "DELETE") == 1);
	CHECK(q->target[0] == '/' && strlen(q->target) <= HTTP_TARGET_MAX);
	CHECK(!strpbrk(q->target, " \t\r\n#"));
	CHECK(q->minor == 0 || q->minor == 1);
	CHECK(strlen(q->host) <= HTTP_HOST_MAX && (q->minor == 0 || q->host[0]));
	CHECK(q->nfields >= 0 && q->nfields <= HTTP_FIELDS_MAX);
	CHECK(!(q->chunked && q->has_length) && !(q->chunked && q->minor == 0));
	CHECK(!q->has_length || q->content_length <= r->max_body);
	CHECK(q->keep_alive == 0 || q->keep_alive == 1);
	for (i = 0; i < q->nfields; i++) {
		CHECK(is_token(q->fields[i].name));
		CHECK(!strpbrk(q->fields[i].value, "\r\n"));
	}
}

/* The request again: request line, fields, framing by Content-Length. */
static void canonical_head(struct run *r, const struct http_request *q)
{
	int i;

	buf_reset(&r->canon);
	buf_printf(&r->canon, "%s %s HTTP/1.%d\r\n", q->method_name, q->target, q->minor);
	for (i = 0; i < q->nfields; i++)
		if (strcasecmp(q->fields[i].name, "Transfer-Encoding") != 0)
			buf_printf(&r->canon, "%s: %s\r\n", q->fields[i].name, q->fields[i].value);
}

static void on_headers(struct run *r, const struct http_request *q)
{
	int i;

	check_head(r, q);
	buf_printf(&r->log, "H@%zu %s %s 1.%d host=%s ka=%d ch=%d cl=%d/%llu ex=%d n=%d\n",
	           r->offset, q->method_name, q->target, q->minor, q->host, q->keep_alive, q->chunked,
	           q->has_length, (unsigned long long)q->content_length, q->expect_continue, q->nfields);
	for (i = 0; i < q->nfields; i++)
		buf_printf(&r->log, " %s=%s\n", q->fields[i].name, q->fields[i].value);
	canonical_head(r, q);
	buf_reset(&r->summary);
	buf_printf(&r->summary, "%s %s 1.%d host=%s ka=%d ex=%d n=%d", q->method_name, q->target,
	           q->minor, q->host, q->keep_alive, q->expect_continue, q->nfields);
	buf_reset(&r->body);
	r->in_message = 1;
	r->chunked = q->chunked;
	r->has_length = q->has_length;
	r->content_length = q->content_length;
}

static void on_done(struct run *r)
{
	CHECK(r->in_message);
	CHECK(r->body.len <= r->max_body);
	if (!r->chunked)
		CHECK(r->body.len == r->content_length);
	buf_printf(&r->log, "D@%zu %zu:", r->offset, r->body.len);
	buf_append(&r->log, r->body.data, r->body.len);
	buf_puts(&r->log, "\n");
	r->in_message = 0;
	r->ndone++;
}

static void on_error(struct run *r, const struct http_event *ev)
{
	CHECK(ev->status == 400 || ev->status == 413 || ev->status == 414 || ev->status == 431 ||
	      ev->status == 501 || ev->status == 505);
	CHECK(ev->reason != NULL && ev->reason[0] != '\0');
	buf_printf(&r->log, "E@%zu %d %s\n", r->offset, ev->status, ev->reason);
	r->failed = 1;
}

/* One piece of the stream: every event until the parser wants more. */
static void feed(struct run *r, const char *in, size_t n)
{
	struct http_event ev;
	size_t used;

	while (!r->failed) {
		used = http_parse(&r->p, in, n, &ev);
		CHECK(used <= n);
		if (ev.type == HTTP_EV_BODY) {
			CHECK(ev.len > 0 && ev.data >= in && ev.data + ev.len == in + used);
			buf_append(&r->body, ev.data, ev.len);
		}
		in += used;
		n -= used;
		r->offset += used;
		switch (ev.type) {
		case HTTP_EV_HEADERS: on_headers(r, ev.req); break;
		case HTTP_EV_DONE: on_done(r); break;
		case HTTP_EV_ERROR: on_error(r, &ev); break;
		case HTTP_EV_NEED_MORE: CHECK(n == 0); return;
		case HTTP_EV_BODY: break;
		}
	}
}

static void run_init(struct run *r, size_t max_head, uint64_t max_body)
{
	memset(r, 0, sizeof *r);
	http_parser_init(&r->p, max_head, max_body);
	r->max_body = max_body;
	buf_init(&r->log, 0);
	buf_init(&r->body, 0);
	buf_init(&r->canon, 0);
	buf_init(&r->summary, 0);
	CHECK(buf_puts(&r->log, "") == 0 && buf_puts(&r->body, "") == 0);
	CHECK(buf_puts(&r->canon, "") == 0 && buf_puts(&r->summary, "") == 0);
}

static int same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void run_free(struct run *r)
{
	buf_free(&r->log);
	buf_free(&r->body);
	buf_free(&r->canon);
	buf_free(&r->summary);
}

/* Feed s in pieces: [0, cut), then step bytes at a time. */
static void run_stream(struct run *r, const char *s, size_t n, size_t cut, size_t step)
{
	size_t off = 0, k;

	if (cut > 0 && cut < n) {
		feed(r, s, cut);
		off = cut;
	}
	while (off < n && !r->failed) {
		k = n - off < step ? n - off : step;
		feed(r, s + off, k);
		off += k;
	}
	if (r->in_message) {
		buf_printf(&r->log, "P %zu:", r->body.len);
		buf_append(&r->log, r->body.data, r->body.len);
	}
}

/* The first complete request, written canonically, parses to the same request. */
static void check_canonical(const char *s, size_t n, size_t max_head, uint64_t max_body)
{
	struct run a, b;
	size_t i, line_len;

	run_init(&a, max_head, max_body);
	for (i = 0; i < n && !a.failed && a.ndone == 0; i++)
		feed(&a, s + i, 1);
	if (a.ndone == 1) {
		line_len = (size_t)(strchr(a.canon.data, '\n') - a.canon.data) + 1;
		if (a.chunked)
			buf_printf(&a.canon, "Content-Length: %zu\r\n", a.body.len);
		buf_puts(&a.canon, "\r\n");
		/* "name: value" may be longer than what came: stay within the limit */
		if (a.canon.len - line_len <= HTTP_HEAD_MAX) {
			buf_append(&a.canon, a.body.data, a.body.len);
			run_init(&b, HTTP_HEAD_MAX, max_body);
			run_stream(&b, a.canon.data, a.canon.len, 0, a.canon.len);
			CHECK(!b.failed && b.ndone == 1);
			CHECK(same(&a.summary, &b.summary) && same(&a.body, &b.body));
			run_free(&b);
		}
	}
	run_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t bodies[] = { 0, 16, 65536, 65536 };
	struct run whole, bytes, split;
	const char *s = (const char *)data + 2;
	size_t n, cut, max_head;
	uint64_t max_body;

	if (size < 2 || size > 65536)
		return 0;
	n = size - 2;
	max_head = data[0] & 4 ? 64 : 8192;
	max_body = bodies[data[0] & 3];
	cut = n ? data[1] * n / 255 : 0;

	run_init(&whole, max_head, max_body);
	run_init(&bytes, max_head, max_body);
	run_init(&split, max_head, max_body);
	run_stream(&whole, s, n, 0, n ? n : 1);
	run_stream(&bytes, s, n, 0, 1);
	run_stream(&split, s, n, cut, n);
	CHECK(whole.offset == bytes.offset && whole.offset == split.offset);
	CHECK(same(&whole.log, &bytes.log) && same(&whole.log, &split.log));
	run_free(&whole);
	run_free(&bytes);
	run_free(&split);
	check_canonical(s, n, max_head, max_body);
	return 0;
}
