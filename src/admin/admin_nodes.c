/*
 * admin_nodes: the admin API's nodes of a fleet and account moves, on a
 * worker, as hostmailctl node add/list/drain/activate/remove
 * (ops/ops_node.h, docs/cluster.md):
 *   GET /api/nodes, POST /api/nodes {"number", "lmtp", "pop3", "imap"?}
 *   POST /api/nodes/N/drain, POST /api/nodes/N/activate, DELETE /api/nodes/N
 *   GET /api/moves        the moves under way (read only: a move runs for
 *                         minutes on the old home, so it stays hostmailctl's)
 */
#include "admin/admin_reply.h"
#include "ops/ops_node.h"
#include "store/store_move.h"
#include <stdio.h>

static int list_node(const struct node *n, void *arg)
{
	ops_json_node(arg, n);
	return 0;
}

void admin_node_list(struct admin_req *r)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_node_list(r->store, list_node, &j))
		return admin_error(r, 500, NULL, "cannot list the nodes");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}

/* Node number's answer, as node list shows it. */
static void node_answer(struct admin_req *r, int number, int status)
{
	struct ops_err e;
	struct node n;
	struct jw j;
	int rc;

	if ((rc = ops_node_show(r->store, number, &n, &e)))
		return admin_op_error(r, rc, &e);
	jw_init(&j, &r->out);
	ops_json_node(&j, &n);
	admin_ok(r, status, &j);
}

void admin_node_add(struct admin_req *r)
{
	static const char *const keys[] = { "number", "lmtp", "pop3", "imap", NULL };
	const char *lmtp = NULL, *pop3 = NULL, *imap = NULL;
	json_t *o = admin_body(r), *num;
	struct ops_err e;
	int rc;

	if (!o)
		return;
	if (admin_only(r, o, keys) < 0)
		goto out;
	num = json_object_get(o, "number");
	if (!num || !json_is_integer(num) || json_integer_value(num) < 1 || json_integer_value(num) > NODE_NUMBER_MAX) {
		admin_error(r, 400, "number", "the node number must be 1 to 99999");
		goto out;
	}
	if (admin_get_str(r, o, "lmtp", 1, &lmtp) < 0 || admin_get_str(r, o, "pop3", 1, &pop3) < 0 ||
	    admin_get_str(r, o, "imap", 0, &imap) < 0)
		goto out;
	if ((rc = ops_node_add(r->store, (int)json_integer_value(num), lmtp, pop3, imap, &e))) {
		admin_op_error(r, rc, &e);
		goto out;
	}
	snprintf(r->what, sizeof r->what, "node add %d", (int)json_integer_value(num));
	node_answer(r, (int)json_integer_value(num), 201);
out:
	json_decref(o);
}

/* The path's node number, or -1 with 400 set. */
static int path_node(struct admin_req *r)
{
	int n = ops_node_number(r->m.arg);

	if (n < 0)
		admin_error(r, 400, NULL, "the node number must be 1 to 99999");
	return n;
}

void admin_node_drain(struct admin_req *r, int drain)
{
	struct ops_err e;
	int n = path_node(r), rc;

	if (n < 0)
		return;
	if ((rc = ops_node_drain(r->store, n, drain, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "node %s %d", drain ? "drain" : "activate", n);
	node_answer(r, n, 200);
}

void admin_node_remove(struct admin_req *r)
{
	struct ops_err e;
	int n = path_node(r), rc;

	if (n < 0)
		return;
	if ((rc = ops_node_remove(r->store, n, &e)))
		return admin_op_error(r, rc, &e);
	snprintf(r->what, sizeof r->what, "node remove %d", n);
	admin_ok_empty(r, 200);
}

static int list_move(const struct account_move *m, void *arg)
{
	ops_json_move(arg, m);
	return 0;
}

void admin_move_list(struct admin_req *r)
{
	struct jw j;

	jw_init(&j, &r->out);
	jw_arr(&j);
	if (store_move_list(r->store, list_move, &j))
		return admin_error(r, 500, NULL, "cannot list the account moves");
	jw_arr_end(&j);
	admin_ok(r, 200, &j);
}
