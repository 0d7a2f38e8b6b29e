/*
 * admin_api: the admin API's requests on a worker: the bearer token
 * (admin_token.h), the route (admin_route.h), the request's JSON
 * (jansson), the shared operation (ops/ops.h: the same checks and words
 * as hostmailctl) and the JSON answer (ops/ops_json.h). Errors are
 * {"error": TEXT, "field": NAME?} with 400 (bad input, the field at
 * fault), 401, 403 (a read-only token changing), 404, 405, 409
 * (duplicates), 500, 503 (no hostmaild queue runner answering).
 */
#include "admin/admin_int.h"
#include "ops/ops.h"
#include "ops/ops_json.h"
#include "queue/queue.h"
#include "store/store.h"
#include "util/config.h"
#include "util/jw.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void error(struct admin_req *r, int status, const char *field, const char *msg)
{
	struct jw j;

	r->status = status;
	buf_reset(&r->out);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "error", msg);
	if (field && *field)
		jw_kstr(&j, "field", field);
	jw_obj_end(&j);
}

static int status_of(int code)
{
	switch (code) {
	case STORE_EINVAL: return 400;
	case STORE_ENOTFOUND: return 404;
	case STORE_EEXIST: return 409;
	default: return 500;
	}
}

static void op_error(struct admin_req *r, int code, const struct ops_err *e)
{
	error(r, status_of(code), code == STORE_EINVAL ? e->field : NULL, e->msg);
}

/* 200 (or status) with what the writer j made, if it is whole. */
static void ok(struct admin_req *r, int status, const struct jw *j)
{
	if (jw_done(j) < 0)
		error(r, 500, NULL, "the answer could not be made (too large)");
	else
		r->status = status;
}

static void ok_empty(struct admin_req *r, int status)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kbool(&j, "ok", 1);
	jw_obj_end(&j);
	ok(r, status, &j);
}

/* ---- the request's JSON ---- */

/* The request's object, or NULL with 400 set. */
static json_t *parse_body(struct admin_req *r)
{
	json_error_t je;
	json_t *root;
	char msg[300];

	if (r->body.len == 0) {
		error(r, 400, NULL, "a JSON object is needed as the request's body");
		return NULL;
	}
	if (strncasecmp(r->content_type, "application/json", 16) != 0) {
		error(r, 400, NULL, "Content-Type must be application/json");
		return NULL;
	}
	root = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!root || !json_is_object(root)) {
		snprintf(msg, sizeof msg, "the body is not a JSON object%s%s", root ? "" : ": ", root ? "" : je.text);
		error(r, 400, NULL, msg);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Member key as a string: 1 and *out; 0 absent (error set if required); -1 wrong type (error set). */
static int get_str(struct admin_req *r, json_t *o, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(o, key);
	char msg[128];

	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(msg, sizeof msg, "%s missing", key);
			error(r, 400, key, msg);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof msg, "%s must be a string", key);
		error(r, 400, key, msg);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

static int get_bool(struct admin_req *r, json_t *o, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);
	char msg[128];

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(msg, sizeof msg, "%s must be true or false", key);
		error(r, 400, key, msg);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

/* Only the members named in keys (NULL-terminated): a typo is a 400, not ignored. */
static int only(struct admin_req *r, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	char msg[128];

	json_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i]) {
			snprintf(msg, sizeof msg, "unknown member %.80s", k);
			error(r, 400, k, msg);
			return -1;
		}
	}
	return 0;
}

/* ---- accounts ---- */

static int list_account(const struct account *a, void *arg)
{
	ops_json_account(arg, a);
	return 0;
}

static void account_list(struct admin_req *r)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_account_list(r->store, list_account, &j))
		return error(r, 500, NULL, "cannot list accounts");
	jw_arr_end(&j);
	ok(r, 200, &j);
}

