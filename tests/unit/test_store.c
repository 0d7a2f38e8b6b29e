/* Unit tests for src/store/ (both backends, store_backends.h): normalization,
 * RCPT lookups, errors, cascades, reopening, threads sharing one store,
 * the rules kept by triggers, and the schema's version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"
#include "store/store_backend.h"
#include "store/relay_auth.h"
#include <time.h>

#include "store/store_rate.h"
#include <sqlite3.h>
#include <sys/stat.h>
#include "store_backends.h"

/* The schema of hostmail.db before schema versions (user_version 1), with
 * account old, its domain old.test and mailbox bob. */
#define V1_SCHEMA \
	"CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE," \
	" status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended'))," \
	" created TEXT NOT NULL, server_number INTEGER NOT NULL DEFAULT 0, password_hash TEXT," \
	" limit_per_hour INTEGER, limit_per_day INTEGER, limit_max_recipients INTEGER);" \
	"CREATE TABLE domains (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE," \
	" account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE);" \
	"CREATE TABLE mailboxes (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE," \
	" domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE, password_hash TEXT NOT NULL);" \
	"CREATE TABLE relay_auth (ip TEXT NOT NULL, account_id INTEGER NOT NULL REFERENCES accounts(id)" \
	" ON DELETE CASCADE, mailbox TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (ip, mailbox));" \
	"CREATE TABLE rate_counters (account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE," \
	" window TEXT NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (account_id, window));" \
	"INSERT INTO accounts (id, name, created) VALUES (1, 'old', '2010-01-01');" \
	"INSERT INTO domains VALUES (1, 'old.test', 1);" \
	"INSERT INTO mailboxes VALUES (1, 'bob@old.test', 1, '$y$old');" \
	"PRAGMA user_version = 1;"

/* A fresh store with account acme, its domain acme.test and alice. */
static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	if (store_account_add(t->st, "acme", "2015-01-01", 3, err, sizeof err) ||
	    store_domain_add(t->st, "acme", "Acme.Test", err, sizeof err) ||
	    store_mailbox_add(t->st, "Alice@acme.test", "$y$fake", err, sizeof err))
		return -1;
	return 0;
}

#define teardown tstore_teardown
#define STORE(state) (((struct tstore *)*(state))->st)

static void test_rcpt_lookup(void **state)
{
	struct store *st = STORE(state);
	int hosted, exists;

	assert_int_equal(store_rcpt_lookup(st, "ALICE", "ACME.TEST", &hosted, &exists), 0);
	assert_true(hosted && exists);
	assert_int_equal(store_rcpt_lookup(st, "bob", "acme.test", &hosted, &exists), 0);
	assert_true(hosted && !exists);
	assert_int_equal(store_rcpt_lookup(st, "alice", "other.test", &hosted, &exists), 0);
	assert_true(!hosted && !exists);
	assert_int_equal(store_rcpt_lookup(st, "alice' OR 1=1 --", "acme.test", &hosted, &exists), 0);
	assert_true(hosted && !exists);
	assert_int_equal(store_rcpt_lookup(st, "a", "[127.0.0.1]", &hosted, &exists), 0);
	assert_false(hosted);
}

static void test_get_and_suspend(void **state)
{
	struct store *st = STORE(state);
	struct mailbox m;
	struct account a;
	char owner[STORE_NAME_MAX], err[256];

	assert_int_equal(store_mailbox_get(st, "alice@ACME.test", &m), 0);
	assert_string_equal(m.address, "alice@acme.test");
	assert_string_equal(m.domain, "acme.test");
	assert_string_equal(m.account, "acme");
	assert_string_equal(m.password_hash, "$y$fake");
	assert_int_equal(m.account_suspended, 0);
	assert_int_equal(store_account_set_suspended(st, "acme", 1, err, sizeof err), 0);
	assert_int_equal(store_mailbox_get(st, "alice@acme.test", &m), 0);
	assert_int_equal(m.account_suspended, 1);
	assert_int_equal(store_account_get(st, "acme", &a), 0);
	assert_true(a.suspended);
	assert_string_equal(a.created, "2015-01-01");
	assert_int_equal(a.server_number, 3);
	assert_int_equal(store_domain_owner(st, "ACME.test", owner, sizeof owner), 0);
	assert_string_equal(owner, "acme");
	assert_int_equal(store_domain_owner(st, "nope.test", owner, sizeof owner), STORE_ENOTFOUND);
	assert_int_equal(store_account_get(st, "nope", &a), STORE_ENOTFOUND);
}

