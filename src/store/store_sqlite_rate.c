/*
 * store_sqlite_rate: the SQLite implementation of the recipient budgets
 * (rate.h): table rate_budget, one row per account holding both windows
 * (the hour and the day, each with its start and count). A window whose
 * start is older than the one asked about counts as zero and is
 * restarted by the next write; one that is newer (another node's clock a
 * little ahead) is counted into as it is.
 *
 * Counting needs no fsync of its own: in WAL mode, synchronous=NORMAL
 * still survives a crash of the daemon (the WAL is in the page cache);
 * only a power cut can forget the last moments of counting, which lets a
 * few more messages through. With FULL, every accepted message of every
 * authorized sender waited for one more fsync, one at a time behind the
 * store's lock. Accounts and passwords keep FULL.
 */
#include "store/store_sqlite_int.h"
#include <string.h>

/* The counts of the windows starting at ?2 (hour) and ?3 (day). */
#define CUR_COUNTS \
	"coalesce(CASE WHEN b.hour_start >= ?2 THEN b.hour_count END, 0)," \
	" coalesce(CASE WHEN b.day_start >= ?3 THEN b.day_count END, 0)"

/* The update of an existing row: add excluded's counts (?4) to both
 * windows, restarting a window older than the one given. */
#define UPSERT_SET \
	" ON CONFLICT (account_id) DO UPDATE SET" \
	" hour_count = CASE WHEN hour_start >= excluded.hour_start" \
	"  THEN hour_count + excluded.hour_count ELSE excluded.hour_count END," \
	" hour_start = max(hour_start, excluded.hour_start)," \
	" day_count = CASE WHEN day_start >= excluded.day_start" \
	"  THEN day_count + excluded.day_count ELSE excluded.day_count END," \
	" day_start = max(day_start, excluded.day_start)"

/* ?1 account, ?2 hour start, ?3 day start, ?4 n */
static const char add_sql[] =
	"INSERT INTO rate_budget (account_id, hour_start, hour_count, day_start, day_count)"
	" SELECT id, ?2, ?4, ?3, ?4 FROM accounts WHERE name = ?1" UPSERT_SET;

/* The same only if n fits both windows (?5 per hour, ?6 per day): an empty
 * window must hold n, a window in use its count + n. */
static const char reserve_sql[] =
	"INSERT INTO rate_budget (account_id, hour_start, hour_count, day_start, day_count)"
	" SELECT id, ?2, ?4, ?3, ?4 FROM accounts WHERE name = ?1 AND ?4 <= ?5 AND ?4 <= ?6" UPSERT_SET
	" WHERE (CASE WHEN hour_start >= excluded.hour_start THEN hour_count ELSE 0 END) + ?4 <= ?5"
	" AND (CASE WHEN day_start >= excluded.day_start THEN day_count ELSE 0 END) + ?4 <= ?6";

static void bind_window(sqlite3_stmt *s, const char *account, time_t hour, time_t day)
{
	sqlite3_bind_text(s, 1, account, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)hour);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)day);
}

/* *found (if given) <- whether the account exists. */
static int counts(struct sq_store *st, const char *account, time_t hour, time_t day,
                  int *nhour, int *nday, int *found)
{
	sqlite3_stmt *s;
	int rc;

	*nhour = *nday = 0;
	if (sq_prepare(st, &s, "SELECT " CUR_COUNTS " FROM accounts a"
	               " LEFT JOIN rate_budget b ON b.account_id = a.id WHERE a.name = ?1") < 0)
		return STORE_EFAIL;
	bind_window(s, account, hour, day);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*nhour = sqlite3_column_int(s, 0);
		*nday = sqlite3_column_int(s, 1);
	}
	if (found)
		*found = rc == SQLITE_ROW;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

int sq_rate_get(struct store *base, const char *account, time_t hour, time_t day, int *nhour, int *nday)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = counts(st, account, hour, day, nhour, nday, NULL);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Run one counting write (?1 account, ?2 hour, ?3 day, ?4 n, then ?5, ?6). */
static int count_write(struct sq_store *st, const char *sql, const char *account, time_t hour, time_t day,
                       int n, int p5, int p6, int *changes)
{
	sqlite3_stmt *s;

	if (sq_prepare(st, &s, sql) < 0)
		return STORE_EFAIL;
	bind_window(s, account, hour, day);
	sqlite3_bind_int(s, 4, n);
	if (sqlite3_bind_parameter_count(s) >= 6) {
		sqlite3_bind_int(s, 5, p5);
		sqlite3_bind_int(s, 6, p6);
	}
	return sq_exec_write(st, s, changes);
}

int sq_rate_add(struct store *base, const char *account, time_t hour, time_t day, int n)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	rc = count_write(st, add_sql, account, hour, day, n, 0, 0, NULL);
	sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	pthread_mutex_unlock(&st->mu);
	return rc < 0 ? STORE_EFAIL : 0;
}

/* One IMMEDIATE transaction: the conditional write, then the counts. Other
 * processes (hostmailctl, a second store) wait for the write lock. */
int sq_rate_reserve(struct store *base, const char *account, time_t hour, time_t day, int n,
                    int per_hour, int per_day, int *nhour, int *nday)
{
	struct sq_store *st = SQ(base);
	int rc, changes = 0, found = 0;

	pthread_mutex_lock(&st->mu);
	sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = count_write(st, reserve_sql, account, hour, day, n, per_hour, per_day, &changes);
	if (rc == 0)
		rc = counts(st, account, hour, day, nhour, nday, &found);
	if (sq_end(st, rc == 0) < 0)
		rc = STORE_EFAIL;
	sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		return STORE_EFAIL;
	if (!found)
		return STORE_ENOTFOUND;
	if (changes)
		return 0;
	return *nhour + n > per_hour ? 1 : 2;
}

int sq_rate_release(struct store *base, const char *account, time_t hour, time_t day, int n)
{
	struct sq_store *st = SQ(base);
	int rc;

	pthread_mutex_lock(&st->mu);
	sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	rc = count_write(st, "UPDATE rate_budget SET"
	                 " hour_count = CASE WHEN hour_start = ?2 THEN max(hour_count - ?4, 0) ELSE hour_count END,"
	                 " day_count = CASE WHEN day_start = ?3 THEN max(day_count - ?4, 0) ELSE day_count END"
	                 " WHERE account_id = (SELECT id FROM accounts WHERE name = ?1)",
	                 account, hour, day, n, 0, 0, NULL);
	sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	pthread_mutex_unlock(&st->mu);
	return rc < 0 ? STORE_EFAIL : 0;
}
