/*
 * reply: SMTP reply formatting (see reply.h). The text is formatted first,
 * then cut at '\n' into "CODE-" continuation lines and a last "CODE " line,
 * each ending in CRLF. The whole reply is built aside and appended at once,
 * so a refused append leaves out unchanged.
 */
#include "smtp/reply.h"
#include <stdarg.h>
#include <string.h>

#define REPLY_TEXT_MAX 8192 /* bound for the formatted text when out has none */

/* One line: code, separator, enh, text with control bytes made harmless. */
static int reply_line(struct buf *r, int code, char sep, const char *enh,
                      const char *text, size_t n)
{
	size_t i;

	/* RFC 5321 4.2: "CODE" alone, never "CODE " with nothing after. */
	if (sep == ' ' && enh == NULL && n == 0)
		return buf_printf(r, "%03d\r\n", code);
	if (buf_printf(r, "%03d%c", code, sep) < 0)
		return -1;
	if (enh != NULL && buf_puts(r, enh) < 0)
		return -1;
	if (enh != NULL && n > 0 && buf_append(r, " ", 1) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		char o = (c < 0x20 || c == 0x7f) ? '?' : (char)c;

		if (buf_append(r, &o, 1) < 0)
			return -1;
	}
	return buf_append(r, "\r\n", 2);
}

int smtp_reply(struct buf *out, int code, const char *enh, const char *fmt, ...)
{
	struct buf text, r;
	va_list ap;
	const char *p, *nl, *end;
	size_t bound = out->max ? out->max : REPLY_TEXT_MAX;
	int rc = -1;

	buf_init(&text, bound);
	buf_init(&r, bound);
	va_start(ap, fmt);
	if (buf_vprintf(&text, fmt, ap) < 0) {
		va_end(ap);
		goto out;
	}
	va_end(ap);
	p = text.data;
	end = p + text.len;
	/* A trailing '\n' ends the last line; it does not open an empty one. */
	if (end > p && end[-1] == '\n')
		end--;
	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (reply_line(&r, code, nl ? '-' : ' ', enh, p,
		               (size_t)((nl ? nl : end) - p)) < 0)
			goto out;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	rc = buf_append(out, r.data, r.len);
out:
	buf_free(&text);
	buf_free(&r);
	return rc;
}
