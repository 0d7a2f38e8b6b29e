/*
 * http_parse: HTTP/1.1 requests in, events out (see http_parse.h for the
 * interface and the strictness choices). The head,
 * chunk lines and trailers are read one byte at a time into bounded
 * buffers, so every decision is taken at the same byte however the input
 * is split; body bytes are handed back as spans of the caller's input.
 */
#include "acc/http_parse.h"
#include "acc/http_syntax.h"
#include <string.h>
#include <strings.h>

enum state {
	S_IDLE,        /* between requests: the next call starts one */
	S_REQLINE,     /* empty lines, then the request line */
	S_FIELDS,      /* header field lines up to the empty line */
	S_BODY,        /* a Content-Length body */
	S_CHUNK_LINE,  /* chunk-size [extensions] CRLF */
	S_CHUNK_DATA,
	S_CHUNK_CR,    /* the CRLF after chunk data */
	S_CHUNK_LF,
	S_TRAILER,     /* trailer field lines up to the empty line */
	S_END,         /* complete: HTTP_EV_DONE next */
	S_ERROR,       /* final */
};

/* What taking one byte of a line gave. */
enum { LINE_BAD = -1, LINE_MORE = 0, LINE_DONE = 1, LINE_FULL = 2 };

static const struct {
	const char *name;
	enum http_method method;
} methods[] = {
	{ "GET", HTTP_GET },
	{ "HEAD", HTTP_HEAD },
	{ "POST", HTTP_POST },
	{ "PUT", HTTP_PUT },
	{ "DELETE", HTTP_DELETE },
};

/* ---- errors and lines ---- */

static int fail(struct http_parser *p, int status, const char *reason)
{
	p->state = S_ERROR;
	p->status = status;
	p->reason = reason;
	return LINE_BAD;
}

/*
 * Take byte c of a line into line[] (room for cap bytes and the NUL).
 * Lines end in CRLF; a bare CR, a bare LF or a NUL is an error. At
 * LINE_DONE the line is NUL-terminated and p->line_len long.
 */
static int line_byte(struct http_parser *p, char *line, size_t cap, char c)
{
	if (p->cr) {
		if (c != '\n')
			return fail(p, 400, "bare CR");
		p->cr = 0;
		line[p->line_len] = '\0';
		return LINE_DONE;
	}
	if (c == '\r') {
		p->cr = 1;
		return LINE_MORE;
	}
	if (c == '\n')
		return fail(p, 400, "bare LF");
	if (c == '\0')
		return fail(p, 400, "NUL byte");
	if (p->line_len == cap)
		return LINE_FULL;
	line[p->line_len++] = c;
	return LINE_MORE;
}

/* ---- the request line (RFC 9112 3) ---- */

static int find_method(struct http_request *r, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strlen(methods[i].name) == n && memcmp(methods[i].name, s, n) == 0) {
			r->method = methods[i].method;
			r->method_name = methods[i].name;
			return 0;
		}
	}
	return -1;
}

/*
 * method SP request-target SP HTTP-version, checked left to right. A line
 * that filled HTTP_REQLINE_MAX without its CRLF comes here incomplete: it
 * fails at its method (501), its target (414) or as too long (400).
 */
static int request_line(struct http_parser *p, char *line, size_t len, int complete)
{
	size_t m = http_span_token(line, len), tlen;
	char *target, *sp;
	int status;

	if (m == 0 || (m < len && line[m] != ' '))
		return fail(p, 400, "bad method");
	if (m == len && complete)
		return fail(p, 400, "bad request line");
	if (find_method(&p->req, line, m) < 0)
		return fail(p, 501, "method not implemented");
	target = line + m + 1;
	sp = memchr(target, ' ', len - m - 1);
	tlen = sp ? (size_t)(sp - target) : len - m - 1;
	if (tlen > HTTP_TARGET_MAX)
		return fail(p, 414, "request-target too long");
	if (!complete)
		return fail(p, 400, "request line too long");
	if (!sp)
		return fail(p, 400, "bad request line");
	if ((status = http_check_version(sp + 1, len - m - 2 - tlen, &p->req.minor)) != 0)
		return fail(p, status, status == 505 ? "HTTP version not supported" : "bad HTTP version");
	if (!http_valid_target(target, tlen))
		return fail(p, 400, "bad request-target");
	*sp = '\0';
	p->req.target = target;
	return 0;
}

