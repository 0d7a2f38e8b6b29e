/*
 * admin_spam: the admin API's per-domain spam choice, on a worker, as
 * `hostmailctl domain spam` (ops/ops.h, store/store_spam.h):
 *   GET /api/domains/DOMAIN/spam              {"domain": D, "spam": CHOICE}
 *   PUT /api/domains/DOMAIN/spam {"spam": C}  the same, after the change
 * CHOICE is subject, headers, refuse or default (the provider's).
 */
#include "admin/admin_reply.h"
#include "ops/ops.h"
#include <stdio.h>
#include <string.h>

static void answer(struct admin_req *r, const char *domain)
{
	char spam[16];
	struct ops_err e;
	struct jw j;
	int rc;

	if ((rc = ops_domain_spam_get(r->store, domain, spam, sizeof spam, &e)))
		return admin_op_error(r, rc, &e);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kstr(&j, "domain", domain);
	jw_kstr(&j, "spam", spam);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}

void admin_spam_show(struct admin_req *r)
{
	answer(r, r->m.arg);
}

void admin_spam_set(struct admin_req *r)
{
	static const char *const keys[] = { "spam", NULL };
	const char *spam = NULL;
	json_t *o = admin_body(r);
	struct ops_err e;
	int rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) == 0 && admin_get_str(r, o, "spam", 1, &spam) > 0) {
		if ((rc = ops_domain_spam_set(r->store, r->m.arg, spam, &e)))
			admin_op_error(r, rc, &e);
		else {
			snprintf(r->what, sizeof r->what, "domain spam %s %s", r->m.arg, spam);
			answer(r, r->m.arg);
		}
	}
	json_decref(o);
}
