/*
 * admin_quota: the admin API's view of a mailbox's quota and usage and
 * of its autoresponder (docs/quotas.md, docs/vacation.md), in
 * GET /api/mailboxes/ADDRESS. On a worker.
 */
#include "admin/admin_reply.h"
#include "ops/ops_json.h"
#include "ops/ops_quota.h"
#include "util/config.h"
#include <stdlib.h>

void admin_mailbox_json(struct admin_req *r, struct jw *j, const struct mailbox *m)
{
	struct ops_quota_info qi;
	struct vacation *v = malloc(sizeof *v);
	struct ops_err e;

	if (v && ops_quota_info(r->store, r->cfg->data_dir, m->address, &qi, &e) == 0 &&
	    ops_vacation_get(r->store, m->address, v, &e) == 0)
		ops_json_mailbox_quota(j, m, &qi, v->enabled);
	else
		ops_json_mailbox(j, m);   /* the Maildir could not be read: the rest still answers */
	free(v);
}
