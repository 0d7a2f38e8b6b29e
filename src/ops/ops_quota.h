/*
 * ops_quota: the administrator's operations on mailbox quotas and
 * autoresponders (docs/quotas.md, docs/vacation.md), shared by
 * hostmailctl, the admin API (admin/admin_quota.c) and the ACC; the
 * conventions of ops.h (0 or a STORE_E* code with e filled).
 */
#ifndef HM_OPS_QUOTA_H
#define HM_OPS_QUOTA_H
#include <stdint.h>
#include "ops/ops.h"
#include "store/store_quota.h"
#include "store/store_vacation.h"

/* A quota size as hostmailctl and the admin API take it: "0"/"none", a
 * number of bytes, "50M", "2G" (delivery/quota.h quota_parse_size) or,
 * with allow_default, "default" (-1: the account's). 0 with *out, or -1. */
int ops_quota_parse(const char *v, int allow_default, int64_t *out);
/* A mailbox's limits (-1 = the account's default, 0 = none, -2 = unchanged). */
int ops_mailbox_quota(struct store *st, const char *address, int64_t bytes, int64_t messages,
                      struct ops_err *e);
/* An account's default for its mailboxes (0 = none, -2 = unchanged). */
int ops_account_mailbox_quota(struct store *st, const char *account, int64_t bytes, int64_t messages,
                              struct ops_err *e);
int ops_account_mailbox_quota_get(struct store *st, const char *account, int64_t *bytes, int64_t *messages,
                                  struct ops_err *e);

struct ops_quota_info {
	struct store_quota limit;
	int64_t used_bytes, used_messages;
	int percent;                     /* of the limit in force; 0 without one */
	int local;                       /* the Maildir is on this node: the usage is known */
	int home_node;                   /* else the node it is on */
};
/* A mailbox's limits and usage (its maildirsize, recalculated if stale;
 * without a limit, counted from the Maildir). node: this node's number
 * ([cluster] node, 0 = not a fleet): a mailbox homed on another node has
 * its Maildir there, so its usage is not read here (local 0). */
int ops_quota_info(struct store *st, const char *data_dir, int node, const char *address,
                   struct ops_quota_info *out, struct ops_err *e);

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
/* What a change of the autoresponder names; NULL = keep what is there
 * (hostmailctl's options, the admin API's members). start/end "" or "-":
 * no such day. */
struct ops_vacation_change {
	int enabled;
	const char *subject, *text, *start, *end;
};
/* Apply c to the mailbox's autoresponder: each value checked (e->field
 * names it: subject, text, start, end), a text needed to turn it on.
 * The result into out (may be NULL). */
int ops_vacation_change(struct store *st, const char *address, const struct ops_vacation_change *c,
                        struct vacation *out, struct ops_err *e);
/* {"address", "enabled", "subject", "text", "start", "end"} (dates null when open). */
void ops_json_vacation(struct jw *j, const char *address, const struct vacation *v);

#endif
