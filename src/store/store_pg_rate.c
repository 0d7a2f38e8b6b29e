/*
 * store_pg_rate: recipient budgets (rate.h) in the PostgreSQL store, shared
 * by every node: table rate_budget, one row per account with both windows,
 * as in store_sqlite_rate.c (a window older than the one asked about
 * counts as zero and restarts; a newer one, another node's clock a little
 * ahead, is counted into).
 *
 * rate_reserve is one statement: an INSERT ... ON CONFLICT DO UPDATE whose
 * WHERE admits the update only if n fits both windows. PostgreSQL locks
 * the account's row and checks the WHERE against its newest version, so
 * reservations from any number of sessions and nodes are serialized on
 * that row and none can pass a limit. When it refuses, the same statement
 * reads the counts (for the reply): if they were read from before a
 * concurrent change and do not explain the refusal, it runs again.
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

#define H "$2::bigint"
#define D "$3::bigint"
#define N "$4::integer"
#define CUR_COUNTS(b) \
	"coalesce(CASE WHEN " b ".hour_start >= " H " THEN " b ".hour_count END, 0)," \
	" coalesce(CASE WHEN " b ".day_start >= " D " THEN " b ".day_count END, 0)"
#define INSERT_ROW \
	"INSERT INTO rate_budget AS b (account_id, hour_start, hour_count, day_start, day_count)" \
	" SELECT id, " H ", " N ", " D ", " N " FROM accounts WHERE name = $1"
#define UPSERT_SET \
	" ON CONFLICT (account_id) DO UPDATE SET" \
	" hour_count = CASE WHEN b.hour_start >= excluded.hour_start" \
	"  THEN b.hour_count + excluded.hour_count ELSE excluded.hour_count END," \
	" hour_start = greatest(b.hour_start, excluded.hour_start)," \
	" day_count = CASE WHEN b.day_start >= excluded.day_start" \
	"  THEN b.day_count + excluded.day_count ELSE excluded.day_count END," \
	" day_start = greatest(b.day_start, excluded.day_start)"

static const struct pg_stmt get_stmt = {
	"rate_get", "SELECT " CUR_COUNTS("b") " FROM accounts a"
	" LEFT JOIN rate_budget b ON b.account_id = a.id WHERE a.name = $1", 3, 1
};
static const struct pg_stmt add_stmt = { "rate_add", INSERT_ROW UPSERT_SET, 4, 0 };
/* ($5 per hour, $6 per day) reserved: true and the new counts; refused:
 * false and the counts read; no row: no such account */
static const struct pg_stmt reserve_stmt = {
	"rate_reserve",
	"WITH up AS (" INSERT_ROW " AND " N " <= $5::integer AND " N " <= $6::integer" UPSERT_SET
	" WHERE (CASE WHEN b.hour_start >= excluded.hour_start THEN b.hour_count ELSE 0 END) + " N " <= $5::integer"
	" AND (CASE WHEN b.day_start >= excluded.day_start THEN b.day_count ELSE 0 END) + " N " <= $6::integer"
	" RETURNING b.hour_start, b.hour_count, b.day_start, b.day_count)"
	" SELECT true, " CUR_COUNTS("up") " FROM up"
	" UNION ALL SELECT false, " CUR_COUNTS("r") " FROM accounts a"
	" LEFT JOIN rate_budget r ON r.account_id = a.id WHERE a.name = $1 AND NOT EXISTS (SELECT 1 FROM up)",
	6, 0
};
static const struct pg_stmt release_stmt = {
	"rate_release", "UPDATE rate_budget SET"
	" hour_count = CASE WHEN hour_start = " H " THEN greatest(hour_count - " N ", 0) ELSE hour_count END,"
	" day_count = CASE WHEN day_start = " D " THEN greatest(day_count - " N ", 0) ELSE day_count END"
	" WHERE account_id = (SELECT id FROM accounts WHERE name = $1)", 4, 0
};

#define RESERVE_TRIES 5

int pg_rate_get(struct store *base, const char *account, time_t hour, time_t day, int *nhour, int *nday)
{
	char b[2][24];
	const char *p[3] = { account, pg_num(b[0], (long long)hour), pg_num(b[1], (long long)day) };
	PGresult *r;

	*nhour = *nday = 0;
	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	if (PQntuples(r) == 1) {
		*nhour = (int)pg_ll(r, 0, 0);
		*nday = (int)pg_ll(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

int pg_rate_add(struct store *base, const char *account, time_t hour, time_t day, int n)
{
	char b[3][24];
	const char *p[4] = { account, pg_num(b[0], (long long)hour), pg_num(b[1], (long long)day), pg_num(b[2], n) };

	return pg_write(PG(base), &add_stmt, p, NULL, 0) < 0 ? STORE_EFAIL : 0;
}

int pg_rate_reserve(struct store *base, const char *account, time_t hour, time_t day, int n,
                    int per_hour, int per_day, int *nhour, int *nday)
{
	char b[5][24];
	const char *p[6] = { account, pg_num(b[0], (long long)hour), pg_num(b[1], (long long)day),
	                     pg_num(b[2], n), pg_num(b[3], per_hour), pg_num(b[4], per_day) };
	PGresult *r;
	int tries, rc = STORE_EFAIL;

	for (tries = 0; tries < RESERVE_TRIES; tries++) {
		if (pg_run(PG(base), &reserve_stmt, p, &r, NULL, 0) != 0)
			return STORE_EFAIL;
		if (PQntuples(r) != 1) {
			PQclear(r);
			return STORE_ENOTFOUND;
		}
		*nhour = (int)pg_ll(r, 0, 1);
		*nday = (int)pg_ll(r, 0, 2);
		if (!strcmp(PQgetvalue(r, 0, 0), "t"))
			rc = 0;
		else if (*nhour + n > per_hour)
			rc = 1;
		else if (*nday + n > per_day)
			rc = 2;
		PQclear(r);
		if (rc != STORE_EFAIL)
			return rc;
	}
	/* refused every time, the counts never saying why: call it the hour */
	return 1;
}

int pg_rate_release(struct store *base, const char *account, time_t hour, time_t day, int n)
{
	char b[3][24];
	const char *p[4] = { account, pg_num(b[0], (long long)hour), pg_num(b[1], (long long)day), pg_num(b[2], n) };

	return pg_write(PG(base), &release_stmt, p, NULL, 0) < 0 ? STORE_EFAIL : 0;
}
