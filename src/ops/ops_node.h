/*
 * ops_node: the nodes of a fleet (store/store_node.h, docs/cluster.md) as
 * the administrator handles them: hostmailctl node add/list/drain/remove
 * (cmd/ctl_node.c), the admin API's /api/nodes and /api/moves
 * (admin/admin_nodes.c), and the home of a new account (ops_account_add).
 */
#ifndef HM_OPS_NODE_H
#define HM_OPS_NODE_H
#include "ops/ops.h"
#include "store/store_node.h"

/* A node number as text: 1..NODE_NUMBER_MAX, or -1. */
int ops_node_number(const char *s);
/* imap may be NULL or "". */
int ops_node_add(struct store *st, int number, const char *lmtp, const char *pop3, const char *imap,
                 struct ops_err *e);
/* drain 1: no new accounts; 0: active again. */
int ops_node_drain(struct store *st, int number, int drain, struct ops_err *e);
/* Refused (STORE_EEXIST) while accounts live there. */
/* imap: HOST:PORT, or "" for none. */
int ops_node_set_imap(struct store *st, int number, const char *imap, struct ops_err *e);
int ops_node_remove(struct store *st, int number, struct ops_err *e);
/* Node number with its counts (as node list shows it) into out. */
int ops_node_show(struct store *st, int number, struct node *out, struct ops_err *e);
/* The home of a new account into *out. requested -1 (not given): the
 * active node with the fewest mailboxes, or 1 when the store has no nodes
 * (one hostmail, as before nodes existed). A number given must be an
 * active node when the store has nodes; without nodes any number is kept. */
int ops_node_home_for_new(struct store *st, int requested, int *out, struct ops_err *e);

/* The JSON of node list --json and the admin API:
 * {number, state, lmtp, pop3, imap, accounts, mailboxes} */
struct jw;
struct account_move;
void ops_json_node(struct jw *j, const struct node *n);
/* A move under way: {account, from_node, to_node, switched, started} */
void ops_json_move(struct jw *j, const struct account_move *m);

#endif
