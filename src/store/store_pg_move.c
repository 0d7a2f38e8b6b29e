/*
 * store_pg_move: account moves in PostgreSQL (store_move.h). The begin and
 * the switch are one transaction each, the account's row locked (FOR
 * UPDATE) so that two hostmailctl moving one account take turns.
 */
#include "store/store_pg_int.h"
#include "store/store_move.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pg_stmt lock_stmt = {
	"move_lock_account", "SELECT id, server_number FROM accounts WHERE name = $1 FOR UPDATE", 1, 0
};
static const struct pg_stmt get_stmt = {
	"move_get", "SELECT a.name, m.from_node, m.to_node, m.switched::integer, m.started"
	" FROM account_moves m JOIN accounts a ON a.id = m.account_id WHERE a.name = $1", 1, 1
};
static const struct pg_stmt add_stmt = {
	"move_add", "INSERT INTO account_moves (account_id, from_node, to_node, started)"
	" VALUES ($1::bigint, $2::integer, $3::integer, $4::bigint)", 4, 0
};
static const struct pg_stmt switch_home_stmt = {
	"move_switch_home", "UPDATE accounts SET server_number = m.to_node FROM account_moves m"
	" WHERE accounts.name = $1 AND m.account_id = accounts.id", 1, 0
};
static const struct pg_stmt switch_mark_stmt = {
	"move_switch_mark", "UPDATE account_moves SET switched = true"
	" WHERE account_id = (SELECT id FROM accounts WHERE name = $1)", 1, 0
};
static const struct pg_stmt list_stmt = {
	"move_list", "SELECT a.name, m.from_node, m.to_node, m.switched::integer, m.started"
	" FROM account_moves m JOIN accounts a ON a.id = m.account_id ORDER BY a.name", 0, 1
};
static const struct pg_stmt end_stmt = {
	"move_end", "DELETE FROM account_moves WHERE account_id = (SELECT id FROM accounts WHERE name = $1)", 1, 0
};

static void row_move_at(const PGresult *r, int row, struct account_move *out)
{
	pg_text(r, row, 0, out->account, sizeof out->account);
	out->from_node = (int)pg_ll(r, row, 1);
	out->to_node = (int)pg_ll(r, row, 2);
	out->switched = (int)pg_ll(r, row, 3);
	out->started = pg_ll(r, row, 4);
}

static void row_move(const PGresult *r, struct account_move *out)
{
	row_move_at(r, 0, out);
}

static int get_on(struct pg_store *st, struct pg_conn *pc, const char *account, struct account_move *out,
                  char *err, size_t errlen)
{
	const char *p[1] = { account };
	PGresult *r;
	int rc = pg_exec(st, pc, &get_stmt, p, &r, err, errlen);

	if (rc != 0)
		return rc;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_move(r, out);
	PQclear(r);
	return rc;
}

int pg_move_begin(struct store *base, const char *account, int to, int64_t now, struct account_move *out,
                  char *err, size_t errlen)
{
	struct pg_store *st = PG(base);
	struct pg_conn *pc = pg_acquire(st, err, errlen);
	const char *p[1] = { account };
	char b[3][24], id[24];
	PGresult *r = NULL;
	int rc, home = 0;

	if (!pc)
		return STORE_EFAIL;
	rc = pg_sql(st, pc, "BEGIN", err, errlen);
	if (rc == 0 && (rc = pg_exec(st, pc, &lock_stmt, p, &r, err, errlen)) == 0) {
		if (PQntuples(r) != 1) {
			store_seterr(err, errlen, "account %s does not exist", account);
			rc = STORE_ENOTFOUND;
		} else {
			pg_text(r, 0, 0, id, sizeof id);
			home = (int)pg_ll(r, 0, 1);
		}
		PQclear(r);
	}
	if (rc != 0) {
		/* no account, or a database error: err says */
	} else if ((rc = get_on(st, pc, account, out, err, errlen)) == 0) {
		if (out->to_node != to) {
			store_seterr(err, errlen, "account %s is being moved to node %d: finish that move first"
			             " (account move %s --to %d) or undo it (--abort)", account, out->to_node, account,
			             out->to_node);
			rc = STORE_EEXIST;
		}
	} else if (rc == STORE_ENOTFOUND && home == to) {
		store_seterr(err, errlen, "account %s lives on node %d already", account, to);
		rc = STORE_EINVAL;
	} else if (rc == STORE_ENOTFOUND) {
		const char *q[4] = { id, pg_num(b[0], home), pg_num(b[1], to), pg_num(b[2], now) };
		if ((rc = pg_exec(st, pc, &add_stmt, q, &r, err, errlen)) == 0) {
			PQclear(r);
			snprintf(out->account, sizeof out->account, "%s", account);
			out->from_node = home;
			out->to_node = to;
			out->switched = 0;
			out->started = now;
		}
	}
	if (pg_end(st, pc, rc == 0, err, errlen) != 0 && rc == 0)
		rc = STORE_EFAIL;
	pg_release(st, pc);
	return rc;
}

int pg_move_get(struct store *base, const char *account, struct account_move *out)
{
	const char *p[1] = { account };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_move(r, out);
	PQclear(r);
	return rc;
}

int pg_move_switch(struct store *base, const char *account, char *err, size_t errlen)
{
	struct pg_store *st = PG(base);
	struct pg_conn *pc = pg_acquire(st, err, errlen);
	const char *p[1] = { account };
	PGresult *r;
	int rc;

	if (!pc)
		return STORE_EFAIL;
	rc = pg_sql(st, pc, "BEGIN", err, errlen);
	if (rc == 0 && (rc = pg_exec(st, pc, &lock_stmt, p, &r, err, errlen)) == 0)
		PQclear(r);
	if (rc == 0 && (rc = pg_exec(st, pc, &switch_home_stmt, p, &r, err, errlen)) == 0) {
		if (atoi(PQcmdTuples(r)) != 1) {
			store_seterr(err, errlen, "account %s is not being moved", account);
			rc = STORE_ENOTFOUND;
		}
		PQclear(r);
	}
	if (rc == 0 && (rc = pg_exec(st, pc, &switch_mark_stmt, p, &r, err, errlen)) == 0)
		PQclear(r);
	if (pg_end(st, pc, rc == 0, err, errlen) != 0 && rc == 0)
		rc = STORE_EFAIL;
	pg_release(st, pc);
	return rc;
}

int pg_move_end(struct store *base, const char *account, char *err, size_t errlen)
{
	const char *p[1] = { account };
	int rc = pg_write(PG(base), &end_stmt, p, err, errlen);

	if (rc == 0) {
		store_seterr(err, errlen, "account %s is not being moved", account);
		return STORE_ENOTFOUND;
	}
	return rc > 0 ? 0 : rc;
}

int pg_move_list(struct store *base, int (*cb)(const struct account_move *, void *), void *arg)
{
	struct account_move mv;
	PGresult *r;

	if (pg_run(PG(base), &list_stmt, NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (int i = 0; i < PQntuples(r); i++) {
		memset(&mv, 0, sizeof mv);
		row_move_at(r, i, &mv);
		if (cb(&mv, arg))
			break;
	}
	PQclear(r);
	return 0;
}
