/*
 * admin_quarantine: the admin API's hold and release of a queued message
 * (POST /api/queue/ID/hold, POST /api/queue/ID/release), on a worker, as
 * `hostmailctl queue hold` and `queue release` (ops/ops.h).
 */
#include "admin/admin_reply.h"
#include "ops/ops.h"
#include "util/config.h"
#include <stdio.h>
#include <string.h>

/* The body is optional: none, or {"reason": TEXT}. */
void admin_queue_hold(struct admin_req *r)
{
	static const char *const keys[] = { "reason", NULL };
	const char *reason = NULL;
	json_t *o = NULL;
	struct ops_err e;
	int rc;

	if (r->body.len > 0) {
		if (!(o = admin_body(r)))
			return;
		if (admin_only(r, o, keys) != 0 || admin_get_str(r, o, "reason", 0, &reason) < 0) {
			json_decref(o);
			return;
		}
	}
	rc = ops_queue_hold(r->cfg->data_dir, r->m.arg, reason, &e);
	if (rc == STORE_EINVAL && !strcmp(e.field, "id"))
		admin_error(r, 404, NULL, e.msg);     /* a path segment that is no id */
	else if (rc)
		admin_op_error(r, rc, &e);
	else {
		snprintf(r->what, sizeof r->what, "queue hold %s", r->m.arg);
		admin_ok_empty(r, 200);
	}
	json_decref(o);
}

void admin_queue_release(struct admin_req *r)
{
	struct ops_err e;
	struct jw j;
	int daemon, rc = ops_queue_release(r->cfg->data_dir, r->m.arg, &daemon, &e);

	if (rc == STORE_EINVAL && !strcmp(e.field, "id"))
		return admin_error(r, 404, NULL, e.msg);
	if (rc)
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "queue release %s", r->m.arg);
	jw_init(&j, &r->out);
	jw_obj(&j);
	jw_kbool(&j, "ok", 1);
	jw_kbool(&j, "tried_now", daemon);
	jw_obj_end(&j);
	admin_ok(r, 200, &j);
}
