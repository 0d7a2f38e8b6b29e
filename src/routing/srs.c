/*
 * srs: SRS0/SRS1 rewriting compatible with postsrsd (see srs.h for the
 * format). The HMAC is OpenSSL's; everything else is string work on
 * bounded buffers.
 */
#include "routing/srs.h"
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SRS_HASH_LEN   4
#define SRS_DAY        86400
#define SRS_TIME_SLOTS 1024     /* two base32 characters */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *srs_strerror(enum srs_rc rc)
{
	switch (rc) {
	case SRS_OK: return "ok";
	case SRS_NOT_SRS: return "not an SRS address";
	case SRS_UNCHANGED: return "sender already in the SRS domain";
	case SRS_ESYNTAX: return "malformed SRS address";
	case SRS_EHASH: return "SRS hash does not verify";
	case SRS_EEXPIRED: return "SRS address has expired";
	case SRS_ETOOLONG: return "SRS address too long";
	case SRS_ENOSECRET: return "no SRS secret";
	}
	return "SRS error";
}

static int is_sep(char c)
{
	return c == '=' || c == '+' || c == '-';
}

int srs_is_srs(const char *a)
{
	return strlen(a) >= 5 && strncasecmp(a, "SRS", 3) == 0 && (a[3] == '0' || a[3] == '1') && is_sep(a[4]);
}

/* The 4 hash characters of HMAC-SHA1(secret, lower-case(p[0] + ... + p[n-1])). */
static int make_hash(const char *secret, const char *const *p, int n, char out[SRS_HASH_LEN + 1])
{
	char data[3 * SRS_ADDR_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		size_t k = strlen(p[i]);
		if (len + k > sizeof data)
			return -1;
		for (size_t j = 0; j < k; j++)
			data[len++] = (char)tolower((unsigned char)p[i][j]);
	}
	if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)data, len, md, &mdlen) ||
	    mdlen < 3)
		return -1;
	out[0] = b64[md[0] >> 2];
	out[1] = b64[((md[0] & 0x03) << 4) | (md[1] >> 4)];
	out[2] = b64[((md[1] & 0x0f) << 2) | (md[2] >> 6)];
	out[3] = b64[md[2] & 0x3f];
	out[4] = '\0';
	return 0;
}

/* postsrsd's comparison: case-insensitive, '+' as '-', '/' as '_'. */
static int b64_class(char c)
{
	if (c == '+' || c == '-')
		return '-';
	if (c == '/' || c == '_')
		return '_';
	if (isalnum((unsigned char)c))
		return tolower((unsigned char)c);
	return 0;
}

static int hash_equal(const char *given, const char *want)
{
	int diff = 0;

	for (int i = 0; i < SRS_HASH_LEN; i++) {
		int a = b64_class(given[i]), b = b64_class(want[i]);
		diff |= (a ^ b) | (a == 0) | (b == 0);
	}
	return diff == 0;
}

/* Does the given hash verify with any secret? */
static enum srs_rc check_hash(const struct srs *srs, const char *hash, const char *const *p, int n)
{
	char want[SRS_HASH_LEN + 1];

	if (strlen(hash) < SRS_HASH_LEN)
		return SRS_EHASH;
	for (int i = 0; i < srs->nsecrets; i++) {
		if (make_hash(srs->secrets[i], p, n, want) < 0)
			return SRS_ETOOLONG;
		if (hash_equal(hash, want))
			return SRS_OK;
	}
	return SRS_EHASH;
}

static void make_stamp(time_t now, char out[3])
{
	long days = (long)(now / SRS_DAY);

	out[1] = b32[days & 31];
	out[0] = b32[(days >> 5) & 31];
	out[2] = '\0';
}

static enum srs_rc check_stamp(const struct srs *srs, const char *stamp, time_t now)
{
	long then = 0, today;

	if (strlen(stamp) != 2)
		return SRS_EEXPIRED;
	for (int i = 0; i < 2; i++) {
		const char *c = stamp[i] ? strchr(b32, toupper((unsigned char)stamp[i])) : NULL;
		if (!c)
			return SRS_ESYNTAX;
		then = (then << 5) | (long)(c - b32);
	}
	today = (long)(now / SRS_DAY) % SRS_TIME_SLOTS;
	while (today < then)
		today += SRS_TIME_SLOTS;
	return today <= then + srs->max_age_days ? SRS_OK : SRS_EEXPIRED;
}

/* Split s at its next '=' : returns what follows (non-empty), or NULL. */
static char *cut(char *s)
{
	char *e = strchr(s, '=');

	if (!e || e[1] == '\0')
		return NULL;
	*e = '\0';
	return e + 1;
}

