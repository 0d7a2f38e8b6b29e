/*
 * store_rate: the SQLite implementation of the recipient counters
 * (rate.h): one row per account and window kind; a row whose start is
 * not the current window's counts as zero and is restarted on add.
 */
#include "policy/rate.h"
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include <string.h>

static int window_count(struct store *st, const char *account, const char *window, time_t start, int *out)
{
	sqlite3_stmt *s;
	int rc;

	*out = 0;
	rc = sq_prepare(st, &s, "SELECT r.count FROM rate_counters r JOIN accounts a ON a.id = r.account_id"
	                " WHERE a.name = ?1 AND r.window = ?2 AND r.start = ?3");
	if (rc < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, account, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, window, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)start);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

int rate_get(struct store *st, const char *account, time_t now, struct rate_use *out)
{
	int rc;

	memset(out, 0, sizeof *out);
	out->hour_reset = rate_hour_start(now) + 3600;
	out->day_reset = rate_day_start(now) + 86400;
	pthread_mutex_lock(&st->mu);
	rc = window_count(st, account, "h", rate_hour_start(now), &out->hour);
	if (rc == 0)
		rc = window_count(st, account, "d", rate_day_start(now), &out->day);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int window_add(struct store *st, const char *account, const char *window, time_t start, int n)
{
	sqlite3_stmt *s;

	if (sq_prepare(st, &s, "INSERT INTO rate_counters (account_id, window, start, count)"
	               " SELECT id, ?2, ?3, ?4 FROM accounts WHERE name = ?1"
	               " ON CONFLICT (account_id, window) DO UPDATE SET"
	               " count = CASE WHEN start = excluded.start THEN count + excluded.count ELSE excluded.count END,"
	               " start = excluded.start") < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, account, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, window, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)start);
	sqlite3_bind_int(s, 4, n);
	return sq_exec_write(st, s, NULL);
}

int rate_add(struct store *st, const char *account, time_t now, int n)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	/* Counting needs no fsync of its own: in WAL mode, synchronous=NORMAL
	 * still survives a crash of the daemon (the WAL is in the page cache);
	 * only a power cut can forget the last moments of counting, which
	 * lets a few more messages through. With FULL, every accepted message
	 * of every authorized sender waited for one more fsync, one at a time
	 * behind this lock. Accounts and passwords keep FULL. */
	sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = window_add(st, account, "h", rate_hour_start(now), n);
	if (rc == 0)
		rc = window_add(st, account, "d", rate_day_start(now), n);
	sqlite3_exec(st->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	pthread_mutex_unlock(&st->mu);
	return rc < 0 ? STORE_EFAIL : 0;
}
