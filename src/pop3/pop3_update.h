/*
 * pop3_update: may the UPDATE state (QUIT after DELE, RFC 1939) remove the
 * deleted messages? On one node, always. On a node of a fleet the session
 * may have logged in before its account started moving to another node
 * (docs/cluster.md "Moving an account"): files removed after the move
 * copied them would come back at the new home. So the worker, holding the
 * Maildir's lock (delivery/maildir_lock.h), reads the account's home and
 * move from the store, and this decides. Pure: no store, no disk.
 */
#ifndef HM_POP3_UPDATE_H
#define HM_POP3_UPDATE_H

#define POP3_UPDATE_LOCK_WAIT_MS 10000   /* the move holds the lock only a moment */

enum pop3_update_verdict {
	POP3_UPDATE_REMOVE,      /* remove the deleted messages, as asked */
	POP3_UPDATE_MOVING,      /* moving, or homed elsewhere now: remove nothing */
	POP3_UPDATE_TEMPFAIL,    /* could not tell (store error, lock not taken): remove nothing */
};

struct pop3_update_facts {
	int cluster_node;        /* this node's number; 0 = no fleet (nothing else is read) */
	int locked;              /* the Maildir's lock is held */
	int account_rc;          /* store_account_get: 0, STORE_ENOTFOUND or an error */
	int server_number;       /* the account's home, when account_rc is 0 (0 = here) */
	int move_rc;             /* store_move_get: 0 (a move is recorded), STORE_ENOTFOUND or an error */
};

enum pop3_update_verdict pop3_update_decide(const struct pop3_update_facts *f);
/* The -ERR line (no CRLF) for a verdict that removes nothing; NULL for REMOVE. */
const char *pop3_update_refusal(enum pop3_update_verdict v);

#endif
