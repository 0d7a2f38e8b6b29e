/*
 * line_limit: watches the lines of a message as it streams by, for the
 * limit of RFC 5322 2.1.1 / RFC 5321 4.5.3.1.6: 998 octets before the
 * CRLF. Pure and incremental (a line may span chunks); input has CRLF
 * line ends (eol_normalize.h ran first).
 */
#ifndef HM_LINE_LIMIT_H
#define HM_LINE_LIMIT_H
#include <stddef.h>

#define LINE_LIMIT_MAX 998

struct line_limit {
	size_t cur;         /* octets of the current line so far, CR/LF not counted */
	size_t longest;     /* the longest line seen */
};

void line_limit_init(struct line_limit *l);
void line_limit_feed(struct line_limit *l, const char *p, size_t n);
/* A line longer than LINE_LIMIT_MAX was seen (or is being seen). */
int line_limit_exceeded(const struct line_limit *l);

#endif
