/*
 * ops_node: the nodes of a fleet (store/store_node.h, docs/cluster.md) as
 * the administrator handles them: hostmailctl node add/list/drain/remove
 * (cmd/ctl_node.c) and the home of a new account (ops_account_add).
 */
#ifndef HM_OPS_NODE_H
#define HM_OPS_NODE_H
#include "ops/ops.h"
#include "store/store_node.h"

/* imap may be NULL or "". */
int ops_node_add(struct store *st, int number, const char *lmtp, const char *pop3, const char *imap,
                 struct ops_err *e);
/* drain 1: no new accounts; 0: active again. */
int ops_node_drain(struct store *st, int number, int drain, struct ops_err *e);
/* Refused (STORE_EEXIST) while accounts live there. */
/* imap: HOST:PORT, or "" for none. */
int ops_node_set_imap(struct store *st, int number, const char *imap, struct ops_err *e);
int ops_node_remove(struct store *st, int number, struct ops_err *e);
/* The home of a new account into *out. requested -1 (not given): the
 * active node with the fewest mailboxes, or 1 when the store has no nodes
 * (one hostmail, as before nodes existed). A number given must be an
 * active node when the store has nodes; without nodes any number is kept. */
int ops_node_home_for_new(struct store *st, int requested, int *out, struct ops_err *e);

#endif
