/*
 * http_parse: a strict, pure HTTP/1.1 request parser (RFC 9112, RFC 9110)
 * for the Account Control Center, and the formatter of response heads.
 * No I/O, no clock, no allocation: the parser is one caller-owned struct
 * with bounded buffers. Bytes go in as they arrive, split anywhere; the
 * parser answers one event per call and gives the same events however the
 * input is split. Anything ambiguous is refused with the status to answer
 * (400, 413, 414, 431, 501, 505); the caller sends it and closes.
 * http_parse.c is the request state machine, http_syntax.c the grammar
 * of its pieces, http_reply.c the response head.
 *
 * Strictness choices, where RFC 9112 leaves one:
 * - lines end in CRLF only: a bare LF, a bare CR or a NUL anywhere in the
 *   head, a chunk line or a trailer is 400;
 * - up to HTTP_LEADING_CRLF_MAX empty lines before a request line are
 *   ignored (2.2), more are 400;
 * - the request-target must be origin-form, RFC 3986 characters only
 *   (absolute-form and asterisk-form are 400); a method is case-sensitive;
 * - any second Content-Length is 400, even with the same value (6.3 allows
 *   a list of identical values; we do not); Content-Length is 1*DIGIT with
 *   only the field's own leading and trailing OWS;
 * - Transfer-Encoding must be exactly "chunked" (any case): anything else,
 *   lists and parameters included, is 501; an empty one, a second field,
 *   one beside Content-Length or in an HTTP/1.0 request is 400;
 * - a second Host is 400; Host must be a DNS name (letters, digits, '-',
 *   '.') or an IP literal in brackets, with an optional port of 1-5
 *   digits up to 65535; HTTP/1.1 without Host is 400;
 * - Expect: 100-continue is reported (HTTP/1.1 only); other expectations
 *   are ignored;
 * - chunk sizes are 1 to 16 hex digits, extensions are checked against
 *   the grammar (7.1.1) and bounded by HTTP_CHUNK_LINE_MAX, then ignored;
 * - trailer fields are checked like header fields, bounded by
 *   HTTP_TRAILER_MAX (431 past it), then ignored: never merged into the
 *   request's fields.
 */
#ifndef HM_HTTP_PARSE_H
#define HM_HTTP_PARSE_H
#include <stddef.h>
#include <stdint.h>

#define HTTP_METHOD_MAX 16        /* a longer method is 501, as any unknown one */
#define HTTP_TARGET_MAX 2048      /* request-target bytes; longer is 414 */
#define HTTP_VERSION_LEN 8        /* "HTTP/1.1" */
#define HTTP_REQLINE_MAX (HTTP_METHOD_MAX + 1 + HTTP_TARGET_MAX + 1 + HTTP_VERSION_LEN)
#define HTTP_HEAD_MAX 8192        /* largest header section (field lines and the
                                     empty line, CRLFs counted) a parser takes */
#define HTTP_FIELDS_MAX 64        /* header field lines; more is 431 */
#define HTTP_HOST_MAX 255
#define HTTP_LEADING_CRLF_MAX 4   /* empty lines ignored before a request line */
#define HTTP_CHUNK_LINE_MAX 128   /* chunk-size and extensions, CRLF not counted */
#define HTTP_TRAILER_MAX 1024     /* trailer section, CRLFs counted */

/* PUT and DELETE for the admin API; the ACC answers them 501 (acc_http.c). */
enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE };

struct http_field {
	const char *name;
	const char *value;        /* without leading and trailing white space */
};

/*
 * One request's head. The strings point into the parser and stay valid
 * until the next call to http_parse() after HTTP_EV_DONE (or
 * http_parser_init()); copy what must live longer.
 */
struct http_request {
	enum http_method method;
	const char *method_name;
	const char *target;       /* origin-form: "/path?query", not decoded */
	int minor;                /* HTTP/1.<minor>: 0 or 1 */
	const char *host;         /* the Host field, "" if none (HTTP/1.0) */
	struct http_field fields[HTTP_FIELDS_MAX]; /* all of them, in order */
	int nfields;
	int has_length;           /* Content-Length was given */
	uint64_t content_length;
	int chunked;              /* Transfer-Encoding: chunked */
	int keep_alive;           /* the connection may carry another request */
	int expect_continue;      /* Expect: 100-continue (HTTP/1.1) */
};

