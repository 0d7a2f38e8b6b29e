/*
 * store_pg_session: ACC sessions (store_acc_session.h) in the PostgreSQL
 * store, so a login on one node is valid on every node. Table
 * acc_sessions keyed by SHA-256 of the id; a session is live while
 * now - last < idle, now - created < lifetime and created <= now (the rule
 * of the in-memory table, acc_session.c).
 *
 * Creating takes the account's row lock (FOR NO KEY UPDATE, which does not
 * hold up the foreign-key checks of other writes) for one transaction:
 * two logins of one account on two nodes take turns, so the per-account
 * cap holds; other accounts never wait.
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

#define NOW "$2::bigint"
#define LIVE " " NOW " - s.last < $3::bigint AND " NOW " - s.created < $4::bigint AND s.created <= " NOW

static const struct pg_stmt lock_stmt = {
	"session_lock_account", "SELECT id FROM accounts WHERE name = $1 FOR NO KEY UPDATE", 1, 0
};
/* the account's sessions beyond the newest $2 end; within one second the
 * row written last (its xmin, the writing transaction: every login and
 * use is one) counts as the newest, as the in-memory table's order would */
static const struct pg_stmt trim_stmt = {
	"session_trim", "DELETE FROM acc_sessions WHERE id_hash IN (SELECT id_hash FROM acc_sessions"
	" WHERE account_id = $1::bigint ORDER BY last DESC, created DESC, xmin::text::bigint DESC"
	" OFFSET $2::integer)", 2, 0
};
static const struct pg_stmt insert_stmt = {
	"session_insert", "INSERT INTO acc_sessions (id_hash, account_id, csrf, created, last)"
	" VALUES ($1, $2::bigint, $3, $4::bigint, $4::bigint)", 4, 0
};
static const struct pg_stmt touch_stmt = {
	"session_touch", "UPDATE acc_sessions s SET last = greatest(s.last, " NOW ") FROM accounts a"
	" WHERE a.id = s.account_id AND s.id_hash = $1 AND" LIVE
	" RETURNING s.csrf, a.name, s.created, s.last, s.flash, s.flash_error", 4, 0
};
static const struct pg_stmt end_stmt = { "session_end", "DELETE FROM acc_sessions WHERE id_hash = $1", 1, 0 };
static const struct pg_stmt flash_stmt = {
	"session_flash", "UPDATE acc_sessions SET flash = $2, flash_error = $3::integer WHERE id_hash = $1", 3, 0
};
/* the old message, read under the row's lock, and cleared */
static const struct pg_stmt take_stmt = {
	"session_take_flash", "WITH o AS (SELECT id_hash, flash, flash_error FROM acc_sessions"
	" WHERE id_hash = $1 FOR UPDATE)"
	" UPDATE acc_sessions n SET flash = '', flash_error = 0 FROM o WHERE n.id_hash = o.id_hash"
	" RETURNING o.flash, o.flash_error", 1, 0
};
static const struct pg_stmt end_account_stmt = {
	"session_end_account", "DELETE FROM acc_sessions WHERE account_id ="
	" (SELECT id FROM accounts WHERE name = $1) AND ($2::text IS NULL OR id_hash <> $2::text)", 2, 0
};
static const struct pg_stmt purge_stmt = {
	"session_purge", "DELETE FROM acc_sessions s WHERE NOT ($1::bigint - s.last < $2::bigint"
	" AND $1::bigint - s.created < $3::bigint AND s.created <= $1::bigint)", 3, 0
};

/* Inside the transaction: the account's row locked, room made, inserted. */
static int create_in_tx(struct pg_store *st, struct pg_conn *pc, const char *account, const char *id_hash,
                        const char *csrf, time_t now, int max_per_account)
{
	char id[24], keep[24], t[24];
	const char *p[4] = { account };
	PGresult *r;

	if (pg_exec(st, pc, &lock_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return STORE_ENOTFOUND;
	}
	pg_text(r, 0, 0, id, sizeof id);
	PQclear(r);
	p[0] = id;
	p[1] = pg_num(keep, max_per_account - 1);
	if (pg_exec(st, pc, &trim_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	PQclear(r);
	p[0] = id_hash;
	p[1] = id;
	p[2] = csrf;
	p[3] = pg_num(t, (long long)now);
	if (pg_exec(st, pc, &insert_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	PQclear(r);
	return 0;
}

int pg_session_create(struct store *base, const char *account, const char *id_hash, const char *csrf,
                      time_t now, int max_per_account)
{
	struct pg_store *st = PG(base);
	struct pg_conn *pc = pg_acquire(st, NULL, 0);
	int rc;

	if (!pc)
		return STORE_EFAIL;
	rc = pg_sql(st, pc, "BEGIN", NULL, 0);
	if (rc == 0)
		rc = create_in_tx(st, pc, account, id_hash, csrf, now, max_per_account);
	if (pg_end(st, pc, rc == 0, NULL, 0) != 0)
		rc = STORE_EFAIL;
	pg_release(st, pc);
	return rc;
}

int pg_session_find(struct store *base, const char *id_hash, time_t now, int idle, int lifetime,
                    struct store_acc_session *out)
{
	char b[3][24];
	const char *p[4] = { id_hash, pg_num(b[0], (long long)now), pg_num(b[1], idle), pg_num(b[2], lifetime) };
	PGresult *r;
	int n;

	if (pg_run(PG(base), &touch_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	if ((n = PQntuples(r)) == 1) {
		pg_text(r, 0, 0, out->csrf, sizeof out->csrf);
		pg_text(r, 0, 1, out->account, sizeof out->account);
		out->created = (time_t)pg_ll(r, 0, 2);
		out->last = (time_t)pg_ll(r, 0, 3);
		pg_text(r, 0, 4, out->flash, sizeof out->flash);
		out->flash_error = (int)pg_ll(r, 0, 5);
	}
	PQclear(r);
	if (n == 1)
		return 0;
	/* unknown or expired: an expired one ends here */
	return pg_write(PG(base), &end_stmt, p, NULL, 0) < 0 ? STORE_EFAIL : STORE_ENOTFOUND;
}

int pg_session_set_flash(struct store *base, const char *id_hash, int error, const char *msg)
{
	char num[24];
	const char *p[3] = { id_hash, msg, pg_num(num, error) };
	int n = pg_write(PG(base), &flash_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n == 0 ? STORE_ENOTFOUND : 0;
}

int pg_session_take_flash(struct store *base, const char *id_hash, char *msg, size_t msglen, int *error)
{
	const char *p[1] = { id_hash };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &take_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0) {
		pg_text(r, 0, 0, msg, msglen);
		*error = (int)pg_ll(r, 0, 1);
	}
	PQclear(r);
	return rc;
}

int pg_session_end(struct store *base, const char *id_hash)
{
	const char *p[1] = { id_hash };
	int n = pg_write(PG(base), &end_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n == 0 ? STORE_ENOTFOUND : 0;
}

int pg_session_end_account(struct store *base, const char *account, const char *except_hash)
{
	const char *p[2] = { account, except_hash };
	int n = pg_write(PG(base), &end_account_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n;
}

int pg_session_purge(struct store *base, time_t now, int idle, int lifetime)
{
	char b[3][24];
	const char *p[3] = { pg_num(b[0], (long long)now), pg_num(b[1], idle), pg_num(b[2], lifetime) };
	int n = pg_write(PG(base), &purge_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n;
}
