/*
 * store_quota: mailbox quota limits in the store (schema version 5):
 * a mailbox's own limit (mailboxes.quota_bytes / quota_messages) or, when
 * it has none, its account's default for mailboxes
 * (accounts.mailbox_quota_bytes / mailbox_quota_messages). 0 = no limit.
 * The usage is not here: it lives in each Maildir's maildirsize file
 * (delivery/quota.h). Blocking: from hostmaild call these on a worker.
 */
#ifndef HM_STORE_QUOTA_H
#define HM_STORE_QUOTA_H
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_quota {
	int64_t bytes, messages;                   /* in force: 0 = no limit */
	int64_t mailbox_bytes, mailbox_messages;   /* the mailbox's own; -1 = the account's */
	int64_t account_bytes, account_messages;   /* the account's default; 0 = none */
};

/* 0 with out filled, STORE_ENOTFOUND (no such mailbox) or STORE_EFAIL. */
int store_quota_get(struct store *st, const char *address, struct store_quota *out);
/* A mailbox's own limits (-1 = use the account's default; 0 = no limit;
 * -2 = leave as is). 0, STORE_ENOTFOUND, STORE_EINVAL, STORE_EFAIL. */
int store_quota_set(struct store *st, const char *address, int64_t bytes, int64_t messages,
                    char *err, size_t errlen);
/* An account's default for its mailboxes: 0 with *bytes, *messages (0 =
 * none), STORE_ENOTFOUND or STORE_EFAIL. */
int store_account_mailbox_quota_get(struct store *st, const char *account, int64_t *bytes, int64_t *messages);
/* An account's default for its mailboxes (0 = none; -2 = leave as is). */
int store_account_set_mailbox_quota(struct store *st, const char *account, int64_t bytes,
                                    int64_t messages, char *err, size_t errlen);

#endif
