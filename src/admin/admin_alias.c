/*
 * admin_alias: the admin API's routing resources (docs/routing.md), on a
 * worker, through ops/ops_alias.h as hostmailctl alias / domain catchall
 * / account contact:
 *   GET /api/aliases[?domain=D]     PUT|GET|DELETE /api/aliases/{address}
 *   GET|PUT /api/domains/{domain}/catchall   GET|PUT /api/accounts/{name}/contact
 */
#include "admin/admin_reply.h"
#include "ops/ops_alias.h"
#include "store/store_alias.h"
#include <stdio.h>
#include <string.h>

static void json_alias(struct jw *j, const struct alias *a)
{
	const char *t = a->targets;
	char one[320];

	jw_obj(j);
	jw_kstr(j, "address", a->address);
	jw_kstr(j, "domain", a->domain);
	jw_kstr(j, "account", a->account);
	jw_key(j, "targets");
	jw_arr(j);
	while (*t) {
		size_t k = strcspn(t, ",");
		snprintf(one, sizeof one, "%.*s", (int)k, t);
		jw_str(j, one);
		t += k + (t[k] == ',');
	}
	jw_arr_end(j);
	jw_obj_end(j);
}

static int list_one(const struct alias *a, void *arg)
{
	json_alias(arg, a);
	return 0;
}

void admin_alias_list(struct admin_req *r)
{
	char dom[256];
	struct ops_err e;
	struct jw j;
	int f = admin_query_get(r->query, "domain", dom, sizeof dom), rc;

	if (f < 0)
		return admin_error(r, 400, "domain", "domain: bad value in the query");
	if ((rc = ops_alias_list_check(r->store, f == 1 ? dom : NULL, &e)))
		return admin_op_error(r, rc, &e);
	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_alias_list(r->store, f == 1 ? dom : NULL, list_one, &j))
		return admin_error(r, 500, NULL, "cannot list aliases");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

static void answer_alias(struct admin_req *r, int status)
{
	struct alias a;
	struct jw j;
	char msg[400];

	if (store_alias_get(r->store, r->m.arg, &a)) {
		snprintf(msg, sizeof msg, "alias %s does not exist", r->m.arg);
		return admin_error(r, 404, NULL, msg);
	}
	jw_init(&j, &r->out);
	json_alias(&j, &a);
	admin_ok(r, status, &j);
}

void admin_alias_show(struct admin_req *r)
{
	answer_alias(r, 200);
}

/* {"targets": ["a@b.example", ...]}: creates or replaces. */
void admin_alias_set(struct admin_req *r)
{
	static const char *const keys[] = { "targets", NULL };
	char targets[ALIAS_TARGETS_LEN] = "";
	json_t *o = admin_body(r), *t, *v;
	struct ops_err e;
	size_t i, n = 0;
	int rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) < 0)
		goto out;
	t = json_object_get(o, "targets");
	if (!json_is_array(t) || json_array_size(t) == 0) {
		admin_error(r, 400, "targets", "targets: an array of one or more addresses");
		goto out;
	}
	json_array_foreach(t, i, v) {
		if (!json_is_string(v) || n + strlen(json_string_value(v)) + 2 > sizeof targets) {
			admin_error(r, 400, "targets", "targets: an array of addresses (strings), not too many");
			goto out;
		}
		n += (size_t)snprintf(targets + n, sizeof targets - n, "%s%s", n ? "," : "", json_string_value(v));
	}
	if ((rc = ops_alias_set(r->store, r->m.arg, targets, &e))) {
		admin_op_error(r, rc, &e);
		goto out;
	}
	snprintf(r->what, sizeof r->what, "alias add %.320s %.150s", r->m.arg, targets);
	answer_alias(r, 200);
out:
	json_decref(o);
}

void admin_alias_remove(struct admin_req *r)
{
	struct ops_err e;
	int rc;

	if ((rc = ops_alias_remove(r->store, r->m.arg, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "alias remove %s", r->m.arg);
	admin_ok_empty(r, 200);
}

static void answer_catchall(struct admin_req *r)
{
	char out[320];
	struct ops_err e;
	struct jw j;
	int rc;

	if ((rc = ops_alias_list_check(r->store, r->m.arg, &e)))
		return admin_op_error(r, rc, &e);
	if (store_catchall_get(r->store, r->m.arg, out, sizeof out))
		return admin_error(r, 500, NULL, "cannot read the catch-all");
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "domain", r->m.arg);
	jw_key(&j, "target");
	out[0] ? jw_str(&j, out) : jw_null(&j);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}

void admin_catchall_show(struct admin_req *r)
{
	answer_catchall(r);
}

/* {"target": "a@b.example"} or {"target": null}: off. */
void admin_catchall_set(struct admin_req *r)
{
	static const char *const keys[] = { "target", NULL };
	json_t *o = admin_body(r), *t;
	struct ops_err e;
	int rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0) {
		t = json_object_get(o, "target");
		if (!t || !(json_is_string(t) || json_is_null(t))) {
			admin_error(r, 400, "target", "target: an address, or null for none");
		} else if ((rc = ops_catchall_set(r->store, r->m.arg, json_is_string(t) ? json_string_value(t) : NULL,
		                                  &e))) {
			admin_op_error(r, rc, &e);
		} else {
			snprintf(r->what, sizeof r->what, "domain catchall %.255s %.200s", r->m.arg,
			         json_is_string(t) ? json_string_value(t) : "off");
			answer_catchall(r);
		}
	}
	json_decref(o);
}

static void answer_contact(struct admin_req *r)
{
	char out[320], msg[400];
	struct jw j;
	int dflt = 0, rc = store_account_get_contact(r->store, r->m.arg, out, sizeof out, &dflt);

	if (rc == STORE_ENOTFOUND) {
		snprintf(msg, sizeof msg, "account %s does not exist", r->m.arg);
		return admin_error(r, 404, NULL, msg);
	}
	if (rc)
		return admin_error(r, 500, NULL, "cannot read the contact");
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "account", r->m.arg);
	jw_key(&j, "address");
	out[0] ? jw_str(&j, out) : jw_null(&j);
	jw_kbool(&j, "default", dflt);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}

void admin_contact_show(struct admin_req *r)
{
	answer_contact(r);
}

/* {"address": "a@b.example"} or {"address": null}: back to the first mailbox. */
void admin_contact_set(struct admin_req *r)
{
	static const char *const keys[] = { "address", NULL };
	json_t *o = admin_body(r), *a;
	struct ops_err e;
	int rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0) {
		a = json_object_get(o, "address");
		if (!a || !(json_is_string(a) || json_is_null(a))) {
			admin_error(r, 400, "address", "address: an address, or null for the default");
		} else if ((rc = ops_contact_set(r->store, r->m.arg, json_is_string(a) ? json_string_value(a) : NULL,
		                                 &e))) {
			admin_op_error(r, rc, &e);
		} else {
			snprintf(r->what, sizeof r->what, "account contact %.64s %.320s", r->m.arg,
			         json_is_string(a) ? json_string_value(a) : "default");
			answer_contact(r);
		}
	}
	json_decref(o);
}
