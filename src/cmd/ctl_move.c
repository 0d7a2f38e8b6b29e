/*
 * ctl_move: hostmailctl account move (docs/cluster.md "Moving an
 * account"), run on the account's old home node:
 *   account move NAME --to N     move, or go on with an interrupted move
 *   account move NAME --abort    undo a move that has not switched yet
 */
#include "cmd/ctl.h"
#include "cluster/move_send.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_account_move(struct ctl *c, int argc, char **argv)
{
	struct move_counts mc;
	char err[512];
	long to = -1;
	int abort_it = 0;
	char *end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--abort")) {
			abort_it = 1;
		} else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
			errno = 0;
			to = strtol(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || to < 1 || to > 99999)
				return fail("account move: --to takes a node number (1 to 99999)");
		} else {
			return fail("usage: account move NAME --to N | account move NAME --abort");
		}
	}
	if (abort_it == (to > 0))
		return fail("usage: account move NAME --to N | account move NAME --abort");
	if (!store(c))
		return 1;
	if (abort_it)
		return move_abort(c->st, &c->cfg, argv[0], stdout, err, sizeof err) == 0 ? 0 : fail("%s", err);
	if (move_account(c->st, &c->cfg, argv[0], (int)to, stdout, &mc, err, sizeof err) == 0)
		return 0;
	fflush(stdout);
	return fail("account move: %s (run it again to go on)", err);
}