static int step_reqline(struct http_parser *p, char c)
{
	int r = line_byte(p, p->head, HTTP_REQLINE_MAX, c);

	if (r == LINE_FULL)
		return request_line(p, p->head, p->line_len, 0);
	if (r != LINE_DONE)
		return r;
	if (p->line_len == 0) {
		if (++p->leading > HTTP_LEADING_CRLF_MAX)
			return fail(p, 400, "too many empty lines before the request");
		return LINE_MORE;
	}
	if (request_line(p, p->head, p->line_len, 1) < 0)
		return LINE_BAD;
	p->head_used = p->line_len + 1;
	p->line_len = 0;
	p->state = S_FIELDS;
	return LINE_MORE;
}

/* ---- header fields (RFC 9112 5, RFC 9110 5) ---- */

static int on_host(struct http_parser *p, const char *value)
{
	if (p->seen_host++)
		return fail(p, 400, "duplicate Host");
	if (!http_valid_host(value))
		return fail(p, 400, "bad Host");
	p->req.host = value;
	return 0;
}

static int on_length(struct http_parser *p, const char *value)
{
	if (p->seen_length++)
		return fail(p, 400, "duplicate Content-Length");
	if (http_parse_length(value, &p->req.content_length) < 0)
		return fail(p, 400, "bad Content-Length");
	p->req.has_length = 1;
	return 0;
}

static int on_te(struct http_parser *p, const char *value)
{
	if (p->seen_te++)
		return fail(p, 400, "duplicate Transfer-Encoding");
	p->te = value;
	return 0;
}

static int on_connection(struct http_parser *p, const char *value)
{
	if (http_parse_connection(value, &p->conn_close, &p->conn_keep_alive) < 0)
		return fail(p, 400, "bad Connection");
	return 0;
}

static int on_expect(struct http_parser *p, const char *value)
{
	if (strcasecmp(value, "100-continue") == 0)
		p->req.expect_continue = 1;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct http_parser *, const char *value);
} known_fields[] = {
	{ "Host", on_host },
	{ "Content-Length", on_length },
	{ "Transfer-Encoding", on_te },
	{ "Connection", on_connection },
	{ "Expect", on_expect },
};

static int header_field(struct http_parser *p, char *line, size_t len)
{
	struct http_field *f;
	const char *why;
	size_t i;

	if (p->req.nfields == HTTP_FIELDS_MAX)
		return fail(p, 431, "too many header fields");
	f = &p->req.fields[p->req.nfields];
	if ((why = http_split_field(line, len, f)) != NULL)
		return fail(p, 400, why);
	p->req.nfields++;
	for (i = 0; i < sizeof known_fields / sizeof known_fields[0]; i++)
		if (strcasecmp(f->name, known_fields[i].name) == 0)
			return known_fields[i].fn(p, f->value);
	return 0;
}

/* The empty line: decide the framing (RFC 9112 6.1, 6.3) and persistence (9.3). */
static int end_of_head(struct http_parser *p)
{
	struct http_request *r = &p->req;

	if (r->minor == 1 && !p->seen_host)
		return fail(p, 400, "missing Host");
	if (p->seen_te) {
		if (r->minor == 0)
			return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
		if (p->seen_length)
			return fail(p, 400, "Transfer-Encoding with Content-Length");
		if (p->te[0] == '\0')
			return fail(p, 400, "empty Transfer-Encoding");
		if (strcasecmp(p->te, "chunked") != 0)
			return fail(p, 501, "transfer coding not supported");
		r->chunked = 1;
	}
	if (r->content_length > p->max_body)
		return fail(p, 413, "body too large");
	r->keep_alive = !p->conn_close && (r->minor == 1 || p->conn_keep_alive);
	r->expect_continue = r->expect_continue && r->minor == 1;
	p->remaining = r->content_length;
	p->state = r->chunked ? S_CHUNK_LINE : r->content_length ? S_BODY : S_END;
	return LINE_DONE;
}

