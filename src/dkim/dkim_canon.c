/*
 * dkim_canon: relaxed canonicalization (dkim_canon.h). What RFC 6376
 * 3.4.5 shows: "A: X\r\nB : Y\t\r\n\tZ  \r\n" becomes "a:X\r\nb:Y Z\r\n";
 * the body " C \r\nD \t E\r\n\r\n\r\n" becomes " C\r\nD E\r\n".
 */
#include "dkim/dkim_canon.h"
#include <ctype.h>
#include <string.h>

static int wsp(char c)
{
	return c == ' ' || c == '\t';
}

int dkim_canon_header(const char *f, size_t len, int crlf, struct buf *out)
{
	const char *colon = memchr(f, ':', len), *p;
	size_t nlen;
	int space = 0, started = 0;

	if (!colon)
		return -1;
	nlen = (size_t)(colon - f);
	while (nlen && wsp(f[nlen - 1]))     /* WSP before the colon */
		nlen--;
	for (size_t i = 0; i < nlen; i++) {
		char c = (char)tolower((unsigned char)f[i]);
		if (buf_append(out, &c, 1) < 0)
			return -1;
	}
	if (buf_append(out, ":", 1) < 0)
		return -1;
	for (p = colon + 1; p < f + len; p++) {
		if (*p == '\r' || *p == '\n' || wsp(*p)) {   /* unfold; WSP runs */
			space = 1;
			continue;
		}
		if (space && started && buf_append(out, " ", 1) < 0)
			return -1;
		if (buf_append(out, p, 1) < 0)
			return -1;
		space = 0;
		started = 1;       /* WSP after the colon and at the end go */
	}
	return crlf ? buf_append(out, "\r\n", 2) : 0;
}

void dkim_body_canon_init(struct dkim_body_canon *c, void (*emit)(void *, const char *, size_t), void *arg)
{
	memset(c, 0, sizeof *c);
	c->emit = emit;
	c->arg = arg;
}

static void put(struct dkim_body_canon *c, const char *p, size_t n)
{
	if (c->nout + n > sizeof c->out) {
		c->emit(c->arg, c->out, c->nout);
		c->nout = 0;
	}
	memcpy(c->out + c->nout, p, n);
	c->nout += n;
}

/* Content on the current line: what was held back before it goes first. */
static void content(struct dkim_body_canon *c, char ch)
{
	if (!c->line_content) {
		for (; c->pending_crlf; c->pending_crlf--)
			put(c, "\r\n", 2);
		c->line_content = 1;
	}
	if (c->pending_wsp)
		put(c, " ", 1);
	c->pending_wsp = 0;
	put(c, &ch, 1);
}

static void line_end(struct dkim_body_canon *c)
{
	if (c->line_content)
		put(c, "\r\n", 2);
	else
		c->pending_crlf++;
	c->line_content = c->pending_wsp = 0;
}

void dkim_body_canon_feed(struct dkim_body_canon *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (c->cr) {
			c->cr = 0;
			if (ch == '\n') {
				line_end(c);
				continue;
			}
			content(c, '\r');     /* a CR alone is content (hostmail's spool has none) */
		}
		if (ch == '\r')
			c->cr = 1;
		else if (wsp(ch))
			c->pending_wsp = 1;
		else
			content(c, ch);
	}
}

void dkim_body_canon_finish(struct dkim_body_canon *c)
{
	if (c->cr)
		content(c, '\r');
	c->cr = 0;
	if (c->line_content)
		put(c, "\r\n", 2);
	if (c->nout)
		c->emit(c->arg, c->out, c->nout);
	c->nout = 0;
	c->pending_crlf = 0;
	c->line_content = c->pending_wsp = 0;
}