static void test_errors(void **state)
{
	struct store *st = STORE(state);
	char err[256];

	assert_int_equal(store_account_add(st, "other", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_domain_add(st, "other", "acme.test", err, sizeof err), STORE_EEXIST);
	assert_non_null(strstr(err, "acme"));
	assert_int_equal(store_domain_add(st, "ghost", "g.test", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_add(st, "x@unhosted.test", "$y$h", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_add(st, "ALICE@acme.test", "$y$h", err, sizeof err), STORE_EEXIST);
	assert_int_equal(store_mailbox_add(st, "a/b@acme.test", "$y$h", err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_mailbox_add(st, "b@acme.test", "plain", err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_account_add(st, "x", "2011-02-30", 1, err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_mailbox_set_password(st, "zz@acme.test", "$y$h", err, sizeof err), STORE_ENOTFOUND);
}

static int count_cb(const struct mailbox *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

struct nest { struct store *st; int mailboxes; };

/* A callback that queries the store again (the mutex is recursive). */
static int nested_cb(const char *domain, const char *account, void *arg)
{
	struct nest *n = arg;

	(void)account;
	return store_mailbox_list(n->st, domain, count_cb, &n->mailboxes) ? 1 : 0;
}

static void test_nested_and_cascade(void **state)
{
	struct store *st = STORE(state);
	struct nest n = { st, 0 };
	int hosted, exists, count = 0;
	char err[256];

	assert_int_equal(store_domain_list(st, "acme", nested_cb, &n), 0);
	assert_int_equal(n.mailboxes, 1);
	assert_int_equal(store_account_remove(st, "acme", err, sizeof err), 0);
	assert_int_equal(store_rcpt_lookup(st, "alice", "acme.test", &hosted, &exists), 0);
	assert_false(hosted);
	assert_int_equal(store_mailbox_list(st, NULL, count_cb, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_account_remove(st, "acme", err, sizeof err), STORE_ENOTFOUND);
}

static void test_reopen(void **state)
{
	struct store *st2;
	struct mailbox m;

	st2 = tstore_open(*state);
	assert_non_null(st2);
	assert_int_equal(store_mailbox_get(st2, "alice@acme.test", &m), 0);
	store_close(st2);
}

static void *reader(void *arg)
{
	struct store *st = arg;
	int hosted, exists, i, bad = 0;

	for (i = 0; i < 300; i++)
		if (store_rcpt_lookup(st, "alice", "acme.test", &hosted, &exists) || !exists)
			bad++;
	return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
	struct store *st = STORE(state);
	pthread_t t[4];
	char addr[64], err[256];
	void *bad;
	int i, count = 0;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, st), 0);
	for (i = 0; i < 100; i++) {
		snprintf(addr, sizeof addr, "u%d@acme.test", i);
		assert_int_equal(store_mailbox_add(st, addr, "$y$h", err, sizeof err), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	assert_int_equal(store_mailbox_list(st, "acme.test", count_cb, &count), 0);
	assert_int_equal(count, 101);
}

/* A POP-before-SMTP grant ends with its mailbox: removed, removed with
 * its domain, or given a new password; other mailboxes' grants stay. */
static void test_relay_grant_follows_mailbox(void **state)
{
	struct store *st = STORE(state);
	struct relay_grant g;
	char err[256];
	time_t now = time(NULL);

	assert_int_equal(store_mailbox_add(st, "bob@acme.test", "$y$fake", err, sizeof err), 0);
	assert_int_equal(relay_auth_grant(st, "192.0.2.1", "alice@acme.test", now + 600), 0);
	assert_int_equal(relay_auth_grant(st, "192.0.2.2", "bob@acme.test", now + 600), 0);
	assert_int_equal(store_mailbox_set_password(st, "alice@acme.test", "$y$fake", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.1", now, &g), 0);   /* same hash: kept */
	assert_int_equal(store_mailbox_set_password(st, "alice@acme.test", "$y$new", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.1", now, &g), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.2", now, &g), 0);
	assert_string_equal(g.account, "acme");
	assert_int_equal(store_mailbox_remove(st, "bob@acme.test", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.2", now, &g), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_grant(st, "192.0.2.1", "alice@acme.test", now + 600), 0);
	assert_int_equal(store_domain_remove(st, "acme.test", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.1", now, &g), STORE_ENOTFOUND);
}

/* The same words from both backends for the same failures. */
static void test_error_messages(void **state)
{
	struct store *st = STORE(state);
	char err[256];

	assert_int_equal(store_account_add(st, "acme", NULL, 1, err, sizeof err), STORE_EEXIST);
	assert_string_equal(err, "account acme already exists");
	assert_int_equal(store_domain_add(st, "acme", "acme.test", err, sizeof err), STORE_EEXIST);
	assert_string_equal(err, "domain acme.test already belongs to account acme");
	assert_int_equal(store_account_add(st, "other", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_domain_add(st, "other", "ACME.test", err, sizeof err), STORE_EEXIST);
	assert_string_equal(err, "domain acme.test is already hosted by another account, acme");
	assert_int_equal(store_domain_add(st, "ghost", "g.test", err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "account ghost does not exist");
	assert_int_equal(store_mailbox_add(st, "alice@acme.test", "$y$h", err, sizeof err), STORE_EEXIST);
	assert_string_equal(err, "mailbox alice@acme.test already exists");
	assert_int_equal(store_mailbox_add(st, "x@unhosted.test", "$y$h", err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "domain unhosted.test is not hosted by any account (add it with: domain add ACCOUNT unhosted.test)");
	assert_int_equal(store_mailbox_remove(st, "zz@acme.test", err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "mailbox zz@acme.test does not exist");
	assert_int_equal(store_domain_remove(st, "nope.test", err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "domain nope.test does not exist");
	assert_int_equal(store_account_set_suspended(st, "ghost", 1, err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "account ghost does not exist");
	assert_int_equal(store_account_set_limits(st, "ghost", 1, 1, 1, err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "account ghost does not exist");
	assert_int_equal(store_account_set_password(st, "ghost", "$y$x", err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "account ghost does not exist");
	assert_int_equal(store_account_set_password(st, "acme", "plain", err, sizeof err), STORE_EINVAL);
	assert_string_equal(err, "unusable password hash");
}

static void test_limits_and_account_password(void **state)
{
	struct store *st = STORE(state);
	struct account a;
	char err[256], hash[256];

	assert_int_equal(store_account_get(st, "acme", &a), 0);
	assert_int_equal(a.limit_per_hour, -1);
	assert_int_equal(a.limit_max_recipients, -1);
	assert_int_equal(store_account_set_limits(st, "acme", 5, 0, 7, err, sizeof err), 0);
	assert_int_equal(store_account_set_limits(st, "acme", -2, 9, -2, err, sizeof err), 0);
	assert_int_equal(store_account_get(st, "acme", &a), 0);
	assert_int_equal(a.limit_per_hour, 5);
	assert_int_equal(a.limit_per_day, 9);
	assert_int_equal(a.limit_max_recipients, 7);
	assert_int_equal(store_account_set_limits(st, "acme", -1, -2, -1, err, sizeof err), 0);
	assert_int_equal(store_account_get(st, "acme", &a), 0);
	assert_int_equal(a.limit_per_hour, -1);
	assert_int_equal(a.limit_per_day, 9);
	assert_int_equal(a.limit_max_recipients, -1);
	assert_int_equal(store_account_get_password(st, "acme", hash, sizeof hash), 0);
	assert_string_equal(hash, "");
	assert_int_equal(store_account_set_password(st, "acme", "$y$acc", err, sizeof err), 0);
	assert_int_equal(store_account_get_password(st, "acme", hash, sizeof hash), 0);
	assert_string_equal(hash, "$y$acc");
	assert_int_equal(store_account_get_password(st, "ghost", hash, sizeof hash), STORE_ENOTFOUND);
}

static int list_account(const struct account *a, void *arg)
{
	char *out = arg;

	strcat(out, a->name);
	strcat(out, " ");
	return 0;
}

static int list_domain(const char *domain, const char *account, void *arg)
{
	char *out = arg;

	strcat(out, domain);
	strcat(out, "=");
	strcat(out, account);
	strcat(out, " ");
	return 0;
}

static int list_mailbox(const struct mailbox *m, void *arg)
{
	char *out = arg;

	strcat(out, m->address);
	strcat(out, " ");
	return 0;
}

/* Lists in byte order (as SQLite sorts, whatever PostgreSQL's locale). */
static void test_list_order(void **state)
{
	struct store *st = STORE(state);
	char err[256], out[1024] = "";

	assert_int_equal(store_account_add(st, "a-b", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_account_add(st, "a0", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_account_add(st, "ab", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_domain_add(st, "ab", "b-c.test", err, sizeof err), 0);
	assert_int_equal(store_domain_add(st, "a0", "b0.test", err, sizeof err), 0);
	assert_int_equal(store_mailbox_add(st, "a.b@acme.test", "$y$h", err, sizeof err), 0);
	assert_int_equal(store_mailbox_add(st, "a_b@acme.test", "$y$h", err, sizeof err), 0);
	assert_int_equal(store_account_list(st, list_account, out), 0);
	assert_string_equal(out, "a-b a0 ab acme ");
	out[0] = '\0';
	assert_int_equal(store_domain_list(st, NULL, list_domain, out), 0);
	assert_string_equal(out, "acme.test=acme b-c.test=ab b0.test=a0 ");
	out[0] = '\0';
	assert_int_equal(store_domain_list(st, "a0", list_domain, out), 0);
	assert_string_equal(out, "b0.test=a0 ");
	out[0] = '\0';
	assert_int_equal(store_mailbox_list(st, NULL, list_mailbox, out), 0);
	assert_string_equal(out, "a.b@acme.test a_b@acme.test alice@acme.test ");
	out[0] = '\0';
	assert_int_equal(store_mailbox_list(st, "b0.test", list_mailbox, out), 0);
	assert_string_equal(out, "");
}

/* Suspension ends the account's POP-before-SMTP grants in the same write;
 * resuming does not bring them back. */
static void test_suspension_ends_grants(void **state)
{
	struct store *st = STORE(state);
	struct relay_grant g;
	char err[256];
	time_t now = time(NULL);

	assert_int_equal(relay_auth_grant(st, "192.0.2.9", "alice@acme.test", now + 600), 0);
	assert_int_equal(relay_auth_grant(st, "192.0.2.9", "nobody@acme.test", now + 600), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.9", now, &g), 0);
	assert_string_equal(g.mailbox, "alice@acme.test");
	assert_int_equal(g.expires, now + 600);
	assert_int_equal(store_account_set_suspended(st, "acme", 1, err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.9", now, &g), STORE_ENOTFOUND);
	assert_int_equal(store_account_set_suspended(st, "acme", 0, err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.9", now, &g), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_grant(st, "192.0.2.9", "alice@acme.test", now + 5), 0);
	assert_int_equal(relay_auth_grant(st, "192.0.2.10", "alice@acme.test", now + 600), 0);
	assert_int_equal(relay_auth_purge(st, now + 10), 1);
	assert_int_equal(relay_auth_revoke(st, "192.0.2.9"), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_revoke(st, "192.0.2.10"), 0);
}

/* store_schema_init on an up-to-date store changes nothing. */
static void test_schema_init_again(void **state)
{
	struct tstore *t = *state;
	char err[256];
	int from = -1, to = -1;

	assert_int_equal(store_schema_init(&t->cfg, &from, &to, err, sizeof err), 0);
	assert_int_equal(from, STORE_SCHEMA_VERSION);
	assert_int_equal(to, STORE_SCHEMA_VERSION);
	assert_int_equal(store_mailbox_get(t->st, "alice@acme.test", &(struct mailbox){ 0 }), 0);
	assert_string_equal(store_backend(t->st), t->pg ? "postgresql" : "sqlite");
}

/* A hostmail.db made before schema_version (user_version 1, counters in
 * rate_counters) is upgraded as it is opened, its counts kept. */
static void test_sqlite_upgrade_from_version_1(void **state)
{
	struct tstore *t = *state;
	struct rate_use u;
	struct store *st;
	struct config cfg = t->cfg;
	char dir[480], path[500], err[256];
	sqlite3 *db;
	time_t now = time(NULL);
	int from = -1, to = -1;

	if (t->pg)
		skip();
	snprintf(dir, sizeof dir, "%s/v1", t->dir);
	snprintf(path, sizeof path, "%s/hostmail.db", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(err, sizeof err, "INSERT INTO rate_counters VALUES (1, 'h', %lld, 7), (1, 'd', %lld, 9)",
	         (long long)rate_hour_start(now), (long long)rate_day_start(now));
	assert_int_equal(sqlite3_exec(db, V1_SCHEMA, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, err, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
	assert_int_equal(store_schema_init(&cfg, &from, &to, err, sizeof err), 0);
	assert_int_equal(from, 1);
	assert_int_equal(to, STORE_SCHEMA_VERSION);
	assert_non_null(st = store_open(&cfg, err, sizeof err));
	assert_int_equal(rate_get(st, "old", now, &u), 0);
	assert_int_equal(u.hour, 7);
	assert_int_equal(u.day, 9);
	assert_int_equal(store_mailbox_get(st, "bob@old.test", &(struct mailbox){ 0 }), 0);
	store_close(st);
	/* a file from a newer hostmail is refused */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99; INSERT INTO schema_version VALUES (99, 0)",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "made by a newer hostmail (schema version 99)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rcpt_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_and_suspend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_and_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_grant_follows_mailbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_account_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suspension_ends_grants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_init_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_upgrade_from_version_1, setup, teardown),
	};
	return tstore_run_groups("store", tests);
}