static void account_add(struct admin_req *r)
{
	static const char *const keys[] = { "name", "created", "server_number", NULL };
	const char *name = NULL, *created = NULL;
	json_t *o = parse_body(r), *sn;
	struct ops_err e;
	int server = 1, rc;

	if (!o)
		return;
	if (only(r, o, keys) < 0 || get_str(r, o, "name", 1, &name) < 0 || get_str(r, o, "created", 0, &created) < 0)
		goto out;
	if ((sn = json_object_get(o, "server_number"))) {
		if (!json_is_integer(sn) || json_integer_value(sn) < 0 || json_integer_value(sn) > 1000000) {
			error(r, 400, "server_number", "server_number must be a number (0 to 1000000)");
			goto out;
		}
		server = (int)json_integer_value(sn);
	}
	if ((rc = ops_account_add(r->store, name, created, server, &e))) {
		op_error(r, rc, &e);
		goto out;
	}
	snprintf(r->what, sizeof r->what, "account add %s", name);
	{
		struct account a;
		struct jw j;

		if (store_account_get(r->store, name, &a)) {
			error(r, 500, NULL, "the new account vanished");
		} else {
			jw_init(&j, &r->out);
			ops_json_account(&j, &a);
			ok(r, 201, &j);
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

static void account_show(struct admin_req *r)
{
	struct show_ctx s = { r->store, NULL, 0 };
	struct account a;
	struct ops_err e;
	struct jw j;
	int rc;

	if ((rc = ops_account_get(r->store, r->m.arg, &a, &e)))
		return op_error(r, rc, &e);
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
		return error(r, 500, NULL, "cannot list domains");
	jw_arr_end(&j);
	jw_kint(&j, "mailboxes", s.mailboxes);
	jw_key(&j, "limits");
	jw_obj(&j);
	limit(&j, "recipients_per_hour", a.limit_per_hour, r->cfg->recipients_per_hour);
	limit(&j, "recipients_per_day", a.limit_per_day, r->cfg->recipients_per_day);
	limit(&j, "max_recipients", a.limit_max_recipients, r->cfg->max_recipients);
	jw_obj_end(&j);
	jw_obj_end(&j);
	ok(r, 200, &j);
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
	error(r, 400, key, msg);
	return -3;
}

static void account_limits(struct admin_req *r)
{
	static const char *const keys[] = { "recipients_per_hour", "recipients_per_day", "max_recipients", NULL };
	json_t *o = parse_body(r);
	struct ops_err e;
	int h, d, m, rc;

	if (!o)
		return;
	if (only(r, o, keys) == 0 && (h = limit_of(r, o, keys[0])) != -3 && (d = limit_of(r, o, keys[1])) != -3 &&
	    (m = limit_of(r, o, keys[2])) != -3) {
		if ((rc = ops_account_limits(r->store, r->m.arg, h, d, m, &e)))
			op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "account limits %s", r->m.arg);
			buf_reset(&r->out);
			account_show(r);
		}
	}
	json_decref(o);
}

static void account_suspend(struct admin_req *r, int suspended)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_account_suspend(r->store, r->m.arg, suspended, &e)))
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "account %s %s", suspended ? "suspend" : "resume", r->m.arg);
	account_show(r);
}

static void account_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_account_remove(r->store, r->m.arg, &e)))
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "account remove %s", r->m.arg);
	ok_empty(r, 200);
}

/* {"password": ..., "force": bool} for an account or a mailbox */
static void set_password(struct admin_req *r, int account)
{
	static const char *const keys[] = { "password", "force", NULL };
	json_t *o = parse_body(r);
	const char *pw = NULL;
	struct ops_err e;
	int force = 0, rc;

	if (!o)
		return;
	if (only(r, o, keys) == 0 && get_str(r, o, "password", 1, &pw) > 0 && get_bool(r, o, "force", &force) >= 0) {
		rc = account ? ops_account_password(r->store, r->m.arg, pw, force, &e)
		             : ops_mailbox_passwd(r->store, r->m.arg, pw, force, &e);
		if (rc)
			op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "%s passwd %s", account ? "account" : "mailbox", r->m.arg);
			ok_empty(r, 200);
		}
	}
	json_decref(o);
}

