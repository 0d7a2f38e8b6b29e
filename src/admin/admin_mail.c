/*
 * admin_mail: the admin API's domain, mailbox, relay-grant and queue
 * resources, on a worker (as admin_accounts.c: ops/ops.h, ops/ops_json.h).
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
#include "queue/queue.h"
#include "store/relay_auth.h"

struct domain_rows {
	struct store *st;
	struct jw *j;
};

static int list_domain(const char *domain, const char *account, void *arg)
{
	struct domain_rows *r = arg;
	struct ops_err e;
	char spam[16];

	if (ops_domain_spam_get(r->st, domain, spam, sizeof spam, &e))
		snprintf(spam, sizeof spam, "unknown");
	ops_json_domain(r->j, domain, account, spam);
	return 0;
}

/* ?NAME=VALUE of the listing into out: 0 (none: *v NULL), or -1 with 400 set. */
static int filter(struct admin_req *r, const char *key, char *out, size_t len, const char **v)
{
	int f = admin_query_get(r->query, key, out, len);
	char msg[128];

	*v = f == 1 ? out : NULL;
	if (f < 0) {
		snprintf(msg, sizeof msg, "%s: bad value in the query", key);
		admin_error(r, 400, key, msg);
	}
	return f < 0 ? -1 : 0;
}

void admin_domain_list(struct admin_req *r)
{
	char acc[STORE_NAME_MAX + 1];
	const char *account;
	struct ops_err e;
	struct jw j;
	int rc;

	if (filter(r, "account", acc, sizeof acc, &account) < 0)
		return;
	if ((rc = ops_domain_list_check(r->store, account, &e)))
		return admin_op_error(r, rc, &e);
	struct domain_rows rows = { r->store, &j };

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_domain_list(r->store, account, list_domain, &rows))
		return admin_error(r, 500, NULL, "cannot list domains");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

void admin_domain_add(struct admin_req *r)
{
	static const char *const keys[] = { "account", "domain", "dkim", NULL };
	const char *account = NULL, *domain = NULL;
	json_t *o = admin_body(r);
	struct ops_err e;
	struct jw j;
	int dkim = 1, rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0 && admin_get_str(r, o, "account", 1, &account) > 0 &&
	    admin_get_str(r, o, "domain", 1, &domain) > 0 && admin_get_bool(r, o, "dkim", &dkim) >= 0) {
		if ((rc = ops_domain_add(r->store, account, domain, dkim, &e)))
			admin_op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "domain add %s %s%s", account, domain, dkim ? "" : " --no-dkim");
			jw_init(&j, &r->out);
			ops_json_domain(&j, domain, account, "default");
			admin_ok(r, 201, &j);
		}
	}
	json_decref(o);
}

void admin_domain_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_domain_remove(r->store, r->m.arg, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "domain remove %s", r->m.arg);
	admin_ok_empty(r, 200);
}

static int list_mailbox(const struct mailbox *m, void *arg)
{
	ops_json_mailbox(arg, m);
	return 0;
}

void admin_mailbox_list(struct admin_req *r)
{
	char dom[256];
	const char *domain;
	struct ops_err e;
	struct jw j;
	int rc;

	if (filter(r, "domain", dom, sizeof dom, &domain) < 0)
		return;
	if ((rc = ops_mailbox_list_check(r->store, domain, &e)))
		return admin_op_error(r, rc, &e);
	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_mailbox_list(r->store, domain, list_mailbox, &j))
		return admin_error(r, 500, NULL, "cannot list mailboxes");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

void admin_mailbox_show(struct admin_req *r)
{
	struct mailbox m;
	struct jw j;
	char msg[400];

	if (store_mailbox_get(r->store, r->m.arg, &m)) {
		snprintf(msg, sizeof msg, "mailbox %s does not exist", r->m.arg);
		return admin_error(r, 404, NULL, msg);
	}
	jw_init(&j, &r->out);
	admin_mailbox_json(r, &j, &m);
	admin_ok(r, 200, &j);
}