enum http_event_type {
	HTTP_EV_NEED_MORE,        /* all input used; call again with more */
	HTTP_EV_HEADERS,          /* the head is complete: see req */
	HTTP_EV_BODY,             /* body bytes (de-chunked): data, len */
	HTTP_EV_DONE,             /* the request is complete */
	HTTP_EV_ERROR,            /* answer status (reason for the log), then close */
};

struct http_event {
	enum http_event_type type;
	const struct http_request *req; /* HTTP_EV_HEADERS, HTTP_EV_BODY, HTTP_EV_DONE */
	const char *data;         /* HTTP_EV_BODY: inside the input given */
	size_t len;
	int status;               /* HTTP_EV_ERROR: 400, 413, 414, 431, 501 or 505 */
	const char *reason;       /* HTTP_EV_ERROR: short, static, for the log */
};

/* The parser's state. Its fields are private: use the functions below. */
struct http_parser {
	size_t max_head;
	uint64_t max_body;
	int state;
	int leading;              /* empty lines skipped before this request */
	int cr;                   /* the last byte of the current line was CR */
	size_t line_len;          /* bytes of the current line so far */
	size_t head_used;         /* head[] bytes holding finished lines */
	size_t section_bytes;     /* header or trailer section bytes so far */
	uint64_t remaining;       /* body bytes left: whole body or this chunk */
	uint64_t body_total;      /* de-chunked body bytes announced so far */
	int seen_length, seen_te, seen_host, conn_close, conn_keep_alive;
	const char *te;           /* the Transfer-Encoding value */
	int status;
	const char *reason;
	struct http_request req;
	char head[HTTP_REQLINE_MAX + 1 + HTTP_HEAD_MAX]; /* lines, NUL-terminated */
	char aux[HTTP_TRAILER_MAX + 1];                  /* a chunk or trailer line */
};

/*
 * Get p ready for a connection's first request. max_head bounds each
 * header section (0 or more than HTTP_HEAD_MAX: HTTP_HEAD_MAX); max_body
 * bounds each body, Content-Length or the sum of the chunks (413 past it).
 */
void http_parser_init(struct http_parser *p, size_t max_head, uint64_t max_body);

/*
 * Feed n bytes (n may be 0). Returns how many were used and sets *ev.
 * Unused bytes are the caller's to feed again; after HTTP_EV_DONE they
 * belong to the next (pipelined) request. Call again after every event
 * except HTTP_EV_NEED_MORE (more input) and HTTP_EV_ERROR (final: every
 * later call returns it again). A request without a body gives
 * HTTP_EV_HEADERS, then HTTP_EV_DONE on the next call.
 */
size_t http_parse(struct http_parser *p, const char *in, size_t n, struct http_event *ev);

/* The first field named name (any case) of r, or NULL. */
const char *http_request_field(const struct http_request *r, const char *name);

/* The reason phrase of a status code ("Not Found"), "" for unknown ones. */
const char *http_status_reason(int status);

/*
 * Format a response head into out (cap bytes, NUL-terminated): the status
 * line "HTTP/1.1 <status> <reason>", the caller's fields in order (its
 * security headers, Content-Type, Location, Set-Cookie...), then
 * "Content-Length: <body_len>" (not for 1xx and 204), "Connection: close"
 * unless keep_alive (not for 1xx), and the empty line. Returns the length,
 * or 0 when it does not fit, the status is not 100..599, a name is not a
 * token or names Content-Length, Transfer-Encoding or Connection (framing
 * is this function's), or a value holds a control character other than
 * HTAB (no CR, LF or NUL: no response splitting).
 */
size_t http_format_head(char *out, size_t cap, int status, const struct http_field *fields,
                        size_t nfields, uint64_t body_len, int keep_alive);

#endif
