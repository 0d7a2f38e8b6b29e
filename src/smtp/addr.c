/*
 * addr: RFC 5321 4.1.2 Path / Mailbox parser (see addr.h).
 *
 * The grammar is followed literally: dot-string or quoted-string local part,
 * LDH domain or address literal, optional source route (parsed, then
 * dropped). Relay tricks such as "u%d@h" or "a!b@h" are valid local parts
 * and are returned as written: refusing them is the policy layer's job.
 * Lengths are checked against RFC 5321 4.5.3.1 before anything is copied.
 */
#include "smtp/addr.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LABEL_MAX 63

/* Length of the valid UTF-8 sequence at p (2..4), or 0: rejects overlongs,
 * surrogates and code points above U+10FFFF (RFC 3629 table), and the C1
 * controls U+0080..U+009F, which are control characters too. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4;
	else
		return 0;
	if (c == 0xC2 || c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return need;
}

/* ASCII only, independent of the process locale. */
static int is_ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int is_atext(unsigned char c)
{
	return is_ascii_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Non-ASCII byte at s[*i]: advance over a valid UTF-8 sequence if allowed. */
static int take_utf8(const char *s, size_t len, size_t *i, int allow, int *seen)
{
	size_t n;

	if (!allow)
		return -1;
	n = utf8_seq((const unsigned char *)s + *i, len - *i);
	if (n == 0)
		return -1;
	*i += n;
	*seen = 1;
	return 0;
}

/* quoted-string (RFC 5321 qtextSMTP / quoted-pairSMTP) starting at '"'. */
static int parse_quoted(const char *s, size_t len, size_t *pos, int allow_utf8,
                        int *utf8, const char **why)
{
	size_t i = *pos + 1;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"') {
			if (i == *pos + 1) {
				*why = "empty local part";
				return -1;
			}
			*pos = i + 1;
			return 0;
		}
		if (c == '\\') {
			unsigned char e = i + 1 < len ? (unsigned char)s[i + 1] : 0;

			if (e < 32 || e > 126) {
				*why = "invalid quoted-pair in local part";
				return -1;
			}
			i += 2;
		} else if (c >= 32 && c <= 126) {
			i++;
		} else if (c >= 0x80) {
			if (take_utf8(s, len, &i, allow_utf8, utf8) < 0) {
				*why = allow_utf8 ? "invalid UTF-8 in local part" :
				       "non-ASCII local part without SMTPUTF8";
				return -1;
			}
		} else {
			*why = "control character in local part";
			return -1;
		}
	}
	*why = "unterminated quoted string";
	return -1;
}

/* Dot-string: Atom *("." Atom). */
static int parse_dotstring(const char *s, size_t len, size_t *pos, int allow_utf8,
                           int *utf8, const char **why)
{
	size_t i = *pos, atom = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (is_atext(c)) {
			i++;
			atom++;
		} else if (c >= 0x80) {
			if (take_utf8(s, len, &i, allow_utf8, utf8) < 0) {
				*why = allow_utf8 ? "invalid UTF-8 in local part" :
				       "non-ASCII local part without SMTPUTF8";
				return -1;
			}
			atom++;
		} else if (c == '.') {
			if (atom == 0)
				break;
			atom = 0;
			i++;
		} else {
			break;
		}
	}
	if (i == *pos) {
		*why = i < len && s[i] == '@' ? "empty local part" :
		       "invalid character in local part";
		return -1;
	}
	if (atom == 0) {
		*why = "misplaced dot in local part";
		return -1;
	}
	*pos = i;
	return 0;
}

/* RFC 5321 Snum 3("." Snum), Snum = 1*3DIGIT in 0..255. */
static int valid_ipv4(const char *s, size_t len)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, nd = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9' && nd < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			nd++;
			i++;
		}
		if (nd == 0 || nd > 3 || v > 255)
			return 0;
	}
	return i == len;
}

/* "[...]" at s[*pos]: IPv4 or "IPv6:" literal; general literals refused. */
static int parse_literal(const char *s, size_t len, size_t *pos,
                         struct mail_addr *out, const char **why)
{
	const char *body = s + *pos + 1;
	const char *end = memchr(body, ']', len - *pos - 1);
	size_t n, k;
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];

	*why = "invalid address literal";
	if (end == NULL)
		return -1;
	n = (size_t)(end - body);
	if (valid_ipv4(body, n)) {
		memcpy(out->domain, s + *pos, n + 2);
		out->domain[n + 2] = '\0';
	} else if (n > 5 && strncasecmp(body, "IPv6:", 5) == 0) {
		if (n - 5 >= sizeof(tmp))
			return -1;
		memcpy(tmp, body + 5, n - 5);
		tmp[n - 5] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return -1;
		for (k = 0; tmp[k]; k++)
			tmp[k] = ascii_lower(tmp[k]);
		snprintf(out->domain, sizeof(out->domain), "[IPv6:%s]", tmp);
	} else {
		return -1;
	}
	out->ip_literal = 1;
	*pos += n + 2;
	return 0;
}

