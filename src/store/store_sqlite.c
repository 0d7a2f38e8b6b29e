/*
 * store_sqlite: the embedded account store, SQLite in data_dir/hostmail.db
 * (see store.h): opening and schema, accounts, domains; mailboxes are in
 * store_sqlite_mailbox.c. WAL mode so hostmaild's readers and hostmailctl's writer
 * do not block each other; busy_timeout for the moments they do. One
 * recursive mutex per struct store serializes threads; statements are
 * prepared per call, so a list callback may call back into the store.
 * Only bound parameters ever reach SQL.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "policy/relay_auth.h"
#include "store/store_valid.h"
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000

/* relay_auth is created now for POP-before-SMTP (a later issue); accounts'
 * password_hash is for the ACC login (NULL until set). */
static const char *schema =
	"CREATE TABLE IF NOT EXISTS accounts ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended')),"
	" created TEXT NOT NULL,"
	" server_number INTEGER NOT NULL DEFAULT 0,"
	" password_hash TEXT,"
	" limit_per_hour INTEGER,"         /* NULL = [limits] default */
	" limit_per_day INTEGER,"
	" limit_max_recipients INTEGER);"
	"CREATE TABLE IF NOT EXISTS domains ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE);"
	"CREATE INDEX IF NOT EXISTS domains_account ON domains(account_id);"
	"CREATE TABLE IF NOT EXISTS mailboxes ("
	" id INTEGER PRIMARY KEY,"
	" address TEXT NOT NULL UNIQUE,"
	" domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	" password_hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS mailboxes_domain ON mailboxes(domain_id);"
	"CREATE TABLE IF NOT EXISTS relay_auth ("
	" ip TEXT NOT NULL,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" mailbox TEXT NOT NULL,"
	" expires INTEGER NOT NULL,"
	" PRIMARY KEY (ip, mailbox));"
	"CREATE INDEX IF NOT EXISTS relay_auth_expires ON relay_auth(expires);"
	/* a grant belongs to a mailbox's login: it ends when the mailbox goes
	 * (also by a domain or account removal, which cascade) or its password
	 * changes (the old password may be what someone else logged in with) */
	"CREATE TRIGGER IF NOT EXISTS relay_auth_mailbox_gone AFTER DELETE ON mailboxes"
	" BEGIN DELETE FROM relay_auth WHERE mailbox = OLD.address; END;"
	"CREATE TRIGGER IF NOT EXISTS relay_auth_mailbox_password AFTER UPDATE OF password_hash ON mailboxes"
	" WHEN NEW.password_hash IS NOT OLD.password_hash"
	" BEGIN DELETE FROM relay_auth WHERE mailbox = OLD.address; END;"
	/* recipient budgets: one row per account and window kind ('h', 'd') */
	"CREATE TABLE IF NOT EXISTS rate_counters ("
	" account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" window TEXT NOT NULL,"
	" start INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (account_id, window));";

void sq_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sq_dberr(struct store *st, char *err, size_t errlen)
{
	sq_seterr(err, errlen, "database error: %s", sqlite3_errmsg(st->db));
	return STORE_EFAIL;
}

int sq_prepare(struct store *st, sqlite3_stmt **s, const char *sql)
{
	return sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK ? 0 : -1;
}

