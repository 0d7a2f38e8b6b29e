/*
 * pop3_quota: POP3's part of the mailbox quota (docs/quotas.md): at the
 * end of the UPDATE state the messages DELE removed are subtracted from
 * the Maildir's maildirsize, so the space is free at once for the next
 * delivery (and Dovecot sees the same). Blocking: on the UPDATE worker.
 */
#ifndef HM_POP3_QUOTA_H
#define HM_POP3_QUOTA_H

struct pop3_mailbox;
struct quota_usage;

/* What the messages marked deleted weigh (their S=, else their size). */
void quota_pop3_deleted(const struct pop3_mailbox *mb, struct quota_usage *freed);
/* After pop3_mailbox_commit returned failed: subtract freed, or (some
 * could not be removed) have maildirsize recalculated. */
void quota_pop3_update(const char *maildir, const struct quota_usage *freed, int failed);

#endif
