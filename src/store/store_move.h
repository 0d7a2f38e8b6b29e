/*
 * store_move: an account moving between the nodes of a fleet (hostmailctl
 * account move, docs/cluster.md "Moving an account"). Table account_moves
 * (schema version 8) holds at most one move per account: where from,
 * where to, and whether its home was switched yet. Every step of a move
 * reads it first, so a move interrupted anywhere (kill -9 of hostmailctl
 * or of either node) goes on, or is undone, from what the store says.
 * Blocking: from hostmaild call these on a worker.
 */
#ifndef HM_STORE_MOVE_H
#define HM_STORE_MOVE_H
#include <stdint.h>
#include "store/store.h"

struct store;

struct account_move {
	char account[STORE_NAME_MAX];
	int from_node, to_node;
	int switched;          /* the account's server number is to_node now */
	int64_t started;       /* Unix time */
};

/* Start moving account to node `to` (from its server number now), or find
 * the move already under way to the same node: 0 with *out. STORE_EEXIST:
 * a move to another node is under way (out says which); STORE_EINVAL: it
 * lives on `to` already; STORE_ENOTFOUND; STORE_EFAIL. */
int store_move_begin(struct store *st, const char *account, int to, int64_t now, struct account_move *out,
                     char *err, size_t errlen);
/* 0 with *out, STORE_ENOTFOUND (no move), STORE_EFAIL. */
int store_move_get(struct store *st, const char *account, struct account_move *out);
/* One transaction: the account's server number becomes the move's to_node
 * and the move is marked switched. Again after that: 0, nothing changes.
 * STORE_ENOTFOUND (no move), STORE_EFAIL. */
int store_move_switch(struct store *st, const char *account, char *err, size_t errlen);
/* The move is over (done, or aborted before its switch): forget it. 0,
 * STORE_ENOTFOUND, STORE_EFAIL. */
int store_move_end(struct store *st, const char *account, char *err, size_t errlen);
/* Every move under way, by account name (GET /api/moves). cb returning
 * non-zero stops the walk. 0 or STORE_EFAIL. */
int store_move_list(struct store *st, int (*cb)(const struct account_move *, void *), void *arg);

#endif
