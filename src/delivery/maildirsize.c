/*
 * maildirsize: parse and format the Maildir++ quota file (maildirsize.h).
 * Pure: bytes in, numbers out; every number is bounded so that a damaged
 * or hostile file cannot overflow the sums (it is recalculated instead).
 */
#include "delivery/maildirsize.h"
#include <stdio.h>
#include <string.h>

/* Sums past this are nonsense (a damaged file): recalculate. */
#define MDS_SANE ((int64_t)1 << 60)

/* A decimal number, optionally negative, at *p (not past end): 0 with *v, or -1. */
static int number(const char **p, const char *end, int allow_neg, int64_t *v)
{
	const char *s = *p;
	int neg = 0, digits = 0;
	int64_t n = 0;

	if (s < end && *s == '-' && allow_neg) {
		neg = 1;
		s++;
	}
	while (s < end && *s >= '0' && *s <= '9') {
		if (n > (MDS_SANE - 9) / 10)
			return -1;
		n = n * 10 + (*s - '0');
		s++;
		digits++;
	}
	if (!digits)
		return -1;
	*v = neg ? -n : n;
	*p = s;
	return 0;
}

/* The quota line: "" or items "NS" / "NC" separated by commas. */
static int parse_quota(const char *s, const char *end, struct maildirsize *out)
{
	int64_t v;

	while (s < end) {
		if (number(&s, end, 0, &v) < 0 || s == end)
			return -1;
		if (*s == 'S')
			out->quota_bytes = v;
		else if (*s == 'C')
			out->quota_messages = v;
		else
			return -1;
		s++;
		if (s < end && *s++ != ',')
			return -1;
	}
	return 0;
}

/* One usage line: spaces, BYTES, spaces, COUNT, spaces. */
static int parse_usage(const char *s, const char *end, struct maildirsize *out)
{
	int64_t b, c;

	while (s < end && *s == ' ')
		s++;
	if (number(&s, end, 1, &b) < 0 || s == end || *s != ' ')
		return -1;
	while (s < end && *s == ' ')
		s++;
	if (number(&s, end, 1, &c) < 0)
		return -1;
	while (s < end && *s == ' ')
		s++;
	if (s != end)
		return -1;
	out->bytes += b;
	out->messages += c;
	if (out->bytes > MDS_SANE || out->bytes < -MDS_SANE || out->messages > MDS_SANE ||
	    out->messages < -MDS_SANE)
		return -1;
	out->lines++;
	return 0;
}

int maildirsize_parse(const char *data, size_t len, struct maildirsize *out)
{
	const char *p = data, *end = data + len, *nl;
	int first = 1;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return -1;
	if (data[len - 1] != '\n')   /* a line being written, or a cut file */
		return -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return -1;
		if (first ? parse_quota(p, nl, out) : parse_usage(p, nl, out))
			return -1;
		first = 0;
		p = nl + 1;
	}
	return 0;
}

int maildirsize_quota_line(int64_t bytes, int64_t messages, char *out, size_t outlen)
{
	int n;

	if (bytes < 0 || messages < 0 || outlen == 0)
		return -1;
	if (bytes && messages)
		n = snprintf(out, outlen, "%lldS,%lldC", (long long)bytes, (long long)messages);
	else if (bytes)
		n = snprintf(out, outlen, "%lldS", (long long)bytes);
	else if (messages)
		n = snprintf(out, outlen, "%lldC", (long long)messages);
	else
		n = snprintf(out, outlen, "%s", "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int maildirsize_usage_line(int64_t bytes, int64_t messages, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%lld %lld\n", (long long)bytes, (long long)messages);

	return n < 0 || (size_t)n >= outlen ? -1 : n;
}
