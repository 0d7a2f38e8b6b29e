/*
 * store_sqlite_schema: the SQLite store's schema as an ordered list of
 * migrations, the same versions as PostgreSQL's (store_pg_schema.c; what
 * each version holds is in docs/cluster.md). Table schema_version has one
 * row per migration applied; a database made before it existed says its
 * version in PRAGMA user_version (1), which is kept equal to the newest
 * version so that an older hostmail refuses a newer file. Every
 * migration runs in the one IMMEDIATE transaction that records it, so a
 * crash leaves the old version or the new, and opening again goes on.
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

struct migration {
	int version;
	const char *sql;
};

static const struct migration migrations[] = {
	{ 1,
	  "CREATE TABLE IF NOT EXISTS accounts ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE,"
	  " status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended')),"
	  " created TEXT NOT NULL,"
	  " server_number INTEGER NOT NULL DEFAULT 0,"
	  " password_hash TEXT,"             /* the ACC login; NULL until set */
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
	  "CREATE TABLE IF NOT EXISTS rate_counters ("
	  " account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	  " window TEXT NOT NULL,"
	  " start INTEGER NOT NULL,"
	  " count INTEGER NOT NULL,"
	  " PRIMARY KEY (account_id, window));" },
	{ 2,
	  /* recipient budgets: both windows in one row per account, so that a
	   * reservation checks and counts both in one write */
	  "CREATE TABLE rate_budget ("
	  " account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,"
	  " hour_start INTEGER NOT NULL DEFAULT 0,"
	  " hour_count INTEGER NOT NULL DEFAULT 0,"
	  " day_start INTEGER NOT NULL DEFAULT 0,"
	  " day_count INTEGER NOT NULL DEFAULT 0);"
	  "INSERT INTO rate_budget (account_id, hour_start, hour_count, day_start, day_count)"
	  " SELECT account_id,"
	  "  coalesce(max(CASE WHEN window = 'h' THEN start END), 0),"
	  "  coalesce(max(CASE WHEN window = 'h' THEN count END), 0),"
	  "  coalesce(max(CASE WHEN window = 'd' THEN start END), 0),"
	  "  coalesce(max(CASE WHEN window = 'd' THEN count END), 0)"
	  " FROM rate_counters GROUP BY account_id;"
	  "DROP TABLE rate_counters;"
	  /* ACC sessions: SHA-256 of the id, never the id */
	  "CREATE TABLE acc_sessions ("
	  " id_hash TEXT PRIMARY KEY,"
	  " account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	  " csrf TEXT NOT NULL,"
	  " created INTEGER NOT NULL,"
	  " last INTEGER NOT NULL,"
	  " flash TEXT NOT NULL DEFAULT '',"
	  " flash_error INTEGER NOT NULL DEFAULT 0);"
	  "CREATE INDEX acc_sessions_account ON acc_sessions(account_id, last);"
	  "CREATE INDEX acc_sessions_last ON acc_sessions(last);"
	  "CREATE INDEX relay_auth_account ON relay_auth(account_id);"
	  /* suspension ends the account's grants and sessions; a new ACC
	   * password ends its sessions */
	  "CREATE TRIGGER account_suspended AFTER UPDATE OF status ON accounts"
	  " WHEN NEW.status = 'suspended' BEGIN"
	  " DELETE FROM relay_auth WHERE account_id = NEW.id;"
	  " DELETE FROM acc_sessions WHERE account_id = NEW.id; END;"
	  "CREATE TRIGGER account_password AFTER UPDATE OF password_hash ON accounts"
	  " BEGIN DELETE FROM acc_sessions WHERE account_id = NEW.id; END;" },
	{ 3,
	  /* DKIM keys per domain (store_dkim.h): a generation is two rows,
	   * RSA and Ed25519; private keys as PEM, public ones as the p= value */
	  "CREATE TABLE dkim_keys ("
	  " id INTEGER PRIMARY KEY,"
	  " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	  " generation INTEGER NOT NULL,"
	  " selector TEXT NOT NULL,"
	  " algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa','ed25519')),"
	  " state TEXT NOT NULL CHECK (state IN ('pending','active','retired')),"
	  " created INTEGER NOT NULL,"
	  " public_key TEXT NOT NULL,"
	  " private_key TEXT NOT NULL,"
	  " UNIQUE (domain_id, selector));"
	  "CREATE INDEX dkim_keys_domain ON dkim_keys(domain_id, state);" },
	{ 4,
	  /* routing (store_alias.h, docs/routing.md): aliases, the catch-all
	   * of a domain, the contact of an account (postmaster@, abuse@) */
	  "CREATE TABLE aliases ("
	  " id INTEGER PRIMARY KEY,"
	  " address TEXT NOT NULL UNIQUE,"
	  " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	  " targets TEXT NOT NULL);"
	  "CREATE INDEX aliases_domain ON aliases(domain_id);"
	  "CREATE TABLE catchalls ("
	  " domain_id INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,"
	  " target TEXT NOT NULL);"
	  "CREATE TABLE account_contacts ("
	  " account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,"
	  " address TEXT NOT NULL);" },
	{ 5,
	  /* mailbox quotas (store_quota.h): the mailbox's own (NULL = the
	   * account's default), the account's default (0 = none); and the
	   * autoresponders (store_vacation.h) with who they answered when */
	  "ALTER TABLE mailboxes ADD COLUMN quota_bytes INTEGER;"
	  "ALTER TABLE mailboxes ADD COLUMN quota_messages INTEGER;"
	  "ALTER TABLE accounts ADD COLUMN mailbox_quota_bytes INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE accounts ADD COLUMN mailbox_quota_messages INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TABLE vacations ("
	  " mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,"
	  " enabled INTEGER NOT NULL,"
	  " subject TEXT NOT NULL,"
	  " body TEXT NOT NULL,"
	  " start_date TEXT NOT NULL DEFAULT '',"
	  " end_date TEXT NOT NULL DEFAULT '');"
	  "CREATE TABLE vacation_replies ("
	  " mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
	  " sender TEXT NOT NULL,"
	  " sent INTEGER NOT NULL,"
	  " PRIMARY KEY (mailbox_id, sender));" },
	{ 6,
	  /* each domain's choice for mail the filter marks as spam
	   * (store_spam.h); no row = the provider's default */
	  "CREATE TABLE domain_spam ("
	  " domain_id INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,"
	  " action TEXT NOT NULL CHECK (action IN ('subject','headers','refuse')));" },
	{ 7,
	  /* the nodes of a fleet (store_node.h); an account's home is the
	   * node numbered like its server_number */
	  "CREATE TABLE nodes ("
	  " number INTEGER PRIMARY KEY CHECK (number BETWEEN 1 AND 99999),"
	  " lmtp TEXT NOT NULL,"
	  " pop3 TEXT NOT NULL,"
	  " imap TEXT NOT NULL DEFAULT '',"
	  " state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','draining')),"
	  " added INTEGER NOT NULL);"
	  "CREATE INDEX accounts_server_number ON accounts(server_number);" },
	{ 8,
	  /* an account moving between nodes (store_move.h) */
	  "CREATE TABLE account_moves ("
	  " account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,"
	  " from_node INTEGER NOT NULL,"
	  " to_node INTEGER NOT NULL CHECK (to_node BETWEEN 1 AND 99999),"
	  " switched INTEGER NOT NULL DEFAULT 0,"
	  " started INTEGER NOT NULL);" },
};

