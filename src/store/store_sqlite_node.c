/*
 * store_sqlite_node: the nodes of a fleet (store_node.h) in the SQLite
 * store, table nodes. A single node rarely has any, but the calls behave
 * as PostgreSQL's (store_pg_node.c) so both pass the same unit tests.
 */
#include "store/store_sqlite_int.h"
#include "store/store_node.h"
#include <string.h>

#define NODE_COLS "SELECT n.number, n.lmtp, n.pop3, n.imap, n.state," \
	" (SELECT count(*) FROM accounts a WHERE a.server_number = n.number)," \
	" (SELECT count(*) FROM mailboxes m JOIN domains d ON d.id = m.domain_id" \
	"  JOIN accounts a ON a.id = d.account_id WHERE a.server_number = n.number) FROM nodes n "

static void row_node(sqlite3_stmt *s, struct node *n)
{
	char state[16];

	memset(n, 0, sizeof *n);
	n->number = sqlite3_column_int(s, 0);
	sq_text(s, 1, n->lmtp, sizeof n->lmtp);
	sq_text(s, 2, n->pop3, sizeof n->pop3);
	sq_text(s, 3, n->imap, sizeof n->imap);
	sq_text(s, 4, state, sizeof state);
	n->state = strcmp(state, "draining") ? NODE_ACTIVE : NODE_DRAINING;
	n->accounts = sqlite3_column_int(s, 5);
	n->mailboxes = sqlite3_column_int(s, 6);
}

int sq_node_add(struct store *base, const struct node *n, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO nodes (number, lmtp, pop3, imap, state, added)"
	               " VALUES (?1, ?2, ?3, ?4, 'active', strftime('%s','now'))") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_int(s, 1, n->number);
		sqlite3_bind_text(s, 2, n->lmtp, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, n->pop3, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, n->imap, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, NULL);
		if (rc == STORE_EEXIST)
			store_seterr(err, errlen, "node %d already exists", n->number);
		else if (rc)
			sq_dberr(st, err, errlen);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_node_get(struct store *base, int number, struct node *out)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, NODE_COLS "WHERE n.number = ?1") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	sqlite3_bind_int(s, 1, number);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_node(s, out);
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
}

int sq_node_list(struct store *base, store_node_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
	struct node n;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, NODE_COLS "ORDER BY n.number") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_node(s, &n);
		if (cb(&n, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

/* One column of node number set to text (sql binds ?1 number, ?2 text). */
static int node_set(struct store *base, int number, const char *sql, const char *text, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, sql) < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_int(s, 1, number);
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
		if (rc)
			sq_dberr(st, err, errlen);
		else if (changes == 0)
			store_seterr(err, errlen, "node %d does not exist", number), rc = STORE_ENOTFOUND;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_node_set_state(struct store *base, int number, enum node_state state, char *err, size_t errlen)
{
	return node_set(base, number, "UPDATE nodes SET state = ?2 WHERE number = ?1", node_state_name(state),
	                err, errlen);
}

int sq_node_set_imap(struct store *base, int number, const char *imap, char *err, size_t errlen)
{
	return node_set(base, number, "UPDATE nodes SET imap = ?2 WHERE number = ?1", imap, err, errlen);
}

static int int_row(struct sq_store *st, const char *sql, int b, int *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sq_prepare(st, &s, sql) < 0)
		return STORE_EFAIL;
	sqlite3_bind_int(s, 1, b);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
}

int sq_node_remove(struct store *base, int number, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, n = 0, changes = 0;

	pthread_mutex_lock(&st->mu);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = int_row(st, "SELECT count(*) FROM accounts WHERE server_number = ?1", number, &n);
	if (rc == 0 && n > 0) {
		store_seterr(err, errlen, "node %d is the home of %d account(s): move them first"
		             " (hostmailctl account move NAME --to N)", number, n);
		rc = STORE_EEXIST;
	}
	if (rc == 0 && sq_prepare(st, &s, "DELETE FROM nodes WHERE number = ?1") == 0) {
		sqlite3_bind_int(s, 1, number);
		if ((rc = sq_exec_write(st, s, &changes)) == 0 && changes == 0) {
			store_seterr(err, errlen, "node %d does not exist", number);
			rc = STORE_ENOTFOUND;
		}
	} else if (rc == 0) {
		rc = STORE_EFAIL;
	}
	if (rc == STORE_EFAIL)
		sq_dberr(st, err, errlen);
	if (sq_end(st, rc == 0) < 0 && rc == 0)
		rc = sq_dberr(st, err, errlen);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_node_pick(struct store *base, int *number)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = int_row(st, "SELECT n.number FROM nodes n WHERE n.state = 'active' ORDER BY"
	             " (SELECT count(*) FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
	             "  JOIN accounts a ON a.id = d.account_id WHERE a.server_number = n.number),"
	             " n.number LIMIT 1", 0, number);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_mailbox_home(struct store *base, const char *domain, const char *addr, int *number, int *exists)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT a.server_number, (SELECT count(*) FROM mailboxes WHERE address = ?2)"
	               " FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.name = ?1") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*number = sqlite3_column_int(s, 0);
		*exists = sqlite3_column_int(s, 1) > 0;
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
}