void admin_mailbox_add(struct admin_req *r)
{
	static const char *const keys[] = { "address", "password", "force", NULL };
	const char *address = NULL, *pw = NULL;
	json_t *o = admin_body(r);
	struct ops_err e;
	int force = 0, rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0 && admin_get_str(r, o, "address", 1, &address) > 0 &&
	    admin_get_str(r, o, "password", 1, &pw) > 0 && admin_get_bool(r, o, "force", &force) >= 0) {
		if ((rc = ops_mailbox_add(r->store, r->cfg->data_dir, address, pw, force, &e)))
			admin_op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "mailbox add %s", address);
			snprintf(r->m.arg, sizeof r->m.arg, "%s", address);
			admin_mailbox_show(r);
			r->status = r->status == 200 ? 201 : r->status;
		}
	}
	json_decref(o);
}

void admin_mailbox_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_mailbox_remove(r->store, r->m.arg, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "mailbox remove %s", r->m.arg);
	admin_ok_empty(r, 200);
}

/* ---- relay grants and the queue ---- */

static int list_grant(const struct relay_grant *g, void *arg)
{
	ops_json_grant(arg, g);
	return 0;
}

void admin_relay_list(struct admin_req *r)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (relay_auth_list(r->store, time(NULL), list_grant, &j))
		return admin_error(r, 500, NULL, "cannot list relay authorizations");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

void admin_relay_revoke(struct admin_req *r)
{
	char ip[64];
	struct ops_err e;
	int rc;

	if ((rc = ops_relay_revoke(r->store, r->m.arg, ip, sizeof ip, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "relay revoke %s", ip);
	admin_ok_empty(r, 200);
}

static int list_envelope(const struct envelope *e, void *arg)
{
	ops_json_envelope(arg, e);
	return 0;
}

static int queue_dir(struct admin_req *r, char *dir, size_t len)
{
	if (snprintf(dir, len, "%s/queue", r->cfg->data_dir) < (int)len)
		return 0;
	admin_error(r, 500, NULL, "data_dir too long");
	return -1;
}

void admin_queue_list(struct admin_req *r)
{
	char dir[1024], msg[1200];
	struct jw j;

	if (queue_dir(r, dir, sizeof dir) < 0)
		return;
	jw_init(&j, &r->out);
	jw_arr(&j);
	if (queue_list(dir, list_envelope, &j) < 0) {
		snprintf(msg, sizeof msg, "cannot read the queue in %s: %s", dir, strerror(errno));
		return admin_error(r, 500, NULL, msg);
	}
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

void admin_queue_show(struct admin_req *r)
{
	struct envelope env;
	char dir[1024], msg[600];
	struct jw j;

	if (queue_dir(r, dir, sizeof dir) < 0)
		return;
	if (!queue_id_valid(r->m.arg)) {
		snprintf(msg, sizeof msg, "%s is not a queue id", r->m.arg);
		return admin_error(r, 404, NULL, msg);
	}
	if (envelope_load(dir, r->m.arg, &env) < 0) {
		snprintf(msg, sizeof msg, errno == ENOENT ? "no such message: %s" : "cannot read %s", r->m.arg);
		return admin_error(r, errno == ENOENT ? 404 : 500, NULL, msg);
	}
	jw_init(&j, &r->out);
	ops_json_envelope(&j, &env);
	envelope_free(&env);
	admin_ok(r, 200, &j);
}

void admin_queue_ask(struct admin_req *r, const char *verb, const char *id)
{
	char okv[64], msg[600];
	struct ops_err e;
	struct jw j;
	int rc = ops_queue_ask(r->cfg->data_dir, verb, id, okv, sizeof okv, &e);

	if (rc == 1) {
		snprintf(msg, sizeof msg, "the queue runner does not answer on %s", r->cfg->data_dir);
		return admin_error(r, 503, NULL, msg);
	}
	if (rc == STORE_EINVAL)
		return admin_error(r, 404, NULL, e.msg);    /* a path segment that is no id: no such resource */
	if (rc)
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "queue %s%s%s", verb, id ? " " : "", id ? id : "");
	for (char *p = r->what + 6; *p && *p != ' '; p++)
		*p = (char)(*p | 0x20);             /* "queue delete ID", as the verb reads */
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kbool(&j, "ok", 1);
	if (!strcmp(verb, "FLUSH"))
		jw_kint(&j, "messages", okv[0] ? strtoll(okv, NULL, 10) : 0);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}