/*
 * Hostname: sub-domain *("." sub-domain), each Let-dig [Ldh-str] of 1..63
 * octets; U-labels (UTF-8) allowed with allow_utf8, for which the 63 limit
 * is left to the A-label form. dst (may be NULL) receives it lower-cased.
 */
static int parse_hostname(const char *s, size_t len, size_t *pos, char *dst,
                          int allow_utf8, int *utf8, const char **why)
{
	size_t i = *pos, label = 0, start = *pos;
	int label_utf8 = 0, last_hyphen = 0;

	for (;;) {
		unsigned char c = i < len ? (unsigned char)s[i] : 0;

		if (is_ascii_alnum(c) || (c == '-' && label > 0)) {
			last_hyphen = c == '-';
			i++;
			label++;
		} else if (c >= 0x80) {
			if (take_utf8(s, len, &i, allow_utf8, utf8) < 0) {
				*why = allow_utf8 ? "invalid UTF-8 in domain" :
				       "non-ASCII domain without SMTPUTF8";
				return -1;
			}
			label_utf8 = 1;
			last_hyphen = 0;
			label++;
		} else {
			if (label == 0 || last_hyphen) {
				*why = "invalid domain";
				return -1;
			}
			if (label > LABEL_MAX && !label_utf8) {
				*why = "domain label too long";
				return -1;
			}
			if (c != '.')
				break;
			i++;
			label = 0;
			label_utf8 = 0;
		}
		if (i - start > ADDR_DOMAIN_MAX) {
			*why = "domain too long";
			return -1;
		}
	}
	if (dst != NULL) {
		size_t k;

		for (k = 0; k < i - start; k++)
			dst[k] = ascii_lower(s[start + k]);
		dst[k] = '\0';
	}
	*pos = i;
	return 0;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ), at s[*pos]. */
static int parse_mailbox(const char *s, size_t len, size_t *pos,
                         struct mail_addr *out, int allow_utf8, const char **why)
{
	size_t i = *pos, n;
	int r;

	if (i < len && s[i] == '"') {
		out->quoted = 1;
		r = parse_quoted(s, len, &i, allow_utf8, &out->utf8, why);
	} else {
		r = parse_dotstring(s, len, &i, allow_utf8, &out->utf8, why);
	}
	if (r < 0)
		return -1;
	n = i - *pos;
	if (n > ADDR_LOCAL_MAX) {
		*why = "local part too long";
		return -1;
	}
	if (i >= len || s[i] != '@') {
		*why = "invalid character in local part or missing @";
		return -1;
	}
	memcpy(out->local, s + *pos, n);
	out->local[n] = '\0';
	i++;
	if (i < len && s[i] == '[')
		r = parse_literal(s, len, &i, out, why);
	else
		r = parse_hostname(s, len, &i, out->domain, allow_utf8, &out->utf8, why);
	if (r < 0)
		return -1;
	*pos = i;
	return 0;
}

/* A-d-l ":" — the route is checked for syntax, then forgotten. */
static int skip_route(const char *s, size_t len, size_t *pos, const char **why)
{
	size_t i = *pos;
	int dummy = 0;

	for (;;) {
		if (i >= len || s[i] != '@')
			break;
		i++;
		if (parse_hostname(s, len, &i, NULL, 0, &dummy, why) < 0)
			return -1;
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && s[i] == ':') {
			*pos = i + 1;
			return 0;
		}
		break;
	}
	*why = "invalid source route";
	return -1;
}

int addr_parse_path(const char *s, size_t len, struct mail_addr *out,
                    int allow_null, int allow_utf8, const char **why)
{
	size_t i = 1;

	memset(out, 0, sizeof(*out));
	if (len == 0 || s[0] != '<') {
		*why = "path must be enclosed in <>";
		return -1;
	}
	if (len > 1 && s[1] == '>') {
		if (!allow_null) {
			*why = "null path not allowed here";
			return -1;
		}
		out->null = 1;
		return 2;
	}
	if (len > 1 && s[1] == '@' && skip_route(s, len, &i, why) < 0)
		return -1;
	if (parse_mailbox(s, len, &i, out, allow_utf8, why) < 0)
		goto fail;
	if (i >= len || s[i] != '>') {
		*why = "invalid character in address or missing >";
		goto fail;
	}
	if (i + 1 > ADDR_PATH_MAX) {
		*why = "path too long";
		goto fail;
	}
	return (int)(i + 1);
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

int addr_parse_mailbox(const char *s, struct mail_addr *out, int allow_utf8,
                       const char **why)
{
	size_t len = strlen(s), i = 0;

	memset(out, 0, sizeof(*out));
	if (parse_mailbox(s, len, &i, out, allow_utf8, why) < 0)
		goto fail;
	if (i != len) {
		*why = "invalid character in domain";
		goto fail;
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

void addr_format(const struct mail_addr *a, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (a->null)
		out[0] = '\0';
	else if (a->domain[0] == '\0')
		snprintf(out, outlen, "%s", a->local);
	else
		snprintf(out, outlen, "%s@%s", a->local, a->domain);
}
