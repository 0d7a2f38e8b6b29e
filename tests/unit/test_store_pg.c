/* Unit tests of what only the PostgreSQL store has (src/store/store_pg*.c),
 * against the private cluster of make unit-pg (HOSTMAIL_TEST_PG_DSN; skipped
 * without it): the schema check and db init (also several at once), a
 * wrong dsn, the statement timeout, connections killed under the pool,
 * PostgreSQL stopped and started again under a live store (with
 * HOSTMAIL_TEST_PG_DIR and HOSTMAIL_TEST_PGCTL) or frozen (SIGSTOP), and
 * a pool of one connection shared by threads and nested list callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "store/relay_auth.h"
#include "store/store.h"
#include "store_backends.h"

static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	if (store_account_add(t->st, "acme", "2015-01-01", 3, err, sizeof err) ||
	    store_domain_add(t->st, "acme", "acme.test", err, sizeof err) ||
	    store_mailbox_add(t->st, "alice@acme.test", "$y$fake", err, sizeof err))
		return -1;
	return 0;
}

static double now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int lookup_ok(struct store *st)
{
	int hosted = 0, exists = 0;

	return store_rcpt_lookup(st, "alice", "acme.test", &hosted, &exists) == 0 && exists;
}

/* hostmaild refuses a database without this version's schema; db init
 * makes it, once, however many run it at the same moment. */
static void *init_thread(void *arg)
{
	struct tstore *t = arg;
	char err[256];
	int from, to;

	return (void *)(intptr_t)store_schema_init(&t->cfg, &from, &to, err, sizeof err);
}

static void test_schema_check_and_init(void **state)
{
	struct tstore *t = *state;
	pthread_t th[4];
	void *rc;
	char err[256];
	int i;

	assert_int_equal(tstore_pg_exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public"), 0);
	assert_null(store_open(&t->cfg, err, sizeof err));
	assert_string_equal(err, "the PostgreSQL database has no hostmail schema: run hostmailctl db init");
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, init_thread, t), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &rc);
		assert_int_equal((intptr_t)rc, 0);
	}
	assert_int_equal(tstore_pg_int("SELECT count(*) FROM schema_version", NULL), 4);   /* 2, 3, 7, 8 */
	store_close(t->st);
	assert_non_null(t->st = store_open(&t->cfg, err, sizeof err));
	assert_int_equal(tstore_pg_exec("INSERT INTO schema_version (version) VALUES (99)"), 0);
	assert_null(store_open(&t->cfg, err, sizeof err));
	assert_string_equal(err, "the PostgreSQL database was made by a newer hostmail (schema version 99)");
	assert_int_equal(tstore_pg_exec("DELETE FROM schema_version WHERE version = 99"), 0);
}

static void test_bad_dsn(void **state)
{
	struct tstore *t = *state;
	struct config cfg = t->cfg;
	char err[256];
	double t0 = now_s();

	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "host=/nonexistent-hostmail dbname=hostmail");
	assert_null(store_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "database error: cannot connect to PostgreSQL: "));
	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "%s dbname=no_such_db", tstore_dsn());
	assert_null(store_open(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "no_such_db"));
	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "this is = not a dsn '");
	assert_null(store_open(&cfg, err, sizeof err));
	assert_true(now_s() - t0 < 2.0);
}

/* A statement waiting longer than [store] statement_timeout fails
 * (STORE_EFAIL) instead of hanging; the store goes on working. */
static void test_statement_timeout(void **state)
{
	struct tstore *t = *state;
	struct config cfg = t->cfg;
	struct store *st;
	PGconn *c;
	PGresult *r;
	char err[256];
	double t0;

	cfg.store_statement_timeout = 1;
	assert_non_null(st = store_open(&cfg, err, sizeof err));
	c = PQconnectdb(tstore_dsn());
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "BEGIN"));
	r = PQexec(c, "SELECT 1 FROM accounts WHERE name = 'acme' FOR UPDATE");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	t0 = now_s();
	assert_int_equal(store_account_set_suspended(st, "acme", 1, err, sizeof err), STORE_EFAIL);
	assert_true(now_s() - t0 >= 0.9 && now_s() - t0 < 2.5);
	assert_non_null(strstr(err, "statement timeout"));
	assert_true(lookup_ok(st));                     /* reads do not wait for the lock */
	PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
	assert_int_equal(store_account_set_suspended(st, "acme", 1, err, sizeof err), 0);
	store_close(st);
}

/* Connections the server ends (an administrator, a failover) are noticed
 * when taken from the pool: the next calls just work. */
static void test_connections_killed(void **state)
{
	struct tstore *t = *state;
	int i;

	for (i = 0; i < 8; i++)
		assert_true(lookup_ok(t->st));
	assert_true(tstore_pg_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
	                          " WHERE application_name = 'hostmail'", NULL) >= 1);
	for (i = 0; i < 8; i++)
		assert_true(lookup_ok(t->st));
}

