/*
 * msg_inspect: what a queued message needs from the server it goes to,
 * and what we do when the server lacks it. Pure: addresses and the header
 * section in, facts and a plan out (the SMTP client reads the file).
 *
 *  - SMTPUTF8 (RFC 6531): a non-ASCII address or header needs it. Offered:
 *    MAIL FROM carries SMTPUTF8. Not offered: a recipient whose own address
 *    is non-ASCII fails with 5.6.7; if the sender or the header section is
 *    non-ASCII, every recipient fails (5.6.7 / 5.6.9). Never UTF-8 to a
 *    server that did not ask for it.
 *  - 8BITMIME (RFC 6152): an 8-bit body to a server without it is
 *    converted to quoted-printable (qp_convert.h) when that is safe: one
 *    body part (no multipart or message type) and no signature over it
 *    (DKIM-Signature, multipart/signed). Otherwise the recipients fail
 *    with 5.6.3, saying why.
 */
#ifndef HM_MSG_INSPECT_H
#define HM_MSG_INSPECT_H
#include <stddef.h>

/* Header section read for the decision (the rest: "too long to inspect"). */
#define MSGI_HDR_MAX 65536

enum msgi_type { MSGI_TYPE_NONE = 0, MSGI_TYPE_SINGLE, MSGI_TYPE_MULTIPART, MSGI_TYPE_SIGNED,
                 MSGI_TYPE_MESSAGE };

struct msgi_header {
	int eight_bit;           /* a byte >= 0x80 in the header section */
	enum msgi_type type;     /* from the top-level Content-Type */
	int has_ctype, has_mime_version;
	int dkim_signed;         /* a DKIM-Signature field */
};

/* Does s (NUL-terminated) have a byte >= 0x80? */
int msgi_8bit_str(const char *s);
/* The same for n bytes. */
int msgi_8bit(const char *p, size_t n);

/* Facts about a header section (hlen bytes, CRLF lines, may include the
 * empty line; anything after it is ignored). */
void msgi_header(const char *hdr, size_t hlen, struct msgi_header *h);

/* The value of field `name` in hdr (the first one), unfolded, leading
 * blanks removed, into out (cut to outlen - 1). 1 if found, else 0. */
int msgi_field(const char *hdr, size_t hlen, const char *name, char *out, size_t outlen);

/* Can an 8-bit body with this header be converted to quoted-printable?
 * NULL if so; else why not (for the failure reason). */
const char *msgi_why_not_convertible(const struct msgi_header *h);

#endif