static int step_fields(struct http_parser *p, char c)
{
	char *line = p->head + p->head_used;
	size_t len;
	int r;

	if (++p->section_bytes > p->max_head)
		return fail(p, 431, "header section too large");
	r = line_byte(p, line, sizeof p->head - 1 - p->head_used, c);
	if (r == LINE_FULL)
		return fail(p, 431, "header section too large");
	if (r != LINE_DONE)
		return r;
	if ((len = p->line_len) == 0)
		return end_of_head(p);
	p->line_len = 0;
	p->head_used += len + 1;
	return header_field(p, line, len) < 0 ? LINE_BAD : LINE_MORE;
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

static int step_chunk_line(struct http_parser *p, char c)
{
	int r = line_byte(p, p->aux, HTTP_CHUNK_LINE_MAX, c);
	const char *why;
	uint64_t size;

	if (r == LINE_FULL)
		return fail(p, 400, "chunk line too long");
	if (r != LINE_DONE)
		return r;
	why = http_chunk_line(p->aux, p->line_len, &size);
	p->line_len = 0;
	if (why)
		return fail(p, 400, why);
	if (size == 0) {
		p->section_bytes = 0;
		p->state = S_TRAILER;
	} else if (size > p->max_body - p->body_total) {
		return fail(p, 413, "body too large");
	} else {
		p->body_total += size;
		p->remaining = size;
		p->state = S_CHUNK_DATA;
	}
	return LINE_MORE;
}

static int step_trailer(struct http_parser *p, char c)
{
	struct http_field f;
	const char *why;
	size_t len;
	int r;

	if (++p->section_bytes > HTTP_TRAILER_MAX)
		return fail(p, 431, "trailer section too large");
	r = line_byte(p, p->aux, HTTP_TRAILER_MAX, c);
	if (r == LINE_FULL)
		return fail(p, 431, "trailer section too large");
	if (r != LINE_DONE)
		return r;
	len = p->line_len;
	p->line_len = 0;
	if (len == 0)
		p->state = S_END;
	else if ((why = http_split_field(p->aux, len, &f)) != NULL)
		return fail(p, 400, why);
	return LINE_MORE;
}

/* ---- the event loop ---- */

/* One byte in a byte-at-a-time state; LINE_DONE when the head is complete. */
static int step(struct http_parser *p, char c)
{
	switch (p->state) {
	case S_REQLINE:
		return step_reqline(p, c);
	case S_FIELDS:
		return step_fields(p, c);
	case S_CHUNK_LINE:
		return step_chunk_line(p, c);
	case S_CHUNK_CR:
	case S_CHUNK_LF:
		if (c != (p->state == S_CHUNK_CR ? '\r' : '\n'))
			return fail(p, 400, "chunk data not followed by CRLF");
		p->state = p->state == S_CHUNK_CR ? S_CHUNK_LF : S_CHUNK_LINE;
		return LINE_MORE;
	case S_TRAILER:
		return step_trailer(p, c);
	default:
		return fail(p, 400, "parser state");
	}
}

static size_t body_bytes(struct http_parser *p, const char *in, size_t n, struct http_event *ev)
{
	size_t k = n < p->remaining ? n : (size_t)p->remaining;

	if (k == 0) {
		ev->type = HTTP_EV_NEED_MORE;
		return 0;
	}
	ev->type = HTTP_EV_BODY;
	ev->data = in;
	ev->len = k;
	p->remaining -= k;
	if (p->remaining == 0)
		p->state = p->state == S_CHUNK_DATA ? S_CHUNK_CR : S_END;
	return k;
}

static void start_request(struct http_parser *p)
{
	p->state = S_REQLINE;
	p->leading = 0;
	p->cr = 0;
	p->line_len = 0;
	p->head_used = 0;
	p->section_bytes = 0;
	p->remaining = 0;
	p->body_total = 0;
	p->seen_length = p->seen_te = p->seen_host = 0;
	p->conn_close = p->conn_keep_alive = 0;
	p->te = NULL;
	memset(&p->req, 0, sizeof p->req);
	p->req.host = "";
	p->req.target = "";
	p->req.method_name = "";
}

void http_parser_init(struct http_parser *p, size_t max_head, uint64_t max_body)
{
	memset(p, 0, sizeof *p);
	p->max_head = max_head == 0 || max_head > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : max_head;
	p->max_body = max_body;
	start_request(p);
}

size_t http_parse(struct http_parser *p, const char *in, size_t n, struct http_event *ev)
{
	size_t used = 0;

	if (n == 0)
		in = "";                 /* no arithmetic on a NULL pointer */
	memset(ev, 0, sizeof *ev);
	ev->req = &p->req;
	if (p->state == S_IDLE)
		start_request(p);
	for (;;) {
		switch (p->state) {
		case S_ERROR:
			ev->type = HTTP_EV_ERROR;
			ev->status = p->status;
			ev->reason = p->reason;
			return used;
		case S_END:
			p->state = S_IDLE;
			ev->type = HTTP_EV_DONE;
			return used;
		case S_BODY:
		case S_CHUNK_DATA:
			return used + body_bytes(p, in + used, n - used, ev);
		default:
			if (used == n) {
				ev->type = HTTP_EV_NEED_MORE;
				return used;
			}
			if (step(p, in[used++]) == LINE_DONE) {
				ev->type = HTTP_EV_HEADERS;
				return used;
			}
		}
	}
}

const char *http_request_field(const struct http_request *r, const char *name)
{
	int i;

	for (i = 0; i < r->nfields; i++)
		if (strcasecmp(r->fields[i].name, name) == 0)
			return r->fields[i].value;
	return NULL;
}
