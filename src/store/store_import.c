/*
 * store_import: SQLite hostmail.db -> PostgreSQL (see store_import.h).
 * Reads the source in one read transaction (a running hostmaild may keep
 * writing: WAL readers see one moment), writes the target in one
 * transaction with its tables locked against other writers, rows copied
 * with their ids through prepared statements (text parameters; NULL
 * stays NULL), the identity sequences moved past the copied ids, and the
 * counts of both compared before COMMIT.
 */
#include "store/store_import.h"
#include "store/store_pg_int.h"
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct table {
	const char *name;
	const char *select;          /* from SQLite, the columns in insert's order */
	struct pg_stmt insert;
};

static const struct table tables[] = {
	{ "accounts",
	  "SELECT id, name, status, created, server_number, password_hash, limit_per_hour, limit_per_day,"
	  " limit_max_recipients, mailbox_quota_bytes, mailbox_quota_messages FROM accounts ORDER BY id",
	  { "import_accounts", "INSERT INTO accounts (id, name, status, created, server_number, password_hash,"
	    " limit_per_hour, limit_per_day, limit_max_recipients, mailbox_quota_bytes, mailbox_quota_messages)"
	    " VALUES ($1::bigint, $2, $3, $4::date, $5::integer, $6, $7::integer, $8::integer, $9::integer,"
	    " $10::bigint, $11::bigint)", 11, 0 } },
	{ "domains", "SELECT id, name, account_id FROM domains ORDER BY id",
	  { "import_domains", "INSERT INTO domains (id, name, account_id) VALUES ($1::bigint, $2, $3::bigint)", 3, 0 } },
	{ "mailboxes", "SELECT id, address, domain_id, password_hash, quota_bytes, quota_messages FROM mailboxes"
	  " ORDER BY id",
	  { "import_mailboxes", "INSERT INTO mailboxes (id, address, domain_id, password_hash, quota_bytes,"
	    " quota_messages) VALUES ($1::bigint, $2, $3::bigint, $4, $5::bigint, $6::bigint)", 6, 0 } },
	{ "vacations", "SELECT mailbox_id, CASE WHEN enabled THEN 'true' ELSE 'false' END, subject, body, start_date,"
	  " end_date FROM vacations",
	  { "import_vacations", "INSERT INTO vacations (mailbox_id, enabled, subject, body, start_date, end_date)"
	    " VALUES ($1::bigint, $2::boolean, $3, $4, $5, $6)", 6, 0 } },
	{ "vacation_replies", "SELECT mailbox_id, sender, sent FROM vacation_replies",
	  { "import_vacation_replies", "INSERT INTO vacation_replies (mailbox_id, sender, sent)"
	    " VALUES ($1::bigint, $2, $3::bigint)", 3, 0 } },
	{ "relay_auth", "SELECT ip, account_id, mailbox, expires FROM relay_auth",
	  { "import_relay_auth", "INSERT INTO relay_auth (ip, account_id, mailbox, expires)"
	    " VALUES ($1, $2::bigint, $3, $4::bigint)", 4, 0 } },
	{ "rate_budget", "SELECT account_id, hour_start, hour_count, day_start, day_count FROM rate_budget",
	  { "import_rate_budget", "INSERT INTO rate_budget (account_id, hour_start, hour_count, day_start, day_count)"
	    " VALUES ($1::bigint, $2::bigint, $3::integer, $4::bigint, $5::integer)", 5, 0 } },
	{ "acc_sessions", "SELECT id_hash, account_id, csrf, created, last, flash, flash_error FROM acc_sessions",
	  { "import_acc_sessions", "INSERT INTO acc_sessions (id_hash, account_id, csrf, created, last, flash,"
	    " flash_error) VALUES ($1, $2::bigint, $3, $4::bigint, $5::bigint, $6, $7::integer)", 7, 0 } },
	{ "dkim_keys", "SELECT id, domain_id, generation, selector, algorithm, state, created, public_key, private_key"
	  " FROM dkim_keys ORDER BY id",
	  { "import_dkim_keys", "INSERT INTO dkim_keys (id, domain_id, generation, selector, algorithm, state, created,"
	    " public_key, private_key) VALUES ($1::bigint, $2::bigint, $3::integer, $4, $5, $6, $7::bigint, $8, $9)",
	    9, 0 } },
	/* routing (schema version 4, docs/routing.md) */
	{ "aliases", "SELECT id, address, domain_id, targets FROM aliases ORDER BY id",
	  { "import_aliases", "INSERT INTO aliases (id, address, domain_id, targets)"
	    " VALUES ($1::bigint, $2, $3::bigint, $4)", 4, 0 } },
	{ "catchalls", "SELECT domain_id, target FROM catchalls",
	  { "import_catchalls", "INSERT INTO catchalls (domain_id, target) VALUES ($1::bigint, $2)", 2, 0 } },
	{ "account_contacts", "SELECT account_id, address FROM account_contacts",
	  { "import_contacts", "INSERT INTO account_contacts (account_id, address) VALUES ($1::bigint, $2)", 2, 0 } },
	{ "domain_spam", "SELECT domain_id, action FROM domain_spam",
	  { "import_domain_spam", "INSERT INTO domain_spam (domain_id, action) VALUES ($1::bigint, $2)", 2, 0 } },
};

