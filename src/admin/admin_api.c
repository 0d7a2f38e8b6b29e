/*
 * admin_api: the admin API's requests on a worker: the bearer token
 * (admin_token.h), the route (admin_route.h), then the resource's handler
 * (admin_accounts.c, admin_mail.c, admin_dkim.c, admin_quota.c,
 * admin_nodes.c...: the operation hostmailctl runs,
 * ops/ops.h, answered by admin_reply.c). Errors are
 * {"error": TEXT, "field": NAME?} with 400 (bad input, the field at
 * fault), 401, 403 (a read-only token changing), 404, 405, 409
 * (duplicates), 500, 503 (no hostmaild queue runner answering).
 */
#include "admin/admin_reply.h"
#include "util/config.h"
#include <string.h>
#include <strings.h>

static void openapi(struct admin_req *r)
{
	if (buf_puts(&r->out, admin_openapi_json) < 0)
		return admin_error(r, 500, NULL, "out of memory");
	r->status = 200;
}

static void run_op(struct admin_req *r)
{
	switch (r->m.route->op) {
	case OP_OPENAPI: return openapi(r);
	case OP_ACCOUNT_LIST: return admin_account_list(r);
	case OP_ACCOUNT_ADD: return admin_account_add(r);
	case OP_ACCOUNT_SHOW: return admin_account_show(r);
	case OP_ACCOUNT_REMOVE: return admin_account_remove(r);
	case OP_ACCOUNT_LIMITS: return admin_account_limits(r);
	case OP_ACCOUNT_SUSPEND: return admin_account_suspend(r, 1);
	case OP_ACCOUNT_RESUME: return admin_account_suspend(r, 0);
	case OP_ACCOUNT_PASSWORD: return admin_set_password(r, 1);
	case OP_ACCOUNT_LOGOUT: return admin_account_logout(r);
	case OP_DOMAIN_LIST: return admin_domain_list(r);
	case OP_DOMAIN_ADD: return admin_domain_add(r);
	case OP_DOMAIN_REMOVE: return admin_domain_remove(r);
	case OP_DKIM_SHOW: return admin_dkim_show(r);
	case OP_DKIM_ROTATE: return admin_dkim_rotate(r);
	case OP_DKIM_ACTIVATE: return admin_dkim_activate(r);
	case OP_DNS_SHOW: return admin_dns(r);
	case OP_ALIAS_LIST: return admin_alias_list(r);
	case OP_ALIAS_SHOW: return admin_alias_show(r);
	case OP_ALIAS_SET: return admin_alias_set(r);
	case OP_ALIAS_REMOVE: return admin_alias_remove(r);
	case OP_CATCHALL_SHOW: return admin_catchall_show(r);
	case OP_CATCHALL_SET: return admin_catchall_set(r);
	case OP_CONTACT_SHOW: return admin_contact_show(r);
	case OP_CONTACT_SET: return admin_contact_set(r);
	case OP_MAILBOX_LIST: return admin_mailbox_list(r);
	case OP_MAILBOX_ADD: return admin_mailbox_add(r);
	case OP_MAILBOX_SHOW: return admin_mailbox_show(r);
	case OP_MAILBOX_PASSWORD: return admin_set_password(r, 0);
	case OP_MAILBOX_REMOVE: return admin_mailbox_remove(r);
	case OP_RELAY_LIST: return admin_relay_list(r);
	case OP_RELAY_REVOKE: return admin_relay_revoke(r);
	case OP_QUEUE_LIST: return admin_queue_list(r);
	case OP_QUEUE_FLUSH_ALL: return admin_queue_ask(r, "FLUSH", NULL);
	case OP_QUEUE_SHOW: return admin_queue_show(r);
	case OP_QUEUE_DELETE: return admin_queue_ask(r, "DELETE", r->m.arg);
	case OP_QUEUE_FLUSH: return admin_queue_ask(r, "FLUSH", r->m.arg);
	case OP_QUEUE_BOUNCE: return admin_queue_ask(r, "BOUNCE", r->m.arg);
	case OP_QUEUE_HOLD: return admin_queue_hold(r);
	case OP_QUEUE_RELEASE: return admin_queue_release(r);
	case OP_SPAM_SHOW: return admin_spam_show(r);
	case OP_SPAM_SET: return admin_spam_set(r);
	case OP_QUOTA_SET: return admin_quota_set(r);
	case OP_VACATION_SHOW: return admin_vacation_show(r);
	case OP_VACATION_SET: return admin_vacation_set(r);
	case OP_VACATION_OFF: return admin_vacation_off(r);
	case OP_NODE_LIST: return admin_node_list(r);
	case OP_NODE_ADD: return admin_node_add(r);
	case OP_NODE_DRAIN: return admin_node_drain(r, 1);
	case OP_NODE_ACTIVATE: return admin_node_drain(r, 0);
	case OP_NODE_REMOVE: return admin_node_remove(r);
	case OP_MOVE_LIST: return admin_move_list(r);
	}
	admin_error(r, 500, NULL, "no such operation");
}

/* The bearer token: 1 valid (r->token its name), 0 refused (401 set). */
static int authenticate(struct admin_req *r, int *read_only)
{
	static const char scheme[] = "Bearer ";
	struct admin_token list[ADMIN_TOKENS_MAX];
	const char *tok = r->authorization;
	int n, i, named = 0;

	if (!*tok) {
		admin_error(r, 401, NULL, "a bearer token is needed (Authorization: Bearer TOKEN)");
		r->www_authenticate = 1;
		return 0;
	}
	r->auth_failed = 1;      /* until proven otherwise */
	if (r->auth_too_long || strncasecmp(tok, scheme, sizeof scheme - 1) != 0) {
		admin_error(r, 401, NULL, "the token is not valid");
		r->www_authenticate = 1;
		return 0;
	}
	tok += sizeof scheme - 1;
	if ((n = admin_token_load(r->cfg->data_dir, list, ADMIN_TOKENS_MAX)) < 0) {
		r->auth_failed = 0;
		admin_error(r, 500, NULL, "cannot read the tokens");
		return 0;
	}
	i = admin_token_match(list, (size_t)n, tok, &named);
	if (i < 0) {
		if (named) { /* a name we know, so it is safe to log */
			size_t nl = (size_t)(strrchr(tok, '.') - tok);
			memcpy(r->token, tok, nl < sizeof r->token ? nl : sizeof r->token - 1);
		}
		admin_error(r, 401, NULL, "the token is not valid");
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
		return admin_error(r, 404, NULL, "no such resource");
	if (rr == ROUTE_BAD_PATH)
		return admin_error(r, 400, NULL, "the path has a bad segment (escape, NUL or /)");
	if (rr == ROUTE_BAD_METHOD) {
		return admin_error(r, 405, NULL, "method not allowed on this resource");
	}
	if (r->m.route->change && read_only)
		return admin_error(r, 403, NULL, "this token is read-only");
	run_op(r);
}
