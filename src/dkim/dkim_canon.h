/*
 * dkim_canon: DKIM "relaxed" canonicalization (RFC 6376 3.4.2, 3.4.4),
 * pure: a header field into its canonical form, and a streaming body
 * canonicalizer that hands its output to a callback (the signer hashes
 * it) without holding the body.
 */
#ifndef HM_DKIM_CANON_H
#define HM_DKIM_CANON_H
#include <stddef.h>
#include "util/buf.h"

/* Append the relaxed form of one raw header field (name ":" value,
 * folded lines joined by CRLF WSP, no final CRLF) to out, with CRLF
 * when crlf. 0 or -1 (out full). */
int dkim_canon_header(const char *field, size_t len, int crlf, struct buf *out);

/* The relaxed body: WSP runs become one SP, WSP at line ends goes, empty
 * lines at the end go, a last line without CRLF gets one. */
struct dkim_body_canon {
	void (*emit)(void *arg, const char *p, size_t n);
	void *arg;
	size_t pending_crlf;      /* empty lines seen, not yet known not to be the last */
	int pending_wsp;          /* WSP seen since the last content on this line */
	int line_content;         /* this line has content */
	int cr;                   /* a CR waits for its LF */
	char out[4096];           /* batched output */
	size_t nout;
};

void dkim_body_canon_init(struct dkim_body_canon *c, void (*emit)(void *, const char *, size_t), void *arg);
/* Body bytes, in order, in pieces of any size. */
void dkim_body_canon_feed(struct dkim_body_canon *c, const char *p, size_t n);
/* The end of the body: the rest is emitted. */
void dkim_body_canon_finish(struct dkim_body_canon *c);

#endif