static enum srs_rc put(size_t outlen, int n)
{
	return n < 0 || (size_t)n >= outlen ? SRS_ETOOLONG : SRS_OK;
}

enum srs_rc srs_forward(const struct srs *srs, const char *sender, time_t now, char *out, size_t outlen)
{
	char user[SRS_ADDR_MAX], stamp[3], hash[SRS_HASH_LEN + 1];
	const char *at = strchr(sender, '@'), *host;

	if (srs->nsecrets < 1)
		return SRS_ENOSECRET;
	if (!at || at == sender || !at[1])
		return SRS_ESYNTAX;
	host = at + 1;
	if (strcasecmp(host, srs->domain) == 0)
		return put(outlen, snprintf(out, outlen, "%s", sender)) == SRS_OK ? SRS_UNCHANGED : SRS_ETOOLONG;
	if ((size_t)(at - sender) >= sizeof user)
		return SRS_ETOOLONG;
	memcpy(user, sender, (size_t)(at - sender));
	user[at - sender] = '\0';
	if (srs_is_srs(user) && user[3] == '1') {
		/* SRS1 from another forwarder: keep its first hop, sign anew */
		char *h = user + 5, *hop = cut(h), *rest = hop ? cut(hop) : NULL;
		if (!rest)
			return SRS_ESYNTAX;
		if (make_hash(srs->secrets[0], (const char *const[]){ hop, rest }, 2, hash) < 0)
			return SRS_ETOOLONG;
		return put(outlen, snprintf(out, outlen, "SRS1=%s=%s=%s@%s", hash, hop, rest, srs->domain));
	}
	if (srs_is_srs(user)) {
		/* SRS0 from another forwarder: that forwarder is the first hop */
		const char *rest = user + 4;
		if (make_hash(srs->secrets[0], (const char *const[]){ host, rest }, 2, hash) < 0)
			return SRS_ETOOLONG;
		return put(outlen, snprintf(out, outlen, "SRS1=%s=%s=%s@%s", hash, host, rest, srs->domain));
	}
	make_stamp(now, stamp);
	if (make_hash(srs->secrets[0], (const char *const[]){ stamp, host, user }, 3, hash) < 0)
		return SRS_ETOOLONG;
	return put(outlen, snprintf(out, outlen, "SRS0=%s=%s=%s=%s@%s", hash, stamp, host, user, srs->domain));
}

enum srs_rc srs_reverse(const struct srs *srs, const char *addr, time_t now, char *out, size_t outlen)
{
	char user[SRS_ADDR_MAX];
	const char *at;
	size_t n;
	enum srs_rc rc;

	if (!srs_is_srs(addr))
		return SRS_NOT_SRS;
	if (srs->nsecrets < 1)
		return SRS_ENOSECRET;
	at = strchr(addr, '@');
	n = at ? (size_t)(at - addr) : strlen(addr);
	if (n >= sizeof user)
		return SRS_ETOOLONG;
	memcpy(user, addr, n);
	user[n] = '\0';
	if (user[3] == '1') {
		char *hash = user + 5, *host = cut(hash), *rest = host ? cut(host) : NULL;
		if (!rest)
			return SRS_ESYNTAX;
		if ((rc = check_hash(srs, hash, (const char *const[]){ host, rest }, 2)) != SRS_OK)
			return rc;
		return put(outlen, snprintf(out, outlen, "SRS0%s@%s", rest, host));
	}
	char *hash = user + 5, *stamp = cut(hash), *host = stamp ? cut(stamp) : NULL,
	     *local = host ? cut(host) : NULL;
	if (!local)
		return SRS_ESYNTAX;
	if ((rc = check_stamp(srs, stamp, now)) != SRS_OK)
		return rc;
	if ((rc = check_hash(srs, hash, (const char *const[]){ stamp, host, local }, 3)) != SRS_OK)
		return rc;
	return put(outlen, snprintf(out, outlen, "%s@%s", local, host));
}

int srs_parse_secrets(struct srs *srs, const char *text, size_t len)
{
	size_t i = 0;

	srs->nsecrets = 0;
	while (i < len && srs->nsecrets < SRS_MAX_SECRETS) {
		size_t j = i;
		while (j < len && text[j] != '\n' && text[j] != '\r')
			j++;
		if (j > i && j - i < SRS_SECRET_MAX && memchr(text + i, '\0', j - i) == NULL) {
			memcpy(srs->secrets[srs->nsecrets], text + i, j - i);
			srs->secrets[srs->nsecrets++][j - i] = '\0';
		}
		i = j + 1;
	}
	return srs->nsecrets > 0 ? srs->nsecrets : -1;
}