#define NTABLES (sizeof tables / sizeof tables[0])
#define MAX_COLS 11

/* What is compared; the same SQL runs on both databases. */
static const struct {
	const char *what;
	struct pg_stmt count;
} counts[STORE_IMPORT_COUNTS] = {
	{ "accounts", { "import_n1", "SELECT count(*) FROM accounts", 0, 1 } },
	{ "suspended accounts", { "import_n2", "SELECT count(*) FROM accounts WHERE status = 'suspended'", 0, 1 } },
	{ "ACC passwords", { "import_n3", "SELECT count(*) FROM accounts WHERE password_hash IS NOT NULL", 0, 1 } },
	{ "limit overrides", { "import_n4", "SELECT count(*) FROM accounts WHERE limit_per_hour IS NOT NULL"
	                       " OR limit_per_day IS NOT NULL OR limit_max_recipients IS NOT NULL", 0, 1 } },
	{ "domains", { "import_n5", "SELECT count(*) FROM domains", 0, 1 } },
	{ "mailboxes", { "import_n6", "SELECT count(*) FROM mailboxes", 0, 1 } },
	{ "relay grants", { "import_n7", "SELECT count(*) FROM relay_auth", 0, 1 } },
	{ "rate counters", { "import_n8", "SELECT count(*) FROM rate_budget", 0, 1 } },
	{ "ACC sessions", { "import_n9", "SELECT count(*) FROM acc_sessions", 0, 1 } },
	{ "DKIM keys", { "import_n10", "SELECT count(*) FROM dkim_keys", 0, 1 } },
	{ "aliases", { "import_n11", "SELECT count(*) FROM aliases", 0, 1 } },
	{ "catch-alls", { "import_n12", "SELECT count(*) FROM catchalls", 0, 1 } },
	{ "account contacts", { "import_n13", "SELECT count(*) FROM account_contacts", 0, 1 } },
};

static const struct pg_stmt occupied_stmt = {
	"import_occupied", "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM domains),"
	" (SELECT count(*) FROM mailboxes)", 0, 1
};

static long long sq_count(struct sq_store *src, const char *sql)
{
	sqlite3_stmt *s;
	long long n = -1;

	if (sq_prepare(src, &s, sql) < 0)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static long long pg_count(struct pg_store *dst, struct pg_conn *pc, const struct pg_stmt *stmt)
{
	PGresult *r;
	long long n;

	if (pg_exec(dst, pc, stmt, NULL, &r, NULL, 0) != 0)
		return -1;
	n = PQntuples(r) == 1 ? pg_ll(r, 0, 0) : -1;
	PQclear(r);
	return n;
}

/* The target holds nothing, or force empties it. */
static int make_room(struct pg_store *dst, struct pg_conn *pc, int force, char *err, size_t errlen)
{
	PGresult *r;
	long long a, d, m;

	if (pg_sql(dst, pc, "LOCK TABLE accounts, domains, mailboxes, relay_auth, rate_budget, acc_sessions, dkim_keys,"
	           " aliases, catchalls, account_contacts,"
	           " domain_spam"
	           " IN SHARE ROW EXCLUSIVE MODE", err, errlen) != 0 ||
	    pg_exec(dst, pc, &occupied_stmt, NULL, &r, err, errlen) != 0)
		return STORE_EFAIL;
	a = pg_ll(r, 0, 0), d = pg_ll(r, 0, 1), m = pg_ll(r, 0, 2);
	PQclear(r);
	if (a + d + m == 0)
		return 0;
	if (!force) {
		store_seterr(err, errlen, "the PostgreSQL database already holds %lld accounts, %lld domains and %lld"
		             " mailboxes: nothing copied (--force replaces everything in it)", a, d, m);
		return STORE_EINVAL;
	}
	return pg_sql(dst, pc, "TRUNCATE accounts, domains, mailboxes, relay_auth, rate_budget, acc_sessions, dkim_keys,"
	              " aliases, catchalls, account_contacts"
	              " RESTART IDENTITY CASCADE", err, errlen);
}

static int copy_table(struct sq_store *src, struct pg_store *dst, struct pg_conn *pc, const struct table *t,
                      char *err, size_t errlen)
{
	const char *p[MAX_COLS];
	char why[256];
	sqlite3_stmt *s;
	PGresult *r;
	int i, step, rc = 0;

	if (sq_prepare(src, &s, t->select) < 0)
		return sq_dberr(src, err, errlen);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < t->insert.nparams; i++)
			p[i] = (const char *)sqlite3_column_text(s, i);
		if ((rc = pg_exec(dst, pc, &t->insert, p, &r, why, sizeof why)) != 0)
			store_seterr(err, errlen, "copying %s: %s", t->name, why);
		else
			PQclear(r);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = sq_dberr(src, err, errlen);
	sqlite3_finalize(s);
	return rc ? STORE_EFAIL : 0;
}

