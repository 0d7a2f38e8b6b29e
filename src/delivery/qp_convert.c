/*
 * qp_convert: quoted-printable encoding for 7-bit downgrades (see
 * qp_convert.h). Hard line breaks (CRLF) stay; "=" and every byte outside
 * 33..126 is =XX; a space or tab is literal unless it ends a line (then
 * =20 / =09, RFC 2045 6.7 rule 3); lines are broken softly with a final
 * "=" to stay within 76 characters.
 */
#include "delivery/qp_convert.h"
#include <string.h>
#include <strings.h>

static const char HEX[] = "0123456789ABCDEF";

void qp_init(struct qp_enc *q)
{
	q->col = 0;
	q->pend_ws = -1;
	q->pend_cr = 0;
}

/* Put s (1 or 3 characters) on the line, breaking it softly first if the
 * "=" of a break would no longer fit after it. */
static int put(struct qp_enc *q, const char *s, size_t n, struct buf *out)
{
	if (q->col + n > QP_LINE_MAX - 1) {
		if (buf_append(out, "=\r\n", 3) < 0)
			return -1;
		q->col = 0;
	}
	q->col += n;
	return buf_append(out, s, n);
}

static int put_hex(struct qp_enc *q, unsigned char c, struct buf *out)
{
	char e[3] = { '=', HEX[c >> 4], HEX[c & 15] };

	return put(q, e, 3, out);
}

static int one(struct qp_enc *q, unsigned char c, struct buf *out)
{
	if (q->pend_cr) {
		q->pend_cr = 0;
		if (c == '\n') {
			if (q->pend_ws >= 0 && put_hex(q, (unsigned char)q->pend_ws, out) < 0)
				return -1;
			q->pend_ws = -1;
			q->col = 0;
			return buf_append(out, "\r\n", 2);
		}
		if (q->pend_ws >= 0) {    /* a bare CR (not in a queue file): encoded */
			char w = (char)q->pend_ws;
			q->pend_ws = -1;
			if (put(q, &w, 1, out) < 0)
				return -1;
		}
		if (put_hex(q, '\r', out) < 0)
			return -1;
	}
	if (c == '\r') {
		q->pend_cr = 1;
		return 0;
	}
	if (q->pend_ws >= 0) {
		char w = (char)q->pend_ws;
		q->pend_ws = -1;
		if (put(q, &w, 1, out) < 0)
			return -1;
	}
	if (c == ' ' || c == '\t') {
		q->pend_ws = c;
		return 0;
	}
	if (c >= 33 && c <= 126 && c != '=') {
		char ch = (char)c;
		return put(q, &ch, 1, out);
	}
	return put_hex(q, c, out);
}

int qp_encode(struct qp_enc *q, const char *in, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++)
		if (one(q, (unsigned char)in[i], out) < 0)
			return -1;
	return 0;
}

int qp_finish(struct qp_enc *q, struct buf *out)
{
	if (q->pend_ws >= 0 && put_hex(q, (unsigned char)q->pend_ws, out) < 0)
		return -1;
	q->pend_ws = -1;
	if (q->pend_cr && put_hex(q, '\r', out) < 0)
		return -1;
	q->pend_cr = 0;
	return 0;
}

static int is_cte(const char *p, size_t n)
{
	static const char name[] = "Content-Transfer-Encoding";
	size_t k = sizeof name - 1;

	if (n <= k || strncasecmp(p, name, k) != 0)
		return 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	return k < n && p[k] == ':';
}

int qp_header(const char *hdr, size_t hlen, int has_mime_version, int has_ctype, int utf8,
              struct buf *out)
{
	size_t i = 0;
	int skip = 0, r = 0;

	while (i < hlen) {
		const char *nl = memchr(hdr + i, '\n', hlen - i);
		size_t next = nl ? (size_t)(nl - hdr) + 1 : hlen, n = next - i;
		int cont = hdr[i] == ' ' || hdr[i] == '\t';

		if (n <= 2 && (hdr[i] == '\r' || hdr[i] == '\n'))
			break;                            /* the empty line */
		if (!cont)
			skip = is_cte(hdr + i, n);
		if (!skip)
			r |= buf_append(out, hdr + i, n);
		if (!nl)
			r |= buf_append(out, "\r\n", 2);
		i = next;
	}
	if (!has_mime_version)
		r |= buf_puts(out, "MIME-Version: 1.0\r\n");
	if (!has_ctype)
		r |= buf_printf(out, "Content-Type: text/plain; charset=%s\r\n", utf8 ? "utf-8" : "unknown-8bit");
	r |= buf_puts(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	return r ? -1 : 0;
}

void utf8_check_feed(struct utf8_check *u, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !u->bad; i++) {
		unsigned char c = (unsigned char)p[i];
		if (u->need > 0) {
			if ((c & 0xC0) != 0x80)
				u->bad = 1;
			u->need--;
		} else if (c >= 0xC2 && c <= 0xDF) {
			u->need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			u->need = 2;
		} else if (c >= 0xF0 && c <= 0xF4) {
			u->need = 3;
		} else if (c >= 0x80) {
			u->bad = 1;
		}
	}
}
