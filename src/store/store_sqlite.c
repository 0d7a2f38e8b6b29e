/*
 * store_sqlite: the embedded account store, SQLite in data_dir/hostmail.db
 * (see store.h): opening, accounts, domains and the backend's table;
 * the schema is in store_sqlite_schema.c, mailboxes in
 * store_sqlite_mailbox.c. WAL mode so hostmaild's readers and
 * hostmailctl's writer do not block each other; busy_timeout for the
 * moments they do. One recursive mutex per struct store serializes
 * threads; statements are prepared per call, so a list callback may call
 * back into the store. Only bound parameters ever reach SQL; store.c has
 * checked and normalized every input.
 */
#include "store/store_sqlite_int.h"
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

int sq_dberr(struct sq_store *st, char *err, size_t errlen)
{
	store_seterr(err, errlen, "database error: %s", sqlite3_errmsg(st->db));
	return STORE_EFAIL;
}

int sq_prepare(struct sq_store *st, sqlite3_stmt **s, const char *sql)
{
	return sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK ? 0 : -1;
}

void sq_text(sqlite3_stmt *s, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

int sq_begin(struct sq_store *st)
{
	return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int sq_end(struct sq_store *st, int commit)
{
	if (commit && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return commit ? -1 : 0;
}

static int open_db(struct sq_store *st, int *from, char *err, size_t errlen)
{
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "cannot open %s: %s", st->path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
	                 "PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return sq_schema_upgrade(st, from, err, errlen);
}

static const struct store_ops sqlite_ops;

struct store *store_sqlite_open_file(const char *path, int *schema_from, char *err, size_t errlen)
{
	struct sq_store *st = calloc(1, sizeof *st);
	pthread_mutexattr_t a;
	int from = 0;

	if (!st) {
		store_seterr(err, errlen, "out of memory");
		return NULL;
	}
	st->base.ops = &sqlite_ops;
	if (snprintf(st->path, sizeof st->path, "%s", path) >= (int)sizeof st->path) {
		store_seterr(err, errlen, "path too long: %s", path);
		free(st);
		return NULL;
	}
	if (open_db(st, &from, err, errlen) < 0) {
		sqlite3_close(st->db);
		free(st);
		return NULL;
	}
	if (schema_from)
		*schema_from = from;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->mu, &a);
	pthread_mutexattr_destroy(&a);
	return &st->base;
}

struct store *store_sqlite_open(const char *data_dir, int *schema_from, char *err, size_t errlen)
{
	char path[1024];
	int fd;

	if (mkdir_p(data_dir, 0750) < 0) {
		store_seterr(err, errlen, "cannot create %s: %s", data_dir, strerror(errno));
		return NULL;
	}
	if (snprintf(path, sizeof path, "%s/hostmail.db", data_dir) >= (int)sizeof path) {
		store_seterr(err, errlen, "data_dir too long: %s", data_dir);
		return NULL;
	}
	/* Create it ourselves so password hashes and DKIM private keys are
	 * the owner's only (a file made 0640 before DKIM keys were kept here
	 * loses its group bits too; SQLite gives the -wal and -shm files the
	 * same mode). */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		store_seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	(void)fchmod(fd, 0600);
	close(fd);
	return store_sqlite_open_file(path, schema_from, err, errlen);
}

static void sq_close(struct store *base)
{
	struct sq_store *st = SQ(base);

	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* Run one bound write statement; *changes gets the affected rows. */
int sq_exec_write(struct sq_store *st, sqlite3_stmt *s, int *changes)
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

/* A write by name that must hit exactly one row; else "what NAME not found". */
int sq_write_one(struct sq_store *st, const char *sql, const char *b1, const char *b2,
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
			store_seterr(err, errlen, "%s %s does not exist", what, name);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_write_count(struct sq_store *st, const char *sql, const char *b, sqlite3_int64 n, int use_n)
{
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	rc = sq_prepare(st, &s, sql);
	if (rc == 0) {
		if (use_n)
			sqlite3_bind_int64(s, 1, n);
		else
			sqlite3_bind_text(s, 1, b, -1, SQLITE_TRANSIENT);
		rc = sq_exec_write(st, s, &changes);
	} else {
		rc = STORE_EFAIL;
	}
	pthread_mutex_unlock(&st->mu);
	return rc < 0 ? STORE_EFAIL : changes;
}

int sq_account_add(struct store *base, const char *name, const char *created,
                   int server_number, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO accounts(name, created, server_number) VALUES (?, ?, ?)") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, created, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, server_number);
		rc = sq_exec_write(st, s, NULL);
		if (rc == STORE_EEXIST)
			store_seterr(err, errlen, "account %s already exists", name);
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

int sq_account_set_limits(struct store *base, const char *name, int per_hour, int per_day,
                          int max_recipients, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

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
			store_seterr(err, errlen, "account %s does not exist", name);
			rc = STORE_ENOTFOUND;
		} else if (rc < 0) {
			rc = sq_dberr(st, err, errlen);
		}
	} else {
		rc = sq_dberr(st, err, errlen);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_account_get(struct store *base, const char *name, struct account *out)
{
	struct sq_store *st = SQ(base);
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

/* Suspension ends the account's POP-before-SMTP grants and ACC sessions
 * (trigger account_suspended, in the same write). */
int sq_account_set_suspended(struct store *base, const char *name, int suspended,
                             char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "UPDATE accounts SET status = ? WHERE name = ?",
	                    suspended ? "suspended" : "active", name, "account", name, err, errlen);
}

int sq_account_remove(struct store *base, const char *name, char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "DELETE FROM accounts WHERE name = ?", name, NULL,
	                    "account", name, err, errlen);
}

int sq_account_list(struct store *base, store_account_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
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

int sq_domain_owner(struct store *base, const char *domain, char *owner, size_t ownerlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT a.name FROM domains d JOIN accounts a ON a.id = d.account_id "
	                       "WHERE d.name = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
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
static void domain_taken(struct store *base, const char *account, const char *d,
                         char *err, size_t errlen)
{
	char owner[STORE_NAME_MAX];

	if (sq_domain_owner(base, d, owner, sizeof owner) < 0)
		store_seterr(err, errlen, "domain %s is already hosted", d);
	else if (strcmp(owner, account) == 0)
		store_seterr(err, errlen, "domain %s already belongs to account %s", d, owner);
	else
		store_seterr(err, errlen, "domain %s is already hosted by another account, %s", d, owner);
}

int sq_domain_add(struct store *base, const char *account, const char *d, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO domains(name, account_id) "
	                       "SELECT ?, id FROM accounts WHERE name = ?") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, d, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, account, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
		if (rc == STORE_EEXIST) {
			domain_taken(base, account, d, err, errlen);
		} else if (rc) {
			sq_dberr(st, err, errlen);
		} else if (changes == 0) {
			store_seterr(err, errlen, "account %s does not exist", account);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_domain_remove(struct store *base, const char *d, char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "DELETE FROM domains WHERE name = ?", d, NULL,
	                    "domain", d, err, errlen);
}

int sq_domain_list(struct store *base, const char *account, store_domain_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
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

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.account_add = sq_account_add,
	.account_get = sq_account_get,
	.account_set_suspended = sq_account_set_suspended,
	.account_set_limits = sq_account_set_limits,
	.account_remove = sq_account_remove,
	.account_list = sq_account_list,
	.account_set_password = sq_account_set_password,
	.account_get_password = sq_account_get_password,
	.domain_add = sq_domain_add,
	.domain_remove = sq_domain_remove,
	.domain_list = sq_domain_list,
	.domain_owner = sq_domain_owner,
	.mailbox_add = sq_mailbox_add,
	.mailbox_set_password = sq_mailbox_set_password,
	.mailbox_remove = sq_mailbox_remove,
	.mailbox_get = sq_mailbox_get,
	.mailbox_list = sq_mailbox_list,
	.rcpt_lookup = sq_rcpt_lookup,
	.relay_grant = sq_relay_grant,
	.relay_lookup = sq_relay_lookup,
	.relay_revoke = sq_relay_revoke,
	.relay_revoke_account = sq_relay_revoke_account,
	.relay_purge = sq_relay_purge,
	.relay_list = sq_relay_list,
	.rate_get = sq_rate_get,
	.rate_add = sq_rate_add,
	.rate_reserve = sq_rate_reserve,
	.rate_release = sq_rate_release,
	.session_create = sq_session_create,
	.session_find = sq_session_find,
	.session_set_flash = sq_session_set_flash,
	.session_take_flash = sq_session_take_flash,
	.session_end = sq_session_end,
	.session_end_account = sq_session_end_account,
	.session_purge = sq_session_purge,
	.dkim_add = sq_dkim_add,
	.dkim_list = sq_dkim_list,
	.dkim_activate = sq_dkim_activate,
	.alias_set = sq_alias_set,
	.alias_remove = sq_alias_remove,
	.alias_get = sq_alias_get,
	.alias_list = sq_alias_list,
	.catchall_set = sq_catchall_set,
	.catchall_get = sq_catchall_get,
	.contact_set = sq_contact_set,
	.contact_get = sq_contact_get,
	.quota_get = sq_quota_get,
	.quota_set = sq_quota_set,
	.account_quota_set = sq_account_quota_set,
	.account_quota_get = sq_account_quota_get,
	.vacation_get = sq_vacation_get,
	.vacation_set = sq_vacation_set,
	.vacation_note = sq_vacation_note,
	.domain_spam_get = sq_domain_spam_get,
	.domain_spam_set = sq_domain_spam_set,
	.node_add = sq_node_add,
	.node_get = sq_node_get,
	.node_list = sq_node_list,
	.node_set_state = sq_node_set_state,
	.node_set_imap = sq_node_set_imap,
	.node_remove = sq_node_remove,
	.node_pick = sq_node_pick,
	.mailbox_home = sq_mailbox_home,
	.move_begin = sq_move_begin,
	.move_get = sq_move_get,
	.move_switch = sq_move_switch,
	.move_end = sq_move_end,
	.move_list = sq_move_list,
};
