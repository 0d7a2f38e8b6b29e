/*
 * msg_inspect: header facts for the outbound SMTPUTF8 and 8BITMIME
 * decisions (see msg_inspect.h). Only whole header lines are read; a
 * field's continuation lines belong to it.
 */
#include "delivery/msg_inspect.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

int msgi_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

int msgi_8bit_str(const char *s)
{
	return msgi_8bit(s, strlen(s));
}

/* Length of the line at p (up to LF or end), without CR LF. *next: after it. */
static size_t line_at(const char *p, size_t left, size_t *next)
{
	const char *nl = memchr(p, '\n', left);
	size_t n = nl ? (size_t)(nl - p) : left;

	*next = nl ? n + 1 : left;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Does the line start field `name` ("Name:" with optional blanks before the colon)?
 * Returns the offset after the colon, or 0. */
static size_t field_start(const char *p, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(p, name, k) != 0)
		return 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	return k < n && p[k] == ':' ? k + 1 : 0;
}

int msgi_field(const char *hdr, size_t hlen, const char *name, char *out, size_t outlen)
{
	size_t i = 0, o = 0, next, n, v;
	int in = 0;

	if (outlen == 0)
		return 0;
	while (i < hlen) {
		n = line_at(hdr + i, hlen - i, &next);
		if (n == 0)
			break;                               /* the empty line */
		if (in && (hdr[i] == ' ' || hdr[i] == '\t')) {
			v = 0;                               /* a continuation: unfolded */
		} else if (in) {
			break;
		} else if ((v = field_start(hdr + i, n, name)) != 0) {
			in = 1;
		} else {
			i += next;
			continue;
		}
		for (; v < n && o + 1 < outlen; v++) {
			if (o == 0 && (hdr[i + v] == ' ' || hdr[i + v] == '\t'))
				continue;
			out[o++] = hdr[i + v];
		}
		i += next;
	}
	out[o] = '\0';
	return in;
}

static int has_field(const char *hdr, size_t hlen, const char *name)
{
	char v[8];

	return msgi_field(hdr, hlen, name, v, sizeof v);
}

void msgi_header(const char *hdr, size_t hlen, struct msgi_header *h)
{
	char ct[256];
	size_t end = hlen;
	const char *blank = hlen >= 2 && hdr[0] == '\r' && hdr[1] == '\n' ? hdr : NULL;

	if (!blank) {
		for (size_t i = 0; i + 3 < hlen; i++)
			if (hdr[i] == '\r' && hdr[i + 1] == '\n' && hdr[i + 2] == '\r' && hdr[i + 3] == '\n') {
				end = i + 2;
				break;
			}
	} else {
		end = 0;
	}
	memset(h, 0, sizeof *h);
	h->eight_bit = msgi_8bit(hdr, end);
	h->has_mime_version = has_field(hdr, end, "MIME-Version");
	h->dkim_signed = has_field(hdr, end, "DKIM-Signature");
	h->has_ctype = msgi_field(hdr, end, "Content-Type", ct, sizeof ct);
	if (!h->has_ctype)
		h->type = MSGI_TYPE_NONE;
	else if (strncasecmp(ct, "multipart/signed", 16) == 0)
		h->type = MSGI_TYPE_SIGNED;
	else if (strncasecmp(ct, "multipart/", 10) == 0)
		h->type = MSGI_TYPE_MULTIPART;
	else if (strncasecmp(ct, "message/", 8) == 0)
		h->type = MSGI_TYPE_MESSAGE;
	else if (strncasecmp(ct, "application/pkcs7-mime", 22) == 0 ||
	         strncasecmp(ct, "application/x-pkcs7-mime", 24) == 0)
		h->type = MSGI_TYPE_SIGNED;
	else
		h->type = MSGI_TYPE_SINGLE;
}

const char *msgi_why_not_convertible(const struct msgi_header *h)
{
	if (h->type == MSGI_TYPE_SIGNED)
		return "it is signed (multipart/signed or S/MIME), and converting it would break the signature";
	if (h->dkim_signed)
		return "it is DKIM-signed, and converting it would break the signature";
	if (h->type == MSGI_TYPE_MULTIPART)
		return "it is a multipart message, whose parts this server does not convert";
	if (h->type == MSGI_TYPE_MESSAGE)
		return "it is an encapsulated message, which this server does not convert";
	return NULL;
}