void sq_text(sqlite3_stmt *s, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

static int open_db(struct store *st, const char *data_dir, char *err, size_t errlen)
{
	char path[1024];
	int fd, ver = -1;
	sqlite3_stmt *s;

	if (mkdir_p(data_dir, 0750) < 0) {
		sq_seterr(err, errlen, "cannot create %s: %s", data_dir, strerror(errno));
		return -1;
	}
	if (snprintf(path, sizeof path, "%s/hostmail.db", data_dir) >= (int)sizeof path) {
		sq_seterr(err, errlen, "data_dir too long: %s", data_dir);
		return -1;
	}
	/* Create it ourselves so password hashes are not world-readable;
	 * SQLite gives the -wal and -shm files the same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		sq_seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		sq_seterr(err, errlen, "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
	                 "PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK ||
	    sq_prepare(st, &s, "PRAGMA user_version") < 0) {
		sq_seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		ver = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (ver > SCHEMA_VERSION) {
		sq_seterr(err, errlen, "%s: made by a newer hostmail (schema version %d)", path, ver);
		return -1;
	}
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA user_version = 1", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_seterr(err, errlen, "%s: cannot create schema: %s", path, sqlite3_errmsg(st->db));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

struct store *store_open(const char *data_dir, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof *st);
	pthread_mutexattr_t a;

	if (!st) {
		sq_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (open_db(st, data_dir, err, errlen) < 0) {
		sqlite3_close(st->db);
		free(st);
		return NULL;
	}
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->mu, &a);
	pthread_mutexattr_destroy(&a);
	return st;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* Run one bound write statement; *changes gets the affected rows. */
int sq_exec_write(struct store *st, sqlite3_stmt *s, int *changes)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return STORE_EEXIST;
	if (rc != SQLITE_DONE)
		return STORE_EFAIL;
	if (changes)
		*changes = sqlite3_changes(st->db);
	return 0;
}

static void today_utc(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int store_account_add(struct store *st, const char *name, const char *created,
                      int server_number, char *err, size_t errlen)
{
	char today[11];
	sqlite3_stmt *s;
	int rc;

	if (valid_account_name(name, err, errlen) < 0)
		return STORE_EINVAL;
	if (!created) {
		today_utc(today);
		created = today;
	} else if (valid_date(created, err, errlen) < 0) {
		return STORE_EINVAL;
	}
	if (server_number < 0 || server_number > 99999) {
		sq_seterr(err, errlen, "invalid server number: must be 0 to 99999");
		return STORE_EINVAL;
	}
	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO accounts(name, created, server_number) VALUES (?, ?, ?)") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, created, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, server_number);
		rc = sq_exec_write(st, s, NULL);
		if (rc == STORE_EEXIST)
			sq_seterr(err, errlen, "account %s already exists", name);
		else if (rc)
			sq_dberr(st, err, errlen);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static void row_account(sqlite3_stmt *s, struct account *a)
{
	const unsigned char *status;

	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(s, 0);
	sq_text(s, 1, a->name, sizeof a->name);
	status = sqlite3_column_text(s, 2);
	a->suspended = status && strcmp((const char *)status, "suspended") == 0;
	sq_text(s, 3, a->created, sizeof a->created);
	a->server_number = sqlite3_column_int(s, 4);
	a->limit_per_hour = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5);
	a->limit_per_day = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 6);
	a->limit_max_recipients = sqlite3_column_type(s, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 7);
}

#define ACCOUNT_COLS "SELECT id, name, status, created, server_number, limit_per_hour," \
	" limit_per_day, limit_max_recipients FROM accounts "

static void bind_limit(sqlite3_stmt *s, int col, int v)
{
	if (v == -1)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_int(s, col, v);
}

int store_account_set_limits(struct store *st, const char *name, int per_hour, int per_day,
                             int max_recipients, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, changes = 0;

	if (per_hour < -2 || per_day < -2 || max_recipients < -2 || max_recipients == 0) {
		sq_seterr(err, errlen, "limits must be 0 or more (max recipients at least 1)");
		return STORE_EINVAL;
	}
	pthread_mutex_lock(&st->mu);
	rc = sq_prepare(st, &s, "UPDATE accounts SET"
	                " limit_per_hour = CASE WHEN ?1 = -2 THEN limit_per_hour ELSE ?2 END,"
	                " limit_per_day = CASE WHEN ?3 = -2 THEN limit_per_day ELSE ?4 END,"
	                " limit_max_recipients = CASE WHEN ?5 = -2 THEN limit_max_recipients ELSE ?6 END"
	                " WHERE name = ?7");
	if (rc == 0) {
		sqlite3_bind_int(s, 1, per_hour);
		bind_limit(s, 2, per_hour);
		sqlite3_bind_int(s, 3, per_day);
		bind_limit(s, 4, per_day);
		sqlite3_bind_int(s, 5, max_recipients);
		bind_limit(s, 6, max_recipients);
		sqlite3_bind_text(s, 7, name, -1, SQLITE_TRANSIENT);
		rc = sq_exec_write(st, s, &changes);
		if (rc == 0 && changes == 0) {
			sq_seterr(err, errlen, "account %s does not exist", name);
			rc = STORE_ENOTFOUND;
		} else if (rc < 0) {
			rc = sq_dberr(st, err, errlen);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int store_account_get(struct store *st, const char *name, struct account *out)
{
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, ACCOUNT_COLS "WHERE name = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			row_account(s, out);
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* A write by name that must hit exactly one row; else "what NAME not found". */
int sq_write_one(struct store *st, const char *sql, const char *b1, const char *b2,
                     const char *what, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, sql) < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, b1, -1, SQLITE_STATIC);
		if (b2)
			sqlite3_bind_text(s, 2, b2, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
		if (rc)
			sq_dberr(st, err, errlen);
		else if (changes == 0) {
			sq_seterr(err, errlen, "%s %s does not exist", what, name);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int store_account_set_suspended(struct store *st, const char *name, int suspended,
                                char *err, size_t errlen)
{
	int rc = sq_write_one(st, "UPDATE accounts SET status = ? WHERE name = ?",
	                      suspended ? "suspended" : "active", name, "account", name, err, errlen);

	/* A suspended account loses its POP-before-SMTP authorizations at once. */
	if (rc == 0 && suspended && relay_auth_revoke_account(st, name) < 0) {
		sq_seterr(err, errlen, "account %s suspended, but its relay authorizations could not be removed", name);
		return STORE_EFAIL;
	}
	return rc;
}

int store_account_remove(struct store *st, const char *name, char *err, size_t errlen)
{
	return sq_write_one(st, "DELETE FROM accounts WHERE name = ?", name, NULL,
	                 "account", name, err, errlen);
}

int store_account_list(struct store *st, int (*cb)(const struct account *, void *), void *arg)
{
	struct account a;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, ACCOUNT_COLS "ORDER BY name") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_account(s, &a);
		if (cb(&a, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

int store_domain_owner(struct store *st, const char *domain, char *owner, size_t ownerlen)
{
	char d[256];
	sqlite3_stmt *s;
	int rc;

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT a.name FROM domains d JOIN accounts a ON a.id = d.account_id "
	                    "WHERE d.name = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, d, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			sq_text(s, 0, owner, ownerlen);
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* After a UNIQUE violation: say who owns the domain. */
static void domain_taken(struct store *st, const char *account, const char *d,
                         char *err, size_t errlen)
{
	char owner[STORE_NAME_MAX];

	if (store_domain_owner(st, d, owner, sizeof owner) < 0)
		sq_seterr(err, errlen, "domain %s is already hosted", d);
	else if (strcmp(owner, account) == 0)
		sq_seterr(err, errlen, "domain %s already belongs to account %s", d, owner);
	else
		sq_seterr(err, errlen, "domain %s is already hosted by another account, %s", d, owner);
}

int store_domain_add(struct store *st, const char *account, const char *domain,
                     char *err, size_t errlen)
{
	char d[256];
	sqlite3_stmt *s;
	int rc, changes = 0;

	if (valid_domain(domain, d, sizeof d, err, errlen) < 0)
		return STORE_EINVAL;
	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO domains(name, account_id) "
	                    "SELECT ?, id FROM accounts WHERE name = ?") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, d, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, account, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
		if (rc == STORE_EEXIST) {
			domain_taken(st, account, d, err, errlen);
		} else if (rc) {
			sq_dberr(st, err, errlen);
		} else if (changes == 0) {
			sq_seterr(err, errlen, "account %s does not exist", account);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int store_domain_remove(struct store *st, const char *domain, char *err, size_t errlen)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0) {
		sq_seterr(err, errlen, "domain %s is not hosted", domain);
		return STORE_ENOTFOUND;
	}
	return sq_write_one(st, "DELETE FROM domains WHERE name = ?", d, NULL,
	                 "domain", d, err, errlen);
}

int store_domain_list(struct store *st, const char *account,
                      int (*cb)(const char *domain, const char *account, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT d.name, a.name FROM domains d JOIN accounts a ON a.id = d.account_id "
	                    "WHERE ?1 IS NULL OR a.name = ?1 ORDER BY d.name") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	if (account)
		sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cb((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}
