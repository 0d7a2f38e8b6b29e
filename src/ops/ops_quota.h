/*
 * ops_quota: the administrator's operations on mailbox quotas and
 * autoresponders (docs/quotas.md, docs/vacation.md), shared by
 * hostmailctl and, later, the admin API and the ACC; the conventions of
 * ops.h (0 or a STORE_E* code with e filled).
 */
#ifndef HM_OPS_QUOTA_H
#define HM_OPS_QUOTA_H
#include <stdint.h>
#include "ops/ops.h"
#include "store/store_quota.h"
#include "store/store_vacation.h"

/* A mailbox's limits (-1 = the account's default, 0 = none, -2 = unchanged). */
int ops_mailbox_quota(struct store *st, const char *address, int64_t bytes, int64_t messages,
                      struct ops_err *e);
/* An account's default for its mailboxes (0 = none, -2 = unchanged). */
int ops_account_mailbox_quota(struct store *st, const char *account, int64_t bytes, int64_t messages,
                              struct ops_err *e);

struct ops_quota_info {
	struct store_quota limit;
	int64_t used_bytes, used_messages;
	int percent;                     /* of the limit in force; 0 without one */
};
/* A mailbox's limits and usage (its maildirsize, recalculated if stale;
 * without a limit, counted from the Maildir). */
int ops_quota_info(struct store *st, const char *data_dir, const char *address, struct ops_quota_info *out,
                   struct ops_err *e);

/* The key: value lines hostmailctl mailbox show and the ACC's settings
 * text add for a mailbox: its quota, usage and whether its autoresponder
 * is on. 0 or -1 (b full). */
struct buf;
int ops_quota_lines(const struct ops_quota_info *qi, int vacation_on, struct buf *b);

/* The admin API's mailbox object with its "quota" and "vacation" (docs/admin-api.md). */
struct jw;
void ops_json_mailbox_quota(struct jw *j, const struct mailbox *m, const struct ops_quota_info *qi,
                            int vacation_on);

int ops_vacation_get(struct store *st, const char *address, struct vacation *out, struct ops_err *e);
int ops_vacation_set(struct store *st, const char *address, const struct vacation *v, struct ops_err *e);

#endif