static void account_logout(struct admin_req *r)
{
	struct ops_err e;
	struct jw j;
	int rc, n = 0;

	if ((rc = ops_account_logout(r->store, r->m.arg, &n, &e)))
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "account logout %s (%d sessions)", r->m.arg, n);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kint(&j, "sessions_ended", n);
	jw_obj_end(&j);
	ok(r, 200, &j);
}

/* ---- domains and mailboxes ---- */

static int list_domain(const char *domain, const char *account, void *arg)
{
	ops_json_domain(arg, domain, account);
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
		error(r, 400, key, msg);
	}
	return f < 0 ? -1 : 0;
}

static void domain_list(struct admin_req *r)
{
	char acc[STORE_NAME_MAX + 1];
	const char *account;
	struct ops_err e;
	struct jw j;
	int rc;

	if (filter(r, "account", acc, sizeof acc, &account) < 0)
		return;
	if ((rc = ops_domain_list_check(r->store, account, &e)))
		return op_error(r, rc, &e);
	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_domain_list(r->store, account, list_domain, &j))
		return error(r, 500, NULL, "cannot list domains");
	jw_arr_end(&j);
	ok(r, 200, &j);
}

static void domain_add(struct admin_req *r)
{
	static const char *const keys[] = { "account", "domain", "dkim", NULL };
	const char *account = NULL, *domain = NULL;
	json_t *o = parse_body(r);
	struct ops_err e;
	struct jw j;
	int dkim = 1, rc;

	if (!o)
		return;
	if (only(r, o, keys) == 0 && get_str(r, o, "account", 1, &account) > 0 &&
	    get_str(r, o, "domain", 1, &domain) > 0 && get_bool(r, o, "dkim", &dkim) >= 0) {
		if ((rc = ops_domain_add(r->store, account, domain, dkim, &e)))
			op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "domain add %s %s%s", account, domain, dkim ? "" : " --no-dkim");
			jw_init(&j, &r->out);
			ops_json_domain(&j, domain, account);
			ok(r, 201, &j);
		}
	}
	json_decref(o);
}

static void domain_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_domain_remove(r->store, r->m.arg, &e)))
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "domain remove %s", r->m.arg);
	ok_empty(r, 200);
}

static int list_mailbox(const struct mailbox *m, void *arg)
{
	ops_json_mailbox(arg, m);
	return 0;
}

static void mailbox_list(struct admin_req *r)
{
	char dom[256];
	const char *domain;
	struct ops_err e;
	struct jw j;
	int rc;

	if (filter(r, "domain", dom, sizeof dom, &domain) < 0)
		return;
	if ((rc = ops_mailbox_list_check(r->store, domain, &e)))
		return op_error(r, rc, &e);
	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_mailbox_list(r->store, domain, list_mailbox, &j))
		return error(r, 500, NULL, "cannot list mailboxes");
	jw_arr_end(&j);
	ok(r, 200, &j);
}

static void mailbox_show(struct admin_req *r)
{
	struct mailbox m;
	struct jw j;
	char msg[400];

	if (store_mailbox_get(r->store, r->m.arg, &m)) {
		snprintf(msg, sizeof msg, "mailbox %s does not exist", r->m.arg);
		return error(r, 404, NULL, msg);
	}
	jw_init(&j, &r->out);
	ops_json_mailbox(&j, &m);
	ok(r, 200, &j);
}

static void mailbox_add(struct admin_req *r)
{
	static const char *const keys[] = { "address", "password", "force", NULL };
	const char *address = NULL, *pw = NULL;
	json_t *o = parse_body(r);
	struct ops_err e;
	int force = 0, rc;

	if (!o)
		return;
	if (only(r, o, keys) == 0 && get_str(r, o, "address", 1, &address) > 0 &&
	    get_str(r, o, "password", 1, &pw) > 0 && get_bool(r, o, "force", &force) >= 0) {
		if ((rc = ops_mailbox_add(r->store, r->cfg->data_dir, address, pw, force, &e)))
			op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "mailbox add %s", address);
			snprintf(r->m.arg, sizeof r->m.arg, "%s", address);
			mailbox_show(r);
			r->status = r->status == 200 ? 201 : r->status;
		}
	}
	json_decref(o);
}

