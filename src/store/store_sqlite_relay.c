/*
 * store_sqlite_relay: the SQLite implementation of relay_auth
 * (POP-before-SMTP grants, table relay_auth). Suspended accounts never
 * match a lookup, and suspending an account deletes its grants (trigger
 * account_suspended).
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

int sq_relay_grant(struct store *base, const char *ip, const char *mailbox, time_t expires)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	rc = sq_prepare(st, &s,
	                "INSERT INTO relay_auth (ip, account_id, mailbox, expires)"
	                " SELECT ?1, d.account_id, m.address, ?3 FROM mailboxes m"
	                " JOIN domains d ON d.id = m.domain_id WHERE m.address = ?2"
	                " ON CONFLICT (ip, mailbox) DO UPDATE SET expires = excluded.expires");
	if (rc == 0) {
		sqlite3_bind_text(s, 1, ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, mailbox, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)expires);
		rc = sq_exec_write(st, s, &changes);
		if (rc == 0 && changes == 0)
			rc = STORE_ENOTFOUND;
	} else {
		rc = STORE_EFAIL;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static void row_to_grant(sqlite3_stmt *s, struct relay_grant *g)
{
	sq_text(s, 0, g->ip, sizeof g->ip);
	sq_text(s, 1, g->account, sizeof g->account);
	sq_text(s, 2, g->mailbox, sizeof g->mailbox);
	g->expires = (time_t)sqlite3_column_int64(s, 3);
}

#define GRANT_SELECT \
	"SELECT r.ip, a.name, r.mailbox, r.expires FROM relay_auth r" \
	" JOIN accounts a ON a.id = r.account_id"

int sq_relay_lookup(struct store *base, const char *ip, time_t now, struct relay_grant *out)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = sq_prepare(st, &s, GRANT_SELECT " WHERE r.ip = ?1 AND r.expires > ?2"
	                " AND a.status = 'active' ORDER BY r.expires DESC LIMIT 1");
	if (rc == 0) {
		sqlite3_bind_text(s, 1, ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
		switch (sqlite3_step(s)) {
		case SQLITE_ROW: row_to_grant(s, out); rc = 0; break;
		case SQLITE_DONE: rc = STORE_ENOTFOUND; break;
		default: rc = STORE_EFAIL; break;
		}
		sqlite3_finalize(s);
	} else {
		rc = STORE_EFAIL;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_relay_revoke(struct store *base, const char *ip)
{
	int n = sq_write_count(SQ(base), "DELETE FROM relay_auth WHERE ip = ?1", ip, 0, 0);

	return n < 0 ? n : n == 0 ? STORE_ENOTFOUND : 0;
}

int sq_relay_revoke_account(struct store *base, const char *account)
{
	int n = sq_write_count(SQ(base), "DELETE FROM relay_auth WHERE account_id ="
	                        " (SELECT id FROM accounts WHERE name = ?1)", account, 0, 0);

	return n < 0 ? n : 0;
}

int sq_relay_purge(struct store *base, time_t now)
{
	return sq_write_count(SQ(base), "DELETE FROM relay_auth WHERE expires <= ?1", NULL, (sqlite3_int64)now, 1);
}

int sq_relay_list(struct store *base, time_t now, store_grant_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	struct relay_grant g;
	int rc, step;

	pthread_mutex_lock(&st->mu);
	rc = sq_prepare(st, &s, GRANT_SELECT " WHERE r.expires > ?1 ORDER BY r.ip, r.expires DESC");
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			row_to_grant(s, &g);
			if (cb(&g, arg))
				break;
		}
		rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : STORE_EFAIL;
		sqlite3_finalize(s);
	} else {
		rc = STORE_EFAIL;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}
