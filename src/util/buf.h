/*
 * buf: the one growable, bounded byte buffer used for every string and line.
 * A buf never grows past its max; an append that would is refused (-1) and
 * leaves the contents unchanged. data is always NUL-terminated.
 */
#ifndef HM_BUF_H
#define HM_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0 = no bound */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
/* Make room for extra more bytes (and the NUL) without changing the
 * contents, so that they can be written at data + len. -1 if over max or
 * out of memory. */
int buf_reserve(struct buf *b, size_t extra);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

#endif
