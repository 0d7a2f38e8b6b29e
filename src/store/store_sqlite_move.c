/*
 * store_sqlite_move: account moves in SQLite (store_move.h). A fleet runs
 * on PostgreSQL; SQLite keeps the same table and rules so that both stores
 * behave alike (and a single node's tests can exercise them).
 */
#include "store/store_sqlite_int.h"
#include "store/store_move.h"
#include <stdio.h>
#include <string.h>

#define MOVE_COLS "SELECT a.name, m.from_node, m.to_node, m.switched, m.started" \
	" FROM account_moves m JOIN accounts a ON a.id = m.account_id WHERE a.name = ?"

/* st->mu held. */
static int get_locked(struct sq_store *st, const char *account, struct account_move *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sq_prepare(st, &s, MOVE_COLS) < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sq_text(s, 0, out->account, sizeof out->account);
		out->from_node = sqlite3_column_int(s, 1);
		out->to_node = sqlite3_column_int(s, 2);
		out->switched = sqlite3_column_int(s, 3);
		out->started = sqlite3_column_int64(s, 4);
	}
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
	sqlite3_finalize(s);
	return rc;
}

int sq_move_begin(struct store *base, const char *account, int to, int64_t now, struct account_move *out,
                  char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	sqlite3_int64 id = 0;
	int rc, home = 0, changes;

	pthread_mutex_lock(&st->mu);
	if (sq_begin(st) < 0) {
		rc = sq_dberr(st, err, errlen);
		goto out;
	}
	if (sq_prepare(st, &s, "SELECT id, server_number FROM accounts WHERE name = ?") < 0) {
		rc = sq_dberr(st, err, errlen);
		goto end;
	}
	sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		home = sqlite3_column_int(s, 1);
	}
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
	sqlite3_finalize(s);
	if (rc == STORE_ENOTFOUND)
		store_seterr(err, errlen, "account %s does not exist", account);
	if (rc != 0)
		goto end;
	rc = get_locked(st, account, out);
	if (rc == 0 && out->to_node != to) {
		store_seterr(err, errlen, "account %s is being moved to node %d: finish that move first"
		             " (account move %s --to %d) or undo it (--abort)", account, out->to_node, account,
		             out->to_node);
		rc = STORE_EEXIST;
	} else if (rc == STORE_ENOTFOUND && home == to) {
		store_seterr(err, errlen, "account %s lives on node %d already", account, to);
		rc = STORE_EINVAL;
	} else if (rc == STORE_ENOTFOUND) {
		if (sq_prepare(st, &s, "INSERT INTO account_moves (account_id, from_node, to_node, started)"
		               " VALUES (?, ?, ?, ?)") < 0) {
			rc = sq_dberr(st, err, errlen);
			goto end;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int(s, 2, home);
		sqlite3_bind_int(s, 3, to);
		sqlite3_bind_int64(s, 4, now);
		if ((rc = sq_exec_write(st, s, &changes)) != 0) {
			sq_dberr(st, err, errlen);
		} else {
			snprintf(out->account, sizeof out->account, "%s", account);
			out->from_node = home;
			out->to_node = to;
			out->switched = 0;
			out->started = now;
		}
	}
end:
	if (sq_end(st, rc == 0) < 0 && rc == 0)
		rc = sq_dberr(st, err, errlen);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_move_get(struct store *base, const char *account, struct account_move *out)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = get_locked(st, account, out);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_move_switch(struct store *base, const char *account, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_begin(st) < 0) {
		rc = sq_dberr(st, err, errlen);
		goto out;
	}
	rc = sq_prepare(st, &s, "UPDATE accounts SET server_number = (SELECT to_node FROM account_moves"
	                " WHERE account_id = accounts.id) WHERE name = ?1 AND id IN"
	                " (SELECT account_id FROM account_moves)") < 0 ? STORE_EFAIL : 0;
	if (rc == 0) {
		sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
	}
	if (rc == 0 && changes != 1) {
		store_seterr(err, errlen, "account %s is not being moved", account);
		rc = STORE_ENOTFOUND;
	}
	if (rc == 0) {
		rc = sq_prepare(st, &s, "UPDATE account_moves SET switched = 1 WHERE account_id ="
		                " (SELECT id FROM accounts WHERE name = ?1)") < 0 ? STORE_EFAIL : 0;
		if (rc == 0) {
			sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
			rc = sq_exec_write(st, s, &changes);
		}
	}
	if (rc == STORE_EFAIL)
		sq_dberr(st, err, errlen);
	if (sq_end(st, rc == 0) < 0 && rc == 0)
		rc = sq_dberr(st, err, errlen);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_move_end(struct store *base, const char *account, char *err, size_t errlen)
{
	int n = sq_write_count(SQ(base), "DELETE FROM account_moves WHERE account_id ="
	                       " (SELECT id FROM accounts WHERE name = ?1)", account, 0, 0);

	if (n == 0) {
		store_seterr(err, errlen, "account %s is not being moved", account);
		return STORE_ENOTFOUND;
	}
	return n > 0 ? 0 : STORE_EFAIL;
}

int sq_move_list(struct store *base, int (*cb)(const struct account_move *, void *), void *arg)
{
	struct sq_store *st = SQ(base);
	struct account_move mv;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT a.name, m.from_node, m.to_node, m.switched, m.started"
	                       " FROM account_moves m JOIN accounts a ON a.id = m.account_id ORDER BY a.name") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&mv, 0, sizeof mv);
		sq_text(s, 0, mv.account, sizeof mv.account);
		mv.from_node = sqlite3_column_int(s, 1);
		mv.to_node = sqlite3_column_int(s, 2);
		mv.switched = sqlite3_column_int(s, 3);
		mv.started = sqlite3_column_int64(s, 4);
		if (cb(&mv, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}
