/*
 * line_run: the length of the text before the first CR or LF, for the
 * DATA decoders (data_decode.c, eol_normalize.c): only line ends need a
 * look byte by byte, the rest is copied whole. Pure.
 */
#ifndef HM_LINE_RUN_H
#define HM_LINE_RUN_H
#include <stddef.h>
#include <string.h>

static inline size_t line_run(const char *p, size_t len)
{
	const char *cr = memchr(p, '\r', len), *lf;
	size_t end = cr ? (size_t)(cr - p) : len;

	lf = memchr(p, '\n', end);
	return lf ? (size_t)(lf - p) : end;
}

#endif
