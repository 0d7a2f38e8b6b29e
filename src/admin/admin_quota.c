/*
 * admin_quota: the admin API's mailbox quota and autoresponder, on a
 * worker, as hostmailctl's mailbox quota, mailbox vacation and mailbox
 * show (ops/ops_quota.h; docs/quotas.md, docs/vacation.md):
 *   GET /api/mailboxes/ADDRESS            the mailbox with "quota" and "vacation"
 *   PUT .../quota {"bytes", "messages"?}  the mailbox's own limits (null: the account's)
 *   GET, PUT, DELETE .../vacation         the autoresponder (DELETE turns it off)
 */
#include "admin/admin_reply.h"
#include "ops/ops_json.h"
#include "ops/ops_quota.h"
#include "util/config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_MAX ((int64_t)1 << 50)     /* the store's bound */

void admin_mailbox_json(struct admin_req *r, struct jw *j, const struct mailbox *m)
{
	struct ops_quota_info qi;
	struct vacation *v = malloc(sizeof *v);
	struct ops_err e;

	if (v && ops_quota_info(r->store, r->cfg->data_dir, r->cfg->cluster_node, m->address, &qi, &e) == 0 &&
	    ops_vacation_get(r->store, m->address, v, &e) == 0)
		ops_json_mailbox_quota(j, m, &qi, v->enabled);
	else
		ops_json_mailbox(j, m);   /* the Maildir could not be read: the rest still answers */
	free(v);
}

/* The path's mailbox exists: 1, or 0 with 404 set (mailbox show's words). */
static int mailbox_exists(struct admin_req *r)
{
	struct mailbox m;
	char msg[400];

	if (store_mailbox_get(r->store, r->m.arg, &m) == 0)
		return 1;
	snprintf(msg, sizeof msg, "mailbox %s does not exist", r->m.arg);
	admin_error(r, 404, NULL, msg);
	return 0;
}

/* A limit member: absent -2 (400 if required), null -1 (the account's),
 * a number >= 0 or a size string as hostmailctl takes it. 0 or -1 (400 set). */
static int limit_member(struct admin_req *r, json_t *o, const char *key, int required, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	char msg[160];

	*out = -2;
	if (!v && !required)
		return 0;
	if (v && json_is_null(v))
		*out = -1;
	else if (v && json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= QUOTA_MAX)
		*out = json_integer_value(v);
	else if (!v || !json_is_string(v) || ops_quota_parse(json_string_value(v), 1, out) < 0 || *out > QUOTA_MAX) {
		snprintf(msg, sizeof msg, "%s %s: a number (0 = no limit), a size such as \"500M\", or null"
		         " (the account's default)", key, v ? "is not valid" : "missing");
		admin_error(r, 400, key, msg);
		return -1;
	}
	return 0;
}

void admin_quota_set(struct admin_req *r)
{
	static const char *const keys[] = { "bytes", "messages", NULL };
	json_t *o;
	int64_t bytes, messages;
	struct ops_err e;
	int rc;

	if (!mailbox_exists(r) || !(o = admin_body(r)))
		return;
	if (admin_only(r, o, keys) == 0 && limit_member(r, o, "bytes", 1, &bytes) == 0 &&
	    limit_member(r, o, "messages", 0, &messages) == 0) {
		if ((rc = ops_mailbox_quota(r->store, r->m.arg, bytes, messages, &e)))
			admin_op_error(r, rc, &e);
		else {
			char b[24], m[40] = "";

			snprintf(b, sizeof b, bytes < 0 ? "default" : "%lld", (long long)bytes);
			if (messages != -2)
				snprintf(m, sizeof m, messages < 0 ? " --messages default" : " --messages %lld",
				         (long long)messages);
			snprintf(r->what, sizeof r->what, "mailbox quota %s %s%s", r->m.arg, b, m);
			admin_mailbox_show(r);
		}
	}
	json_decref(o);
}

static void vacation_answer(struct admin_req *r, const struct vacation *v)
{
	struct jw j;

	jw_init(&j, &r->out);
	ops_json_vacation(&j, r->m.arg, v);
	admin_ok(r, 200, &j);
}

void admin_vacation_show(struct admin_req *r)
{
	struct vacation *v = malloc(sizeof *v);
	struct ops_err e;
	int rc;

	if (!v)
		return admin_error(r, 500, NULL, "out of memory");
	if ((rc = ops_vacation_get(r->store, r->m.arg, v, &e)))
		admin_op_error(r, rc, &e);
	else
		vacation_answer(r, v);
	free(v);
}

/* A string member, or null for a date (no such day): 0, or -1 (400 set). */
static int text_member(struct admin_req *r, json_t *o, const char *key, int nullable, const char **out)
{
	json_t *v = json_object_get(o, key);

	if (nullable && v && json_is_null(v)) {
		*out = "";
		return 0;
	}
	return admin_get_str(r, o, key, 0, out) < 0 ? -1 : 0;
}

/* Change what is named ({"enabled"} always), or, with off, turn it off. */
static void vacation_change(struct admin_req *r, int off)
{
	static const char *const keys[] = { "enabled", "subject", "text", "start", "end", NULL };
	struct ops_vacation_change c = { 0, NULL, NULL, NULL, NULL };
	struct vacation *v = malloc(sizeof *v);
	json_t *o = NULL;
	struct ops_err e;
	int rc;

	if (!v)
		return admin_error(r, 500, NULL, "out of memory");
	if (!mailbox_exists(r) || (!off && !(o = admin_body(r))))
		goto out;
	if (!off && (admin_only(r, o, keys) < 0 || text_member(r, o, "subject", 0, &c.subject) < 0 ||
	             text_member(r, o, "text", 0, &c.text) < 0 || text_member(r, o, "start", 1, &c.start) < 0 ||
	             text_member(r, o, "end", 1, &c.end) < 0))
		goto out;
	if (!off && (rc = admin_get_bool(r, o, "enabled", &c.enabled)) <= 0) {
		if (rc == 0)
			admin_error(r, 400, "enabled", "enabled missing (true: on, false: off)");
		goto out;
	}
	if ((rc = ops_vacation_change(r->store, r->m.arg, &c, v, &e))) {
		admin_op_error(r, rc, &e);
		goto out;
	}
	snprintf(r->what, sizeof r->what, "mailbox vacation %s %s", r->m.arg, c.enabled ? "on" : "off");
	vacation_answer(r, v);
out:
	json_decref(o);
	free(v);
}

void admin_vacation_set(struct admin_req *r)
{
	vacation_change(r, 0);
}

void admin_vacation_off(struct admin_req *r)
{
	vacation_change(r, 1);
}