static void mailbox_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_mailbox_remove(r->store, r->m.arg, &e)))
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "mailbox remove %s", r->m.arg);
	ok_empty(r, 200);
}

/* ---- relay grants and the queue ---- */

static int list_grant(const struct relay_grant *g, void *arg)
{
	ops_json_grant(arg, g);
	return 0;
}

static void relay_list(struct admin_req *r)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (relay_auth_list(r->store, time(NULL), list_grant, &j))
		return error(r, 500, NULL, "cannot list relay authorizations");
	jw_arr_end(&j);
	ok(r, 200, &j);
}

static void relay_revoke(struct admin_req *r)
{
	char ip[64];
	struct ops_err e;
	int rc;

	if ((rc = ops_relay_revoke(r->store, r->m.arg, ip, sizeof ip, &e)))
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "relay revoke %s", ip);
	ok_empty(r, 200);
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
	error(r, 500, NULL, "data_dir too long");
	return -1;
}

static void queue_list_(struct admin_req *r)
{
	char dir[1024], msg[1200];
	struct jw j;

	if (queue_dir(r, dir, sizeof dir) < 0)
		return;
	jw_init(&j, &r->out);
	jw_arr(&j);
	if (queue_list(dir, list_envelope, &j) < 0) {
		snprintf(msg, sizeof msg, "cannot read the queue in %s: %s", dir, strerror(errno));
		return error(r, 500, NULL, msg);
	}
	jw_arr_end(&j);
	ok(r, 200, &j);
}

static void queue_show(struct admin_req *r)
{
	struct envelope env;
	char dir[1024], msg[600];
	struct jw j;

	if (queue_dir(r, dir, sizeof dir) < 0)
		return;
	if (!queue_id_valid(r->m.arg)) {
		snprintf(msg, sizeof msg, "%s is not a queue id", r->m.arg);
		return error(r, 404, NULL, msg);
	}
	if (envelope_load(dir, r->m.arg, &env) < 0) {
		snprintf(msg, sizeof msg, errno == ENOENT ? "no such message: %s" : "cannot read %s", r->m.arg);
		return error(r, errno == ENOENT ? 404 : 500, NULL, msg);
	}
	jw_init(&j, &r->out);
	ops_json_envelope(&j, &env);
	envelope_free(&env);
	ok(r, 200, &j);
}

static void queue_ask(struct admin_req *r, const char *verb, const char *id)
{
	char okv[64], msg[600];
	struct ops_err e;
	struct jw j;
	int rc = ops_queue_ask(r->cfg->data_dir, verb, id, okv, sizeof okv, &e);

	if (rc == 1) {
		snprintf(msg, sizeof msg, "the queue runner does not answer on %s", r->cfg->data_dir);
		return error(r, 503, NULL, msg);
	}
	if (rc == STORE_EINVAL)
		return error(r, 404, NULL, e.msg);    /* a path segment that is no id: no such resource */
	if (rc)
		return op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "queue %s%s%s", verb, id ? " " : "", id ? id : "");
	for (char *p = r->what + 6; *p && *p != ' '; p++)
		*p = (char)(*p | 0x20);             /* "queue delete ID", as the verb reads */
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kbool(&j, "ok", 1);
	if (!strcmp(verb, "FLUSH"))
		jw_kint(&j, "messages", okv[0] ? strtoll(okv, NULL, 10) : 0);
	jw_obj_end(&j);
	ok(r, 200, &j);
}

/* ---- dispatch ---- */

static void openapi(struct admin_req *r)
{
	if (buf_puts(&r->out, admin_openapi_json) < 0)
		return error(r, 500, NULL, "out of memory");
	r->status = 200;
}

