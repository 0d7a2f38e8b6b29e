/*
 * move_send: hostmailctl account move, run on the account's old home node
 * (it reads that node's Maildirs directly; docs/cluster.md "Moving an
 * account"). Every step is recorded in the store (store_move.h) or is
 * idempotent, so running it again after an interruption anywhere goes on:
 *
 * 1. begin: the move is recorded (account_moves: from, to). From now on
 *    POP3 logins of the account's mailboxes are refused, on every node,
 *    with -ERR [SYS/TEMP] (nothing changes the Maildirs but deliveries).
 *    Each Maildir's lock is taken and released once: a POP3 session that
 *    logged in before and is removing messages at QUIT finishes first, and
 *    later QUITs find the move and remove nothing (pop3/pop3_update.h);
 *    IMAP logins are refused by Dovecot's passdb (imap/dovecot_conf.c).
 * 2. copy: every file of new/ and cur/ of each mailbox goes to the new home
 *    over the internal endpoint (XMOVE PUT, cluster/move_recv.h): same
 *    file name (so the same POP3 UIDL), size and SHA-256 checked there,
 *    fsynced; a file whose unique name is there already is not sent again.
 * 3. switch: one transaction makes the new node the account's home. Mail
 *    that arrives anywhere from now on goes to the new home (internal
 *    delivery); POP3 is served (or proxied) there.
 * 4. catch up: after MOVE_GRACE_MS (deliveries to this node that started
 *    before the switch finish), the Maildirs are copied again: only what
 *    arrived meanwhile is sent.
 * 5. remove: a last pass confirms each file at the new home and only then
 *    unlinks it here; the move's record is removed: logins work again.
 *
 * --abort before step 3: the new home drops what it got (XMOVE DROP) and
 * the record goes; the account never left. After step 3 the move can only
 * be finished.
 */
#ifndef HM_MOVE_SEND_H
#define HM_MOVE_SEND_H
#include <stddef.h>
#include <stdio.h>

struct store;
struct config;

#define MOVE_GRACE_MS 2000
#define MOVE_LOCK_WAIT_MS 60000    /* for a POP3 QUIT still removing messages (delivery/maildir_lock.h) */

struct move_counts {
	int mailboxes;
	long sent, present, removed;
};

/* Move (or go on moving) account to node to. Progress lines on out. 0, or
 * -1 with err (run it again: it goes on from where it stopped). */
int move_account(struct store *st, const struct config *cfg, const char *account, int to, FILE *out,
                 struct move_counts *mc, char *err, size_t errlen);
/* Undo a move that has not switched. 0 or -1 with err. */
int move_abort(struct store *st, const struct config *cfg, const char *account, FILE *out, char *err,
               size_t errlen);

#endif