/* Inside both transactions: copy, move the sequences on, compare. */
static int copy_all(struct sq_store *src, struct pg_store *dst, struct pg_conn *pc, int force,
                    struct store_import_report *rep, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < STORE_IMPORT_COUNTS; i++)
		if ((rep->count[i].source = sq_count(src, counts[i].count.sql)) < 0)
			return sq_dberr(src, err, errlen);
	if ((rc = make_room(dst, pc, force, err, errlen)) != 0)
		return rc;
	for (i = 0; i < NTABLES; i++)
		if ((rc = copy_table(src, dst, pc, &tables[i], err, errlen)) != 0)
			return rc;
	if (pg_sql(dst, pc, "SELECT setval(pg_get_serial_sequence('accounts', 'id'),"
	           " (SELECT coalesce(max(id), 0) + 1 FROM accounts), false),"
	           " setval(pg_get_serial_sequence('domains', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM domains), false),"
	           " setval(pg_get_serial_sequence('mailboxes', 'id'),"
	           " (SELECT coalesce(max(id), 0) + 1 FROM mailboxes), false),"
	           " setval(pg_get_serial_sequence('dkim_keys', 'id'),"
	           " (SELECT coalesce(max(id), 0) + 1 FROM dkim_keys), false),"
	           " setval(pg_get_serial_sequence('aliases', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM aliases), false)",
	           err, errlen) != 0)
		return STORE_EFAIL;
	for (i = 0; i < STORE_IMPORT_COUNTS; i++) {
		rep->count[i].target = pg_count(dst, pc, &counts[i].count);
		if (rep->count[i].target != rep->count[i].source) {
			store_seterr(err, errlen, "verification failed: %lld %s in the SQLite store, %lld in PostgreSQL:"
			             " nothing copied", rep->count[i].source, counts[i].what, rep->count[i].target);
			return STORE_EFAIL;
		}
	}
	return 0;
}

int store_import_sqlite(struct store *dst, const char *path, int force, struct store_import_report *report,
                        char *err, size_t errlen)
{
	char file[1024];
	struct store *src;
	struct pg_conn *pc;
	struct stat sb;
	int i, rc;

	memset(report, 0, sizeof *report);
	for (i = 0; i < STORE_IMPORT_COUNTS; i++) {
		report->count[i].what = counts[i].what;
		report->count[i].source = report->count[i].target = -1;
	}
	report->n = STORE_IMPORT_COUNTS;
	if (strcmp(store_backend(dst), "postgresql") != 0) {
		store_seterr(err, errlen, "the configured store is %s: the copy goes into PostgreSQL"
		             " ([store] backend = postgresql, dsn = ...)", store_backend(dst));
		return STORE_EINVAL;
	}
	snprintf(file, sizeof file, "%s%s", path, stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? "/hostmail.db" : "");
	if (stat(file, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		store_seterr(err, errlen, "%s: no SQLite store there (a hostmail.db, or the data directory holding it)", path);
		return STORE_EINVAL;
	}
	if (!(src = store_sqlite_open_file(file, NULL, err, errlen)))
		return STORE_EFAIL;
	if (!(pc = pg_acquire(PG(dst), err, errlen))) {
		store_close(src);
		return STORE_EFAIL;
	}
	rc = sqlite3_exec(SQ(src)->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : sq_dberr(SQ(src), err, errlen);
	if (rc == 0)
		rc = pg_sql(PG(dst), pc, "BEGIN", err, errlen);
	if (rc == 0)
		rc = copy_all(SQ(src), PG(dst), pc, force, report, err, errlen);
	if (pg_end(PG(dst), pc, rc == 0, err, errlen) != 0)
		rc = STORE_EFAIL;
	pg_release(PG(dst), pc);
	sqlite3_exec(SQ(src)->db, "COMMIT", NULL, NULL, NULL);
	store_close(src);
	return rc;
}