static void run_op(struct admin_req *r)
{
	switch (r->m.route->op) {
	case OP_OPENAPI: return openapi(r);
	case OP_ACCOUNT_LIST: return account_list(r);
	case OP_ACCOUNT_ADD: return account_add(r);
	case OP_ACCOUNT_SHOW: return account_show(r);
	case OP_ACCOUNT_REMOVE: return account_remove(r);
	case OP_ACCOUNT_LIMITS: return account_limits(r);
	case OP_ACCOUNT_SUSPEND: return account_suspend(r, 1);
	case OP_ACCOUNT_RESUME: return account_suspend(r, 0);
	case OP_ACCOUNT_PASSWORD: return set_password(r, 1);
	case OP_ACCOUNT_LOGOUT: return account_logout(r);
	case OP_DOMAIN_LIST: return domain_list(r);
	case OP_DOMAIN_ADD: return domain_add(r);
	case OP_DOMAIN_REMOVE: return domain_remove(r);
	case OP_MAILBOX_LIST: return mailbox_list(r);
	case OP_MAILBOX_ADD: return mailbox_add(r);
	case OP_MAILBOX_SHOW: return mailbox_show(r);
	case OP_MAILBOX_PASSWORD: return set_password(r, 0);
	case OP_MAILBOX_REMOVE: return mailbox_remove(r);
	case OP_RELAY_LIST: return relay_list(r);
	case OP_RELAY_REVOKE: return relay_revoke(r);
	case OP_QUEUE_LIST: return queue_list_(r);
	case OP_QUEUE_FLUSH_ALL: return queue_ask(r, "FLUSH", NULL);
	case OP_QUEUE_SHOW: return queue_show(r);
	case OP_QUEUE_DELETE: return queue_ask(r, "DELETE", r->m.arg);
	case OP_QUEUE_FLUSH: return queue_ask(r, "FLUSH", r->m.arg);
	case OP_QUEUE_BOUNCE: return queue_ask(r, "BOUNCE", r->m.arg);
	}
	error(r, 500, NULL, "no such operation");
}

/* The bearer token: 1 valid (r->token its name), 0 refused (401 set). */
static int authenticate(struct admin_req *r, int *read_only)
{
	static const char scheme[] = "Bearer ";
	struct admin_token list[ADMIN_TOKENS_MAX];
	const char *tok = r->authorization;
	int n, i, named = 0;

	if (!*tok) {
		error(r, 401, NULL, "a bearer token is needed (Authorization: Bearer TOKEN)");
		r->www_authenticate = 1;
		return 0;
	}
	r->auth_failed = 1;      /* until proven otherwise */
	if (r->auth_too_long || strncasecmp(tok, scheme, sizeof scheme - 1) != 0) {
		error(r, 401, NULL, "the token is not valid");
		r->www_authenticate = 1;
		return 0;
	}
	tok += sizeof scheme - 1;
	if ((n = admin_token_load(r->cfg->data_dir, list, ADMIN_TOKENS_MAX)) < 0) {
		r->auth_failed = 0;
		error(r, 500, NULL, "cannot read the tokens");
		return 0;
	}
	i = admin_token_match(list, (size_t)n, tok, &named);
	if (i < 0) {
		if (named) { /* a name we know, so it is safe to log */
			size_t nl = (size_t)(strrchr(tok, '.') - tok);
			memcpy(r->token, tok, nl < sizeof r->token ? nl : sizeof r->token - 1);
		}
		error(r, 401, NULL, "the token is not valid");
		r->www_authenticate = 1;
		return 0;
	}
	r->auth_failed = 0;
	r->authenticated = 1;
	snprintf(r->token, sizeof r->token, "%s", list[i].name);
	*read_only = list[i].read_only;
	return 1;
}

void admin_api_run(struct admin_req *r)
{
	enum admin_route_result rr = admin_route(r->method, r->path, &r->m);
	int read_only = 0;

	buf_init(&r->out, ADMIN_OUT_MAX);
	if (rr == ROUTE_OK && !r->m.route->auth)
		return run_op(r);
	if (!authenticate(r, &read_only))
		return;
	if (rr == ROUTE_NOT_FOUND)
		return error(r, 404, NULL, "no such resource");
	if (rr == ROUTE_BAD_PATH)
		return error(r, 400, NULL, "the path has a bad segment (escape, NUL or /)");
	if (rr == ROUTE_BAD_METHOD) {
		return error(r, 405, NULL, "method not allowed on this resource");
	}
	if (r->m.route->change && read_only)
		return error(r, 403, NULL, "this token is read-only");
	run_op(r);
}
