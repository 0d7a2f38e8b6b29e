/*
 * line_limit: the longest line of a message, counted chunk by chunk
 * (see line_limit.h). memchr per line, not a loop per byte: it runs over
 * every submitted message.
 */
#include "smtp/line_limit.h"
#include <string.h>

void line_limit_init(struct line_limit *l)
{
	l->cur = l->longest = 0;
}

static void line_end(struct line_limit *l)
{
	if (l->cur > l->longest)
		l->longest = l->cur;
	l->cur = 0;
}

void line_limit_feed(struct line_limit *l, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		l->cur += k;
		if (k > 0 && p[k - 1] == '\r')
			l->cur--;   /* the CR of CRLF (its LF may be in the next chunk) */
		if (!nl)
			break;
		line_end(l);
		p = nl + 1;
		n -= k + 1;
	}
}

int line_limit_exceeded(const struct line_limit *l)
{
	return l->longest > LINE_LIMIT_MAX || l->cur > LINE_LIMIT_MAX;
}
