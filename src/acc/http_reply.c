/*
 * http_reply: the head of an HTTP/1.1 response (see http_format_head() in
 * http_parse.h): status line, the caller's fields, then the framing this
 * file alone writes (Content-Length, Connection: close). Pure: the caller
 * owns the buffer and sends it.
 */
#include "acc/http_parse.h"
#include "acc/http_syntax.h"
#include <string.h>
#include <strings.h>

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 100, "Continue" }, { 200, "OK" }, { 204, "No Content" },
	{ 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
	{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
	{ 501, "Not Implemented" }, { 503, "Service Unavailable" },
	{ 505, "HTTP Version Not Supported" },
};

const char *http_status_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

/* Bytes appended to a bounded output; ok drops to 0 at the first overflow. */
struct out {
	char *p;
	size_t cap, len;
	int ok;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->ok || n >= o->cap - o->len) {   /* keep room for the NUL */
		o->ok = 0;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char d[20];
	size_t i = sizeof d;

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put(o, d + i, sizeof d - i);
}

static int valid_reply_field(const struct http_field *f)
{
	static const char *const framing[] = { "Content-Length", "Transfer-Encoding", "Connection" };
	size_t n, i;

	if (!f->name || !f->value || (n = strlen(f->name)) == 0 || http_span_token(f->name, n) != n)
		return 0;
	for (i = 0; i < sizeof framing / sizeof framing[0]; i++)
		if (strcasecmp(f->name, framing[i]) == 0)
			return 0;
	for (i = 0; f->value[i]; i++)
		if (!http_is_field_char(f->value[i]))
			return 0;
	return 1;
}

size_t http_format_head(char *out, size_t cap, int status, const struct http_field *fields,
                        size_t nfields, uint64_t body_len, int keep_alive)
{
	struct out o = { out, cap, 0, cap > 0 };
	size_t i;

	if (status < 100 || status > 599)
		return 0;
	put_str(&o, "HTTP/1.1 ");
	put_u64(&o, (uint64_t)status);
	put_str(&o, " ");
	put_str(&o, http_status_reason(status));
	put_str(&o, "\r\n");
	for (i = 0; i < nfields; i++) {
		if (!valid_reply_field(&fields[i]))
			return 0;
		put_str(&o, fields[i].name);
		put_str(&o, ": ");
		put_str(&o, fields[i].value);
		put_str(&o, "\r\n");
	}
	if (status >= 200 && status != 204) {
		put_str(&o, "Content-Length: ");
		put_u64(&o, body_len);
		put_str(&o, "\r\n");
	}
	if (status >= 200 && !keep_alive)
		put_str(&o, "Connection: close\r\n");
	put_str(&o, "\r\n");
	if (!o.ok)
		return 0;
	out[o.len] = '\0';
	return o.len;
}
