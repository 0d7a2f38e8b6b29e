/*
 * submit_fixup: the Date: and Message-ID: a submitted message lacks
 * (see submit_fixup.h). Field names are compared on whole lines only, so
 * a body line or a folded value that mentions "Date:" never counts.
 */
#define _GNU_SOURCE
#include "smtp/submit_fixup.h"
#include <string.h>
#include <strings.h>

long submit_header_end(const char *msg, size_t len)
{
	const char *p;

	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 0;
	p = memmem(msg, len, "\r\n\r\n", 4);
	return p ? (long)(p - msg) + 2 : -1;
}

/* Does the line at p (n bytes, no CRLF) start the field name? */
static int is_field(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n < k + 1 || strncasecmp(p, name, k) != 0)
		return 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	return k < n && p[k] == ':';
}

int submit_fixup_missing(const char *hdr, size_t hlen)
{
	int need = SUBMIT_NEED_DATE | SUBMIT_NEED_MSGID;
	size_t i = 0;

	while (i < hlen) {
		const char *eol = memchr(hdr + i, '\n', hlen - i);
		size_t n = (eol ? (size_t)(eol - (hdr + i)) : hlen - i);

		if (n > 0 && hdr[i + n - 1] == '\r')
			n--;
		if (n == 0)
			break;                      /* the empty line: the body follows */
		if (is_field(hdr + i, n, "Date"))
			need &= ~SUBMIT_NEED_DATE;
		else if (is_field(hdr + i, n, "Message-ID"))
			need &= ~SUBMIT_NEED_MSGID;
		if (!eol)
			break;
		i = (size_t)(eol - hdr) + 1;
	}
	return need;
}

int submit_fixup_lines(struct buf *out, int need, time_t now, const char *id, const char *host)
{
	struct tm tm;
	char date[64], stamp[32];
	int r = 0;

	gmtime_r(&now, &tm);
	if (need & SUBMIT_NEED_DATE) {
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
		r |= buf_printf(out, "Date: %s\r\n", date);
	}
	if (need & SUBMIT_NEED_MSGID) {
		strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
		r |= buf_printf(out, "Message-ID: <%s.%s@%s>\r\n", stamp, id, host);
	}
	return r ? -1 : 0;
}
