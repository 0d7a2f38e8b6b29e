/*
 * admin_dkim: the admin API's DKIM and DNS resources of a domain, on a
 * worker, through ops/ops_dkim.h as hostmailctl domain dkim / domain dns.
 * Unlike hostmailctl's bare `domain dkim DOMAIN`, the GET never makes
 * keys (a GET changes nothing, and read-only tokens may send it): a
 * domain without keys gets its first, active ones from POST .../rotate.
 * The keys are read without their private halves, so none can leak here.
 */
#include "admin/admin_reply.h"
#include "ops/ops_dkim.h"
#include "ops/ops_json.h"
#include "util/config.h"
#include <stdio.h>
#include <stdlib.h>

static void answer_keys(struct admin_req *r, const struct ops_dkim_keys *l)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "domain", r->m.arg);
	jw_key(&j, "selectors");
	jw_arr(&j);
	for (size_t i = 0; i < l->n; i++) {
		jw_obj(&j);
		jw_kstr(&j, "selector", l->k[i].selector);
		jw_kint(&j, "generation", l->k[i].generation);
		jw_kstr(&j, "algorithm", dkim_alg_name(l->k[i].alg));
		jw_kstr(&j, "state", dkim_state_name(l->k[i].state));
		ops_json_time(&j, "created", (time_t)l->k[i].created);
		jw_kstr(&j, "public_key", l->k[i].public_key);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}

/* The keys, or the refusal, as the answer; l freed. */
static void keys_answer(struct admin_req *r, struct ops_dkim_keys *l, int rc, const struct ops_err *e)
{
	if (rc)
		admin_op_error(r, rc, e);
	else
		answer_keys(r, l);
	free(l);
}

void admin_dkim_show(struct admin_req *r)
{
	struct ops_dkim_keys *l = calloc(1, sizeof *l);
	struct ops_err e;

	if (!l)
		return admin_error(r, 500, NULL, "out of memory");
	keys_answer(r, l, ops_dkim_keys(r->store, r->m.arg, l, &e), &e);
}

void admin_dkim_rotate(struct admin_req *r)
{
	struct ops_dkim_keys *l = calloc(1, sizeof *l);
	struct ops_err e;
	int rc, gen;

	if (!l)
		return admin_error(r, 500, NULL, "out of memory");
	if ((rc = ops_dkim_rotate(r->store, r->m.arg, l, &gen, &e)) == 0)
		snprintf(r->what, sizeof r->what, "domain dkim %s --rotate", r->m.arg);
	keys_answer(r, l, rc, &e);
}

void admin_dkim_activate(struct admin_req *r)
{
	static const char *const keys[] = { "selector", NULL };
	const char *selector = NULL;
	json_t *o = admin_body(r);
	struct ops_dkim_keys *l;
	struct ops_err e;
	int rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0 && admin_get_str(r, o, "selector", 1, &selector) > 0) {
		if (!(l = calloc(1, sizeof *l)))
			admin_error(r, 500, NULL, "out of memory");
		else {
			if ((rc = ops_dkim_activate(r->store, r->m.arg, selector, l, &e)) == 0)
				snprintf(r->what, sizeof r->what, "domain dkim %s --activate %s", r->m.arg, selector);
			keys_answer(r, l, rc, &e);
		}
	}
	json_decref(o);
}

void admin_dns(struct admin_req *r)
{
	struct dns_record *rec = calloc(DNS_RECORDS_MAX, sizeof *rec);
	struct ops_err e;
	struct buf zone;
	struct jw j;
	int rc, n = 0;

	if (!rec)
		return admin_error(r, 500, NULL, "out of memory");
	buf_init(&zone, 0);
	if ((rc = ops_dns(r->store, r->cfg, r->m.arg, &zone, rec, DNS_RECORDS_MAX, &n, &e))) {
		admin_op_error(r, rc, &e);
	} else {
		jw_init(&j, &r->out);
		jw_obj(&j);
		jw_kstr(&j, "domain", r->m.arg);
		jw_kstr(&j, "zone", zone.data ? zone.data : "");
		jw_key(&j, "records");
		jw_arr(&j);
		for (int i = 0; i < n; i++) {
			jw_obj(&j);
			jw_kstr(&j, "type", rec[i].type == DNS_RR_MX ? "MX" : "TXT");
			jw_kstr(&j, "name", rec[i].name);
			jw_kstr(&j, "value", rec[i].value);
			jw_kstr(&j, "what", rec[i].what);
			jw_kbool(&j, "suggestion", rec[i].suggestion);
			jw_obj_end(&j);
		}
		jw_arr_end(&j);
		jw_obj_end(&j);
		admin_ok(r, 200, &j);
	}
	buf_free(&zone);
	free(rec);
}
