/*
 * ops_quota: mailbox quotas for hostmailctl, the admin API and the ACC
 * (ops_quota.h); the autoresponder's operations are in ops_vacation.c.
 */
#include "ops/ops_quota.h"
#include "delivery/quota.h"
#include "util/buf.h"
#include "util/jw.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int store_fail(struct ops_err *e, int rc, const char *field, const char *err, const char *what)
{
	if (rc == STORE_EFAIL && !err[0])
		return ops_fail(e, rc, NULL, "database error");
	return ops_fail(e, rc, rc == STORE_EINVAL ? field : NULL, "%s", err[0] ? err : what);
}

int ops_quota_parse(const char *v, int allow_default, int64_t *out)
{
	if (allow_default && v && !strcmp(v, "default")) {
		*out = -1;
		return 0;
	}
	return quota_parse_size(v, out);
}

int ops_mailbox_quota(struct store *st, const char *address, int64_t bytes, int64_t messages,
                      struct ops_err *e)
{
	char err[256] = "";
	int rc = store_quota_set(st, address, bytes, messages, err, sizeof err);

	return rc ? store_fail(e, rc, "quota", err, "no such mailbox") : 0;
}

int ops_account_mailbox_quota(struct store *st, const char *account, int64_t bytes, int64_t messages,
                              struct ops_err *e)
{
	char err[256] = "";
	int rc = store_account_set_mailbox_quota(st, account, bytes, messages, err, sizeof err);

	return rc ? store_fail(e, rc, "mailbox_quota", err, "no such account") : 0;
}

int ops_account_mailbox_quota_get(struct store *st, const char *account, int64_t *bytes, int64_t *messages,
                                  struct ops_err *e)
{
	int rc = store_account_mailbox_quota_get(st, account, bytes, messages);

	if (rc)
		return ops_fail(e, rc, NULL, rc == STORE_ENOTFOUND ? "account %s does not exist" : "database error",
		                account);
	return 0;
}

/* Is the mailbox's Maildir on this node? 1 yes, 0 no (*home its node), -1 store error. */
static int maildir_here(struct store *st, int node, const struct mailbox *m, int *home)
{
	struct account a;

	*home = node;
	if (node <= 0)
		return 1;                /* one node: every Maildir is here */
	if (store_account_get(st, m->account, &a))
		return -1;
	*home = a.server_number;
	return a.server_number <= 0 || a.server_number == node;
}

int ops_quota_info(struct store *st, const char *data_dir, int node, const char *address,
                   struct ops_quota_info *out, struct ops_err *e)
{
	struct mailbox m;
	struct quota_limit q;
	struct quota_usage u;
	char md[PATH_MAX];
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_mailbox_get(st, address, &m)) != 0)
		return ops_fail(e, rc, NULL, rc == STORE_ENOTFOUND ? "mailbox %s does not exist" : "database error",
		                address);
	if ((rc = store_quota_get(st, m.address, &out->limit)) != 0)
		return ops_fail(e, rc, NULL, "database error");
	if ((rc = maildir_here(st, node, &m, &out->home_node)) < 0)
		return ops_fail(e, STORE_EFAIL, NULL, "database error");
	if (!(out->local = rc))
		return 0;
	q.bytes = out->limit.bytes;
	q.messages = out->limit.messages;
	if (quota_maildir_path(data_dir, m.address, md, sizeof md) < 0 ||
	    (quota_limited(&q) ? quota_maildir_usage(md, &q, &u) : quota_maildir_scan(md, &u)) < 0)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot read the Maildir of %s", m.address);
	out->used_bytes = u.bytes;
	out->used_messages = u.messages;
	out->percent = quota_percent(&q, &u);
	return 0;
}

static int limit_line(struct buf *b, const char *key, int64_t v, int64_t own)
{
	if (v <= 0)
		return buf_printf(b, "%s: none%s\n", key, own < 0 ? " (account default)" : "");
	return buf_printf(b, "%s: %lld%s\n", key, (long long)v, own < 0 ? " (account default)" : "");
}

int ops_quota_lines(const struct ops_quota_info *qi, int vacation_on, struct buf *b)
{
	if (limit_line(b, "quota_bytes", qi->limit.bytes, qi->limit.mailbox_bytes) < 0 ||
	    limit_line(b, "quota_messages", qi->limit.messages, qi->limit.mailbox_messages) < 0)
		return -1;
	if (!qi->local)   /* its maildirsize is on its home node */
		return buf_printf(b, "quota_used: on node %d (mailbox show there)\nvacation: %s\n", qi->home_node,
		                  vacation_on ? "on" : "off") < 0 ? -1 : 0;
	return buf_printf(b, "quota_used_bytes: %lld\nquota_used_messages: %lld\nquota_percent: %d\nvacation: %s\n",
	                  (long long)qi->used_bytes, (long long)qi->used_messages, qi->percent,
	                  vacation_on ? "on" : "off") < 0 ? -1 : 0;
}

void ops_json_mailbox_quota(struct jw *j, const struct mailbox *m, const struct ops_quota_info *qi,
                            int vacation_on)
{
	jw_obj(j);
	jw_kstr(j, "address", m->address);
	jw_kstr(j, "domain", m->domain);
	jw_kstr(j, "account", m->account);
	jw_key(j, "quota");
	jw_obj(j);
	jw_kint(j, "bytes", qi->limit.bytes);           /* 0: no limit */
	jw_kint(j, "messages", qi->limit.messages);
	jw_kbool(j, "account_default", qi->limit.mailbox_bytes < 0);
	jw_kbool(j, "local", qi->local);
	if (qi->local) {
		jw_kint(j, "used_bytes", qi->used_bytes);
		jw_kint(j, "used_messages", qi->used_messages);
		jw_kint(j, "percent", qi->percent);
	} else {          /* read on its home node */
		jw_key(j, "used_bytes");
		jw_null(j);
		jw_key(j, "used_messages");
		jw_null(j);
		jw_key(j, "percent");
		jw_null(j);
		jw_kint(j, "home_node", qi->home_node);
	}
	jw_obj_end(j);
	jw_kbool(j, "vacation", vacation_on);
	jw_obj_end(j);
}
