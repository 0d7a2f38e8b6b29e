/*
 * admin_accounts: the admin API's account resources, on a worker: each
 * calls the operation hostmailctl calls (ops/ops.h) and answers in the
 * shapes of ops/ops_json.h.
 */
#include "admin/admin_reply.h"
#include "store/store.h"
#include "util/config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "ops/ops_json.h"
#include "ops/ops_quota.h"

static int list_account(const struct account *a, void *arg)
{
	ops_json_account(arg, a);
	return 0;
}

void admin_account_list(struct admin_req *r)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_account_list(r->store, list_account, &j))
		return admin_error(r, 500, NULL, "cannot list accounts");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

void admin_account_add(struct admin_req *r)
{
	static const char *const keys[] = { "name", "created", "server_number", NULL };
	const char *name = NULL, *created = NULL;
	json_t *o = admin_body(r), *sn;
	struct ops_err e;
	int server = -1, rc;  /* absent: picked among the nodes, or 1 (ops_node.h) */

	if (!o)
		return;
	if (admin_only(r, o, keys) < 0 || admin_get_str(r, o, "name", 1, &name) < 0 || admin_get_str(r, o, "created", 0, &created) < 0)
		goto out;
	if ((sn = json_object_get(o, "server_number"))) {
		if (!json_is_integer(sn) || json_integer_value(sn) < 0 || json_integer_value(sn) > 1000000) {
			admin_error(r, 400, "server_number", "server_number must be a number (0 to 1000000)");
			goto out;
		}
		server = (int)json_integer_value(sn);
	}
	if ((rc = ops_account_add(r->store, name, created, server, &e))) {
		admin_op_error(r, rc, &e);
		goto out;
	}
	snprintf(r->what, sizeof r->what, "account add %s", name);
	{
		struct account a;
		struct jw j;

		if (store_account_get(r->store, name, &a)) {
			admin_error(r, 500, NULL, "the new account vanished");
		} else {
			jw_init(&j, &r->out);
			ops_json_account(&j, &a);
			admin_ok(r, 201, &j);
		}
	}
out:
	json_decref(o);
}

struct show_ctx {
	struct store *st;
	struct jw *j;
	int mailboxes;
};

static int count_mailbox(const struct mailbox *m, void *arg)
{
	(void)m;
	((struct show_ctx *)arg)->mailboxes++;
	return 0;
}

static int show_domain(const char *domain, const char *account, void *arg)
{
	struct show_ctx *s = arg;

	(void)account;
	jw_str(s->j, domain);
	store_mailbox_list(s->st, domain, count_mailbox, s);  /* the store's mutex is recursive */
	return 0;
}

static void limit(struct jw *j, const char *key, int v, int def)
{
	jw_key(j, key);
	jw_obj(j);
	jw_kint(j, "value", v >= 0 ? v : def);
	jw_kbool(j, "default", v < 0);
	jw_obj_end(j);
}

void admin_account_show(struct admin_req *r)
{
	struct show_ctx s = { r->store, NULL, 0 };
	struct account a;
	struct ops_err e;
	struct jw j;
	int64_t qbytes, qmessages;
	int rc;

	if ((rc = ops_account_get(r->store, r->m.arg, &a, &e)) ||
	    (rc = ops_account_mailbox_quota_get(r->store, a.name, &qbytes, &qmessages, &e)))
		return admin_op_error(r, rc, &e);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "name", a.name);
	jw_kstr(&j, "status", a.suspended ? "suspended" : "active");
	jw_kstr(&j, "created", a.created);
	jw_kint(&j, "server_number", a.server_number);
	jw_key(&j, "domains");
	jw_arr(&j);
	s.j = &j;
	if (store_domain_list(r->store, a.name, show_domain, &s))
		return admin_error(r, 500, NULL, "cannot list domains");
	jw_arr_end(&j);
	jw_kint(&j, "mailboxes", s.mailboxes);
	jw_key(&j, "limits");
	jw_obj(&j);
	limit(&j, "recipients_per_hour", a.limit_per_hour, r->cfg->recipients_per_hour);
	limit(&j, "recipients_per_day", a.limit_per_day, r->cfg->recipients_per_day);
	limit(&j, "max_recipients", a.limit_max_recipients, r->cfg->max_recipients);
	jw_kint(&j, "mailbox_quota_bytes", qbytes);        /* its mailboxes' default; 0 = none */
	jw_kint(&j, "mailbox_quota_messages", qmessages);
	jw_obj_end(&j);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}

