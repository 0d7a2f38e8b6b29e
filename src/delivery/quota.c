/*
 * quota: the pure quota decisions (quota.h): would a message fit, how
 * full is a mailbox, when to warn; and sizes as people write them.
 */
#include "delivery/quota.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int quota_limited(const struct quota_limit *q)
{
	return q->bytes > 0 || q->messages > 0;
}

int quota_would_exceed(const struct quota_limit *q, const struct quota_usage *u, uint64_t size)
{
	uint64_t need = size ? size : 1;

	if (q->bytes > 0) {
		if (u->bytes >= q->bytes || need > (uint64_t)(q->bytes - (u->bytes > 0 ? u->bytes : 0)))
			return 1;
	}
	if (q->messages > 0 && u->messages + 1 > q->messages)
		return 1;
	return 0;
}

static int pct_of(int64_t used, int64_t limit)
{
	double p;

	if (limit <= 0 || used <= 0)
		return 0;
	p = (double)used * 100.0 / (double)limit;
	return p > 1000.0 ? 1000 : (int)p;
}

int quota_percent(const struct quota_limit *q, const struct quota_usage *u)
{
	int a = pct_of(u->bytes, q->bytes), b = pct_of(u->messages, q->messages);

	return a > b ? a : b;
}

/* Is usage at pct % of a limit or more? (integer arithmetic, no rounding up) */
static int at_or_over(int64_t used, int64_t limit, int pct)
{
	return limit > 0 && used > 0 && (__int128)used * 100 >= (__int128)limit * pct;
}

static int reached(const struct quota_limit *q, const struct quota_usage *u, int pct)
{
	return at_or_over(u->bytes, q->bytes, pct) || at_or_over(u->messages, q->messages, pct);
}

int quota_warn_crossed(const struct quota_limit *q, const struct quota_usage *before,
                       const struct quota_usage *after, int pct)
{
	if (pct <= 0 || !quota_limited(q))
		return 0;
	return !reached(q, before, pct) && reached(q, after, pct);
}

void quota_human(int64_t bytes, char *out, size_t outlen)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, outlen, "%lld bytes", (long long)bytes);
	else
		snprintf(out, outlen, "%.1f %s", v, unit[i]);
}

int quota_parse_size(const char *s, int64_t *out)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	if (!s || !*s)
		return -1;
	if (!strcasecmp(s, "none") || !strcasecmp(s, "unlimited")) {
		*out = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || n > ((1ULL << 62) >> shift))
		return -1;
	*out = (int64_t)(n << shift);
	return 0;
}
