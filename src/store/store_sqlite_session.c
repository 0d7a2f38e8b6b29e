/*
 * store_sqlite_session: ACC sessions in the SQLite store (see
 * store_acc_session.h), table acc_sessions keyed by SHA-256 of the id.
 * A session is live while now - last < idle, now - created < lifetime and
 * created <= now (the rule of the in-memory table, acc_session.c). Writes
 * that read first run in one IMMEDIATE transaction, so two processes on
 * one database (hostmaild, hostmailctl) cannot interleave them.
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

#define LIVE " ?2 - last < ?3 AND ?2 - created < ?4 AND created <= ?2"

static int int64_query(struct sq_store *st, const char *sql, const char *b1, sqlite3_int64 *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sq_prepare(st, &s, sql) < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, b1, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
}

/* Inside the transaction: make room for one more session of account_id
 * (its least recently used ones end), then insert. */
static int create_in_tx(struct sq_store *st, sqlite3_int64 account_id, const char *id_hash, const char *csrf,
                        time_t now, int max_per_account)
{
	sqlite3_stmt *s;
	int rc;

	if (sq_prepare(st, &s, "DELETE FROM acc_sessions WHERE id_hash IN (SELECT id_hash FROM acc_sessions"
	               " WHERE account_id = ?1 ORDER BY last DESC, created DESC LIMIT -1 OFFSET ?2)") < 0)
		return STORE_EFAIL;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int(s, 2, max_per_account - 1);
	if ((rc = sq_exec_write(st, s, NULL)) != 0)
		return STORE_EFAIL;
	if (sq_prepare(st, &s, "INSERT INTO acc_sessions (id_hash, account_id, csrf, created, last)"
	               " VALUES (?1, ?2, ?3, ?4, ?4)") < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, account_id);
	sqlite3_bind_text(s, 3, csrf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	return sq_exec_write(st, s, NULL) == 0 ? 0 : STORE_EFAIL;
}

int sq_session_create(struct store *base, const char *account, const char *id_hash, const char *csrf,
                      time_t now, int max_per_account)
{
	struct sq_store *st = SQ(base);
	sqlite3_int64 account_id = 0;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = int64_query(st, "SELECT id FROM accounts WHERE name = ?1", account, &account_id);
	if (rc == 0)
		rc = create_in_tx(st, account_id, id_hash, csrf, now, max_per_account);
	if (sq_end(st, rc == 0) < 0)
		rc = STORE_EFAIL;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Inside the transaction: touch a live session and read it, or end it. */
static int find_in_tx(struct sq_store *st, const char *id_hash, time_t now, int idle, int lifetime,
                      struct store_acc_session *out)
{
	sqlite3_stmt *s;
	int rc, changes = 0;

	if (sq_prepare(st, &s, "UPDATE acc_sessions SET last = max(last, ?2) WHERE id_hash = ?1 AND" LIVE) < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_int(s, 3, idle);
	sqlite3_bind_int(s, 4, lifetime);
	if (sq_exec_write(st, s, &changes) != 0)
		return STORE_EFAIL;
	if (changes == 0) {
		/* unknown or expired: an expired one ends here */
		rc = sq_write_count(st, "DELETE FROM acc_sessions WHERE id_hash = ?1", id_hash, 0, 0);
		return rc < 0 ? rc : STORE_ENOTFOUND;
	}
	if (sq_prepare(st, &s, "SELECT s.csrf, a.name, s.created, s.last, s.flash, s.flash_error"
	               " FROM acc_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = ?1") < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sq_text(s, 0, out->csrf, sizeof out->csrf);
		sq_text(s, 1, out->account, sizeof out->account);
		out->created = (time_t)sqlite3_column_int64(s, 2);
		out->last = (time_t)sqlite3_column_int64(s, 3);
		sq_text(s, 4, out->flash, sizeof out->flash);
		out->flash_error = sqlite3_column_int(s, 5);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : STORE_EFAIL;
}

int sq_session_find(struct store *base, const char *id_hash, time_t now, int idle, int lifetime,
                    struct store_acc_session *out)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = find_in_tx(st, id_hash, now, idle, lifetime, out);
	/* an expired session's removal is kept: commit unless the database failed */
	if (sq_end(st, rc != STORE_EFAIL) < 0)
		rc = STORE_EFAIL;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_session_set_flash(struct store *base, const char *id_hash, int error, const char *msg)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "UPDATE acc_sessions SET flash = ?2, flash_error = ?3 WHERE id_hash = ?1") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 2, msg, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 3, error);
		rc = sq_exec_write(st, s, &changes);
		if (rc == 0 && changes == 0)
			rc = STORE_ENOTFOUND;
		else if (rc)
			rc = STORE_EFAIL;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int take_in_tx(struct sq_store *st, const char *id_hash, char *msg, size_t msglen, int *error)
{
	sqlite3_stmt *s;
	int rc;

	if (sq_prepare(st, &s, "SELECT flash, flash_error FROM acc_sessions WHERE id_hash = ?1") < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, id_hash, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sq_text(s, 0, msg, msglen);
		*error = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
	if (!msg[0])
		return 0;
	rc = sq_write_count(st, "UPDATE acc_sessions SET flash = '', flash_error = 0 WHERE id_hash = ?1",
	                     id_hash, 0, 0);
	return rc < 0 ? rc : 0;
}

int sq_session_take_flash(struct store *base, const char *id_hash, char *msg, size_t msglen, int *error)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = take_in_tx(st, id_hash, msg, msglen, error);
	if (sq_end(st, rc == 0) < 0)
		rc = STORE_EFAIL;
	pthread_mutex_unlock(&st->mu);
	if (rc != 0) {
		msg[0] = '\0';
		*error = 0;
	}
	return rc;
}

int sq_session_end(struct store *base, const char *id_hash)
{
	int n = sq_write_count(SQ(base), "DELETE FROM acc_sessions WHERE id_hash = ?1", id_hash, 0, 0);

	return n < 0 ? n : n == 0 ? STORE_ENOTFOUND : 0;
}

int sq_session_end_account(struct store *base, const char *account, const char *except_hash)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "DELETE FROM acc_sessions WHERE account_id ="
	               " (SELECT id FROM accounts WHERE name = ?1) AND (?2 IS NULL OR id_hash <> ?2)") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, account, -1, SQLITE_TRANSIENT);
		if (except_hash)
			sqlite3_bind_text(s, 2, except_hash, -1, SQLITE_TRANSIENT);
		rc = sq_exec_write(st, s, &changes);
	}
	pthread_mutex_unlock(&st->mu);
	return rc < 0 ? STORE_EFAIL : changes;
}

int sq_session_purge(struct store *base, time_t now, int idle, int lifetime)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "DELETE FROM acc_sessions WHERE NOT (" LIVE ")") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
		sqlite3_bind_int(s, 3, idle);
		sqlite3_bind_int(s, 4, lifetime);
		rc = sq_exec_write(st, s, &changes);
	}
	pthread_mutex_unlock(&st->mu);
	return rc < 0 ? STORE_EFAIL : changes;
}
