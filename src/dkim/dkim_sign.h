/*
 * dkim_sign: DKIM signatures (RFC 6376) of one message, on OpenSSL:
 * relaxed/relaxed (dkim_canon.c), the header fields RFC 6376 section
 * 5.4.1 recommends and those present are signed (From oversigned, so no
 * second From can be added unnoticed), one signature per key given: an
 * rsa-sha256 one (RSA-2048) and an ed25519-sha256 one (RFC 8463), sharing
 * one body hash. The caller feeds the whole message (header and body,
 * CRLF lines) in pieces and gets the DKIM-Signature fields to prepend.
 * CPU work, no I/O, no clock (the caller gives t=): hostmaild runs it on
 * a worker (smtp_dkim.c, the commit job). docs/dkim.md says why this is
 * not libopendkim.
 */
#ifndef HM_DKIM_SIGN_H
#define HM_DKIM_SIGN_H
#include <stddef.h>
#include <stdint.h>
#include "store/store_dkim.h"
#include "util/buf.h"

#define DKIM_SIGN_MAX_KEYS 2
#define DKIM_SIGN_HEADER_MAX (1024 * 1024)   /* a longer header section is not signed */

struct dkim_signer;

/* A signer for domain with keys[0..n) (private keys in PEM, parsed here:
 * the caller may wipe its copies at once), signing time t. NULL with err. */
struct dkim_signer *dkim_signer_new(const char *domain, const struct dkim_key *keys, size_t n, int64_t t,
                                    char *err, size_t errlen);
/* Message bytes, in order. 0 or -1 (the header section is too long). */
int dkim_signer_feed(struct dkim_signer *s, const void *p, size_t n);
/* Append the DKIM-Signature fields (each ending in CRLF, lines folded
 * with CRLF TAB) to out. 0, or -1 with err. */
int dkim_signer_finish(struct dkim_signer *s, struct buf *out, char *err, size_t errlen);
/* Frees s and its keys. NULL is ignored. */
void dkim_signer_free(struct dkim_signer *s);

#endif
