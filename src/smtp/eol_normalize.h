/*
 * eol_normalize: turns every bare CR and bare LF of a message into CRLF
 * (RFC 5321 2.3.8 allows only CRLF line ends). Stored messages then have
 * one line-end form, so neither our Maildirs nor a server we relay to can
 * ever read a "\n.\n" as the end of data (SMTP smuggling). Incremental and
 * pure: a CR at the end of one chunk waits for the next.
 */
#ifndef HM_EOL_NORMALIZE_H
#define HM_EOL_NORMALIZE_H
#include <stddef.h>

struct eol_norm {
	int pending_cr;
	unsigned long fixed;     /* bare CR/LF turned into CRLF so far */
};

void eol_norm_init(struct eol_norm *e);
/* out must hold 2 * len + 1 bytes. Returns the bytes written. */
size_t eol_norm_feed(struct eol_norm *e, const char *in, size_t len, char *out);
/* At the end of the message: a pending CR becomes CRLF. out holds 2 bytes. */
size_t eol_norm_finish(struct eol_norm *e, char *out);

#endif
