/*
 * dovecot_sql: the parts of Dovecot's password queries that the single
 * node's (dovecot_conf.c) and a fleet node's (dovecot_fleet.c) share.
 * Private to src/imap.
 */
#ifndef HM_DOVECOT_SQL_H
#define HM_DOVECOT_SQL_H

/* Both password queries refuse (nologin) a login the password would
 * allow, with the reason Dovecot gives the client as "NO [CONTACTADMIN]
 * reason": a suspended account, and an account being moved between the
 * nodes of a fleet (its row in account_moves, cluster/move_send.h), whose
 * Maildirs only deliveries may change until the move ends. An account
 * that is neither is "served" (here, or proxied to its home). */
#define SQL_SERVED "a.status = 'active' AND mv.account_id IS NULL"
#define SQL_REFUSE_COMMENT \
	"# A suspended account, or one being moved to another node (hostmailctl\n" \
	"# account move), is refused with a reason (nologin).\n"
#define SQL_REFUSE \
	"    CASE WHEN " SQL_SERVED " THEN NULL ELSE 'Y' END AS nologin, \\\n" \
	"    CASE WHEN " SQL_SERVED " THEN NULL \\\n" \
	"      WHEN a.status = 'active' THEN 'your mailbox is being moved, try again in a few minutes' \\\n" \
	"      ELSE 'account not in good standing' END AS reason, \\\n"
#define SQL_FROM \
	"  FROM mailboxes m JOIN domains d ON d.id = m.domain_id JOIN accounts a ON a.id = d.account_id \\\n" \
	"    LEFT JOIN account_moves mv ON mv.account_id = a.id \\\n"

#endif