#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

static int int_query(struct sq_store *st, const char *sql, int *out)
{
	sqlite3_stmt *s;
	int rc;

	*out = 0;
	if (sq_prepare(st, &s, sql) < 0)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int record(struct sq_store *st, int version)
{
	sqlite3_stmt *s;

	if (sq_prepare(st, &s, "INSERT OR IGNORE INTO schema_version (version, applied) VALUES (?, ?)") < 0)
		return -1;
	sqlite3_bind_int(s, 1, version);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	return sq_exec_write(st, s, NULL) == 0 ? 0 : -1;
}

/* Inside the transaction: bring the schema from *from to the newest. */
static int apply(struct sq_store *st, int *from, char *err, size_t errlen)
{
	char pragma[64];
	size_t i;
	int v;

	if (sqlite3_exec(st->db, "CREATE TABLE IF NOT EXISTS schema_version ("
	                 " version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
	    int_query(st, "SELECT coalesce(max(version), 0) FROM schema_version", &v) < 0)
		return -1;
	/* made before schema_version: user_version says */
	if (v == 0 && (int_query(st, "PRAGMA user_version", &v) < 0 || (v > 0 && record(st, v) < 0)))
		return -1;
	*from = v;
	if (v > STORE_SCHEMA_VERSION) {
		store_seterr(err, errlen, "%s: made by a newer hostmail (schema version %d)", st->path, v);
		return -2;
	}
	for (i = 0; i < NMIGRATIONS; i++) {
		if (migrations[i].version <= v)
			continue;
		if (sqlite3_exec(st->db, migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK ||
		    record(st, migrations[i].version) < 0)
			return -1;
	}
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	return sqlite3_exec(st->db, pragma, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int sq_schema_upgrade(struct sq_store *st, int *from, char *err, size_t errlen)
{
	int v, rc;

	if (int_query(st, "PRAGMA user_version", &v) < 0) {
		store_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (v == STORE_SCHEMA_VERSION) {
		*from = v;
		return 0;
	}
	if (sq_begin(st) < 0) {
		store_seterr(err, errlen, "%s: cannot create schema: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	rc = apply(st, from, err, errlen);
	if (rc == -1)
		store_seterr(err, errlen, "%s: cannot create schema: %s", st->path, sqlite3_errmsg(st->db));
	if (sq_end(st, rc == 0) < 0 && rc == 0) {
		store_seterr(err, errlen, "%s: cannot create schema: %s", st->path, sqlite3_errmsg(st->db));
		rc = -1;
	}
	return rc < 0 ? -1 : 0;
}
