/*
 * ctl_node: hostmailctl's node verbs (docs/cluster.md), printing what
 * ops/ops_node.h does.
 *   node add N --lmtp HOST:PORT --pop3 HOST:PORT [--imap HOST:PORT]
 *   node list [--json]      NUMBER STATE LMTP POP3 IMAP ACCOUNTS MAILBOXES
 *   node drain N            no new accounts on N (its accounts stay)
 *   node activate N         N takes new accounts again
 *   node remove N           refused while accounts live there
 */
#include "cmd/ctl.h"
#include "ops/ops_node.h"
#include "util/buf.h"
#include "util/jw.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_node_add(struct ctl *c, int argc, char **argv)
{
	const char *lmtp = NULL, *pop3 = NULL, *imap = NULL;
	struct ops_err e;
	int n = ops_node_number(argv[0]);

	if (n < 0)
		return fail("node add: the node number must be 1 to %d", NODE_NUMBER_MAX);
	for (int i = 1; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--lmtp") ? &lmtp : !strcmp(argv[i], "--pop3") ? &pop3
		                 : !strcmp(argv[i], "--imap") ? &imap : NULL;
		if (!dst || i + 1 >= argc)
			return fail("usage: node add N --lmtp HOST:PORT --pop3 HOST:PORT [--imap HOST:PORT]");
		*dst = argv[++i];
	}
	if (!lmtp || !pop3)
		return fail("usage: node add N --lmtp HOST:PORT --pop3 HOST:PORT [--imap HOST:PORT]");
	if (!store(c))
		return 1;
	return ops_node_add(c->st, n, lmtp, pop3, imap, &e) ? fail("%s", e.msg) : 0;
}

static int print_node(const struct node *n, void *arg)
{
	struct jw *j = arg;

	if (!j) {
		printf("%d %s %s %s %s %d %d\n", n->number, node_state_name(n->state), n->lmtp, n->pop3,
		       n->imap[0] ? n->imap : "-", n->accounts, n->mailboxes);
		return 0;
	}
	ops_json_node(j, n);
	return 0;
}

int ctl_node_list(struct ctl *c, int argc, char **argv)
{
	struct buf b;
	struct jw j;

	(void)argc, (void)argv;
	if (!store(c))
		return 1;
	if (!c->json)
		return store_node_list(c->st, print_node, NULL) ? fail("cannot list the nodes") : 0;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	if (store_node_list(c->st, print_node, &j))
		return buf_free(&b), fail("cannot list the nodes");
	jw_arr_end(&j);
	return ctl_put_json(&b, &j);
}

static int set_drain(struct ctl *c, const char *arg, int drain)
{
	struct ops_err e;
	int n = ops_node_number(arg);

	if (n < 0)
		return fail("the node number must be 1 to %d", NODE_NUMBER_MAX);
	if (!store(c))
		return 1;
	return ops_node_drain(c->st, n, drain, &e) ? fail("%s", e.msg) : 0;
}

int ctl_node_drain(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return set_drain(c, argv[0], 1);
}

int ctl_node_activate(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return set_drain(c, argv[0], 0);
}

/* `node set-imap N HOST:PORT|-`: where the other nodes' IMAP proxies
 * reach node N (its [imap] listen_cluster); "-" for none. */
int ctl_node_set_imap(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	int n = ops_node_number(argv[0]);

	(void)argc;
	if (n < 0)
		return fail("node set-imap: the node number must be 1 to %d", NODE_NUMBER_MAX);
	if (!store(c))
		return 1;
	return ops_node_set_imap(c->st, n, strcmp(argv[1], "-") ? argv[1] : "", &e) ? fail("%s", e.msg) : 0;
}

int ctl_node_remove(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	int n = ops_node_number(argv[0]);

	(void)argc;
	if (n < 0)
		return fail("node remove: the node number must be 1 to %d", NODE_NUMBER_MAX);
	if (!store(c))
		return 1;
	return ops_node_remove(c->st, n, &e) ? fail("%s", e.msg) : 0;
}