static int run_pgctl(const char *verb)
{
	char cmd[1024];
	const char *pgctl = getenv("HOSTMAIL_TEST_PGCTL"), *dir = getenv("HOSTMAIL_TEST_PG_DIR");

	snprintf(cmd, sizeof cmd, "bash '%s' %s '%s'", pgctl, verb, dir);
	return system(cmd);
}

/* PostgreSQL stopped under a live store: calls fail fast with STORE_EFAIL;
 * started again: the next call succeeds, with no new store. */
static void test_outage_and_return(void **state)
{
	struct tstore *t = *state;
	struct mailbox m;
	char err[256];
	double t0;
	int i, hosted, exists;

	if (!getenv("HOSTMAIL_TEST_PGCTL") || !getenv("HOSTMAIL_TEST_PG_DIR"))
		skip();
	assert_true(lookup_ok(t->st));
	assert_int_equal(run_pgctl("stop"), 0);
	t0 = now_s();
	for (i = 0; i < 20; i++) {
		assert_int_equal(store_rcpt_lookup(t->st, "alice", "acme.test", &hosted, &exists), STORE_EFAIL);
		assert_int_equal(store_mailbox_get(t->st, "alice@acme.test", &m), STORE_EFAIL);
	}
	assert_int_equal(store_account_add(t->st, "new", NULL, 1, err, sizeof err), STORE_EFAIL);
	assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
	assert_true(now_s() - t0 < 2.0);
	assert_int_equal(run_pgctl("start"), 0);
	assert_true(lookup_ok(t->st));
	assert_int_equal(store_account_add(t->st, "new", NULL, 1, err, sizeof err), 0);
	for (i = 0; i < 8; i++)
		assert_true(lookup_ok(t->st));
}

/* Send sig to the cluster's postmaster and its children (the backends). */
static int signal_cluster(const char *sig)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "pm=$(head -n 1 '%s/data/postmaster.pid') && kill -%s $pm $(pgrep -P $pm)",
	         getenv("HOSTMAIL_TEST_PG_DIR"), sig);
	return system(cmd);
}

/* A server that stops answering (frozen, or a network that drops every
 * packet): each call gives up after the timeout (here 1 s, plus the
 * client's margin) instead of hanging; once it answers again, so does the
 * store. */
static void test_frozen_server(void **state)
{
	struct tstore *t = *state;
	struct config cfg = t->cfg;
	struct store *st;
	char err[256];
	double t0, took;
	int i, hosted, exists;

	if (!getenv("HOSTMAIL_TEST_PG_DIR"))
		skip();
	cfg.store_statement_timeout = 1;
	cfg.store_pool_size = 2;
	assert_non_null(st = store_open(&cfg, err, sizeof err));
	assert_true(lookup_ok(st));
	assert_int_equal(signal_cluster("STOP"), 0);
	for (i = 0; i < 4; i++) {
		t0 = now_s();
		assert_int_equal(store_rcpt_lookup(st, "alice", "acme.test", &hosted, &exists), STORE_EFAIL);
		took = now_s() - t0;
		assert_true(took < 4.5);
	}
	assert_int_equal(signal_cluster("CONT"), 0);
	t0 = now_s();
	while (!lookup_ok(st))
		assert_true(now_s() - t0 < 5.0);
	store_close(st);
}

struct nest { struct store *st; int mailboxes; };

static int count_cb(const struct mailbox *m, void *arg)
{
	(void)m;
	((struct nest *)arg)->mailboxes++;
	return 0;
}

static int nested_cb(const char *domain, const char *account, void *arg)
{
	struct nest *n = arg;

	(void)account;
	return store_mailbox_list(n->st, domain, count_cb, n) ? 1 : 0;
}

static void *looker(void *arg)
{
	int i, bad = 0;

	for (i = 0; i < 100; i++)
		bad += !lookup_ok(arg);
	return (void *)(intptr_t)bad;
}

/* One connection for six threads: they take turns, none fails; a list
 * callback may call the store (the rows are read before it runs). */
static void test_pool_of_one(void **state)
{
	struct tstore *t = *state;
	struct config cfg = t->cfg;
	struct store *st;
	struct nest n;
	pthread_t th[6];
	void *bad;
	char err[256];
	int i;

	cfg.store_pool_size = 1;
	assert_non_null(st = store_open(&cfg, err, sizeof err));
	n.st = st;
	n.mailboxes = 0;
	assert_int_equal(store_domain_list(st, NULL, nested_cb, &n), 0);
	assert_int_equal(n.mailboxes, 1);
	for (i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&th[i], NULL, looker, st), 0);
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_check_and_init, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_bad_dsn, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_statement_timeout, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_connections_killed, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_outage_and_return, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_pool_of_one, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_frozen_server, setup, tstore_teardown),
	};

	if (!tstore_dsn()) {
		printf("[  SKIPPED ] store postgresql: HOSTMAIL_TEST_PG_DSN not set\n");
		return 0;
	}
	tstore_backend_pg = 1;
	return cmocka_run_group_tests_name("store postgresql", tests, NULL, NULL);
}
