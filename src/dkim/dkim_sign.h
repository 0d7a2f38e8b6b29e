/*
 * dkim_sign: DKIM signatures (RFC 6376) of one message with libopendkim:
 * relaxed/relaxed, the header fields RFC 6376 section 5.4.1 recommends
 * (From oversigned, so no second From can be added unnoticed), one
 * signature per key given (an RSA-2048 and an Ed25519 one, RFC 8463).
 * The caller feeds the whole message (header and body, CRLF lines) in
 * pieces and gets the DKIM-Signature fields to prepend. CPU work and no
 * I/O: hostmaild runs it on a worker (smtp_txn.c's commit job).
 */
#ifndef HM_DKIM_SIGN_H
#define HM_DKIM_SIGN_H
#include <stddef.h>
#include "store/store_dkim.h"
#include "util/buf.h"

#define DKIM_SIGN_MAX_KEYS 2

struct dkim_signer;

/* A signer for domain with keys[0..n) (private keys in PEM); id names the
 * message in the library's own diagnostics. NULL with err. */
struct dkim_signer *dkim_signer_new(const char *id, const char *domain, const struct dkim_key *keys,
                                    size_t n, char *err, size_t errlen);
/* Message bytes, in order. 0 or -1 (err in dkim_signer_finish). */
int dkim_signer_feed(struct dkim_signer *s, const void *p, size_t n);
/* Append the DKIM-Signature fields (each ending in CRLF, lines folded
 * with CRLF TAB) to out. 0, or -1 with err. */
int dkim_signer_finish(struct dkim_signer *s, struct buf *out, char *err, size_t errlen);
/* Frees s and wipes its copies of the private keys. NULL is ignored. */
void dkim_signer_free(struct dkim_signer *s);

#endif
