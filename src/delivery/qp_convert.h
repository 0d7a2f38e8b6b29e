/*
 * qp_convert: an 8-bit message made 7-bit for a server without 8BITMIME
 * (RFC 6152 3): the body as quoted-printable (RFC 2045 6.7), the header
 * told so. Pure and incremental: the SMTP client streams the body through
 * qp_encode chunk by chunk; msg_inspect.h decides when it is safe.
 */
#ifndef HM_QP_CONVERT_H
#define HM_QP_CONVERT_H
#include <stddef.h>
#include "util/buf.h"

/* Encoded lines are at most this long, the soft break's "=" included. */
#define QP_LINE_MAX 76

struct qp_enc {
	size_t col;       /* characters on the current encoded line */
	int pend_ws;      /* a space or tab not yet written (-1: none): literal
	                     unless the line ends right after it */
	int pend_cr;      /* a CR whose LF may be in the next chunk */
};

void qp_init(struct qp_enc *q);
/* Encode in[0..n) (CRLF line ends) onto out. 0 or -1 (buf bound). */
int qp_encode(struct qp_enc *q, const char *in, size_t n, struct buf *out);
/* At the end of the body: what is pending. 0 or -1. */
int qp_finish(struct qp_enc *q, struct buf *out);

/* The header section hdr (hlen bytes, CRLF lines, without the empty line)
 * rewritten for a quoted-printable body: every Content-Transfer-Encoding
 * field dropped, then "Content-Transfer-Encoding: quoted-printable" and,
 * when missing, "MIME-Version: 1.0" and a Content-Type (text/plain with
 * charset utf8 ? utf-8 : unknown-8bit, RFC 1428) added; then the empty
 * line. 0 or -1. */
int qp_header(const char *hdr, size_t hlen, int has_mime_version, int has_ctype, int utf8,
              struct buf *out);

/* Incremental UTF-8 check (RFC 3629), for that charset choice. */
struct utf8_check {
	int need;         /* continuation bytes still expected */
	int bad;
};
void utf8_check_feed(struct utf8_check *u, const char *p, size_t n);

#endif
