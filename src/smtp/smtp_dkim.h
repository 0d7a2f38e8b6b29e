/*
 * smtp_dkim: the DKIM step of the submission commit path. smtp_txn.c's
 * commit job runs, on a worker, in this order: the last message bytes
 * written; [header fields added at submission, e.g. Message-ID/Date];
 * smtp_dkim_sign_spool (this); spool_commit (fsync, rename: the commit
 * point); then 250. Anything that changes the message must come before
 * this step, or the signatures break.
 */
#ifndef HM_SMTP_DKIM_H
#define HM_SMTP_DKIM_H
#include <stddef.h>

struct store;
struct spool;

#define SMTP_DKIM_SIGNED     1
#define SMTP_DKIM_NOKEY      0    /* the domain has no active keys: queued unsigned */
#define SMTP_DKIM_ESTORE   (-1)   /* the keys could not be read: tempfail the message */
#define SMTP_DKIM_EFAIL    (-2)   /* signing or rewriting failed: queued unsigned, logged */

/* Sign the spooled message as domain with its active keys and put the
 * DKIM-Signature fields before it. Blocks. One of the values above;
 * selectors gets "hm1-rsa,hm1-ed25519" when signed, err a reason when not. */
int smtp_dkim_sign_spool(struct store *st, struct spool *sp, const char *domain, char *selectors,
                         size_t sellen, char *err, size_t errlen);

#endif