/* A limit member: absent -2 (unchanged), "default" or null -1, a number >= 0; -3 bad (400 set). */
static int limit_of(struct admin_req *r, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	char msg[128];

	if (!v)
		return -2;
	if (json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "default")))
		return -1;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2147483647)
		return (int)json_integer_value(v);
	snprintf(msg, sizeof msg, "%s needs a number or \"default\"", key);
	admin_error(r, 400, key, msg);
	return -3;
}

/* The account's default quota for its mailboxes: absent -2, null 0 (none),
 * a number >= 0 or a size string ("500M"). 0, or -1 (400 set). */
static int mailbox_quota_of(struct admin_req *r, json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	char msg[160];

	*out = !v ? -2 : 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= ((int64_t)1 << 50))
		*out = json_integer_value(v);
	else if (!json_is_string(v) || ops_quota_parse(json_string_value(v), 0, out) < 0 || *out > ((int64_t)1 << 50)) {
		snprintf(msg, sizeof msg, "%s needs a number (0 or null = no limit) or a size such as \"1G\"", key);
		admin_error(r, 400, key, msg);
		return -1;
	}
	return 0;
}

void admin_account_limits(struct admin_req *r)
{
	static const char *const keys[] = { "recipients_per_hour", "recipients_per_day", "max_recipients",
	                                    "mailbox_quota_bytes", "mailbox_quota_messages", NULL };
	json_t *o = admin_body(r);
	struct ops_err e;
	int64_t qb, qm;
	int h, d, m, rc = 0;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0 && (h = limit_of(r, o, keys[0])) != -3 && (d = limit_of(r, o, keys[1])) != -3 &&
	    (m = limit_of(r, o, keys[2])) != -3 && mailbox_quota_of(r, o, keys[3], &qb) == 0 &&
	    mailbox_quota_of(r, o, keys[4], &qm) == 0) {
		/* the recipient limits first: they may still refuse (as hostmailctl's) */
		if (h != -2 || d != -2 || m != -2 || (qb == -2 && qm == -2))
			rc = ops_account_limits(r->store, r->m.arg, h, d, m, &e);
		if (rc == 0 && (qb != -2 || qm != -2))
			rc = ops_account_mailbox_quota(r->store, r->m.arg, qb, qm, &e);
		if (rc)
			admin_op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "account limits %s", r->m.arg);
			buf_reset(&r->out);
			admin_account_show(r);
		}
	}
	json_decref(o);
}

void admin_account_suspend(struct admin_req *r, int suspended)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_account_suspend(r->store, r->m.arg, suspended, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "account %s %s", suspended ? "suspend" : "resume", r->m.arg);
	admin_account_show(r);
}

void admin_account_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_account_remove(r->store, r->m.arg, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "account remove %s", r->m.arg);
	admin_ok_empty(r, 200);
}

/* {"password": ..., "force": bool} for an account or a mailbox */
void admin_set_password(struct admin_req *r, int account)
{
	static const char *const keys[] = { "password", "force", NULL };
	json_t *o = admin_body(r);
	const char *pw = NULL;
	struct ops_err e;
	int force = 0, rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0 && admin_get_str(r, o, "password", 1, &pw) > 0 && admin_get_bool(r, o, "force", &force) >= 0) {
		rc = account ? ops_account_password(r->store, r->m.arg, pw, force, &e)
		             : ops_mailbox_passwd(r->store, r->m.arg, pw, force, &e);
		if (rc)
			admin_op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "%s passwd %s", account ? "account" : "mailbox", r->m.arg);
			admin_ok_empty(r, 200);
		}
	}
	json_decref(o);
}

void admin_account_logout(struct admin_req *r)
{
	struct ops_err e;
	struct jw j;
	int rc, n = 0;

	if ((rc = ops_account_logout(r->store, r->m.arg, &n, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "account logout %s (%d sessions)", r->m.arg, n);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kint(&j, "sessions_ended", n);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}
