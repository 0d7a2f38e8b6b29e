/*
 * ops_node: the administrator's node operations (ops_node.h): checks,
 * the store's call, and the refusal's words.
 */
#include "ops/ops_node.h"
#include <stdio.h>
#include <string.h>

int ops_node_add(struct store *st, int number, const char *lmtp, const char *pop3, const char *imap,
                 struct ops_err *e)
{
	struct node n;
	char err[512];
	int rc;

	memset(&n, 0, sizeof n);
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
