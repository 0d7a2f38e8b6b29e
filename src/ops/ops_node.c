/*
 * ops_node: the administrator's node operations (ops_node.h): checks,
 * the store's call, and the refusal's words.
 */
#include "ops/ops_node.h"
#include "ops/ops_json.h"
#include "store/store_move.h"
#include "util/jw.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ops_node_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 1 || v > NODE_NUMBER_MAX ? -1 : (int)v;
}

int ops_node_add(struct store *st, int number, const char *lmtp, const char *pop3, const char *imap,
                 struct ops_err *e)
{
	struct node n;
	char err[512];
	int rc;

	memset(&n, 0, sizeof n);
	if (number < 1 || number > NODE_NUMBER_MAX)
		return ops_fail(e, STORE_EINVAL, "number", "the node number must be 1 to %d", NODE_NUMBER_MAX);
	n.number = number;
	if (!lmtp || snprintf(n.lmtp, sizeof n.lmtp, "%s", lmtp) >= (int)sizeof n.lmtp ||
	    node_addr_parse(n.lmtp, NULL, 0, NULL) < 0)
		return ops_fail(e, STORE_EINVAL, "lmtp", "--lmtp needs HOST:PORT (the node's [listen] lmtp)");
	if (!pop3 || snprintf(n.pop3, sizeof n.pop3, "%s", pop3) >= (int)sizeof n.pop3 ||
	    node_addr_parse(n.pop3, NULL, 0, NULL) < 0)
		return ops_fail(e, STORE_EINVAL, "pop3", "--pop3 needs HOST:PORT (the node's POP3 listener)");
	if (imap && *imap && (snprintf(n.imap, sizeof n.imap, "%s", imap) >= (int)sizeof n.imap ||
	                      node_addr_parse(n.imap, NULL, 0, NULL) < 0))
		return ops_fail(e, STORE_EINVAL, "imap", "--imap needs HOST:PORT (the node's IMAP listener)");
	if ((rc = store_node_add(st, &n, err, sizeof err)))
		return ops_fail(e, rc, rc == STORE_EINVAL ? "number" : NULL, "%s", err);
	return 0;
}

int ops_node_drain(struct store *st, int number, int drain, struct ops_err *e)
{
	char err[512];
	int rc = store_node_set_state(st, number, drain ? NODE_DRAINING : NODE_ACTIVE, err, sizeof err);

	return rc ? ops_fail(e, rc, NULL, "%s", err) : 0;
}

int ops_node_set_imap(struct store *st, int number, const char *imap, struct ops_err *e)
{
	char err[512];
	int rc;

	if (strlen(imap) >= NODE_ADDR_MAX || (*imap && node_addr_parse(imap, NULL, 0, NULL) < 0))
		return ops_fail(e, STORE_EINVAL, "imap", "the IMAP address needs HOST:PORT (the node's "
		                "[imap] listen_cluster), or \"-\" for none");
	rc = store_node_set_imap(st, number, imap, err, sizeof err);
	return rc ? ops_fail(e, rc, NULL, "%s", err) : 0;
}

int ops_node_remove(struct store *st, int number, struct ops_err *e)
{
	char err[512];
	int rc = store_node_remove(st, number, err, sizeof err);

	return rc ? ops_fail(e, rc, NULL, "%s", err) : 0;
}

int ops_node_home_for_new(struct store *st, int requested, int *out, struct ops_err *e)
{
	struct node n;
	int count, rc;

	if (store_node_count(st, &count))
		return ops_fail(e, STORE_EFAIL, NULL, "cannot read the nodes (store error)");
	if (count == 0) {
		*out = requested == -1 ? 1 : requested;   /* the store checks the range */
		return 0;
	}
	if (requested == -1) {
		rc = store_node_pick(st, out);
		if (rc == STORE_ENOTFOUND)
			return ops_fail(e, STORE_EINVAL, "server_number", "every node is draining: no home for a new"
			                " account (hostmailctl node add, or give --server-number)");
		return rc ? ops_fail(e, STORE_EFAIL, NULL, "cannot read the nodes (store error)") : 0;
	}
	rc = store_node_get(st, requested, &n);
	if (rc == STORE_ENOTFOUND)
		return ops_fail(e, STORE_EINVAL, "server_number", "server number %d is not a node of this fleet"
		                " (hostmailctl node list)", requested);
	if (rc)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot read node %d (store error)", requested);
	if (n.state == NODE_DRAINING)
		return ops_fail(e, STORE_EINVAL, "server_number", "node %d is draining: it takes no new accounts",
		                requested);
	*out = requested;
	return 0;
}

struct find_node {
	int number;
	struct node *out;
	int found;
};

static int find_node(const struct node *n, void *arg)
{
	struct find_node *f = arg;

	if (n->number != f->number)
		return 0;
	*f->out = *n;
	f->found = 1;
	return 1;
}

int ops_node_show(struct store *st, int number, struct node *out, struct ops_err *e)
{
	struct find_node f = { number, out, 0 };

	if (store_node_list(st, find_node, &f))
		return ops_fail(e, STORE_EFAIL, NULL, "cannot list the nodes (store error)");
	return f.found ? 0 : ops_fail(e, STORE_ENOTFOUND, NULL, "node %d does not exist", number);
}

void ops_json_node(struct jw *j, const struct node *n)
{
	jw_obj(j);
	jw_kint(j, "number", n->number);
	jw_kstr(j, "state", node_state_name(n->state));
	jw_kstr(j, "lmtp", n->lmtp);
	jw_kstr(j, "pop3", n->pop3);
	jw_kstr(j, "imap", n->imap);
	jw_kint(j, "accounts", n->accounts);
	jw_kint(j, "mailboxes", n->mailboxes);
	jw_obj_end(j);
}

void ops_json_move(struct jw *j, const struct account_move *m)
{
	jw_obj(j);
	jw_kstr(j, "account", m->account);
	jw_kint(j, "from_node", m->from_node);
	jw_kint(j, "to_node", m->to_node);
	jw_kbool(j, "switched", m->switched);
	ops_json_time(j, "started", (time_t)m->started);
	jw_obj_end(j);
}
