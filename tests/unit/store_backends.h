/*
 * store_backends.h: run one cmocka group of store tests on each backend.
 * SQLite always, on a throw-away data directory per test; PostgreSQL when
 * HOSTMAIL_TEST_PG_DSN names a database (make unit-pg starts a private
 * cluster, tests/pg/pgctl.sh, and sets it): before each test its public
 * schema is dropped and made again with store_schema_init, so every test
 * starts from an empty store of this version.
 *
 * A test's state is a struct tstore; tstore_open() gives another store on
 * the same data (another process, another node).
 */
#ifndef HOSTMAIL_TESTS_STORE_BACKENDS_H
#define HOSTMAIL_TESTS_STORE_BACKENDS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"
#include "util/config.h"
#include "tmpdir.h"

struct tstore {
	struct store *st;
	struct config cfg;
	char *dir;
	int pg;
};

static int tstore_backend_pg;        /* the group now running */

static inline const char *tstore_dsn(void)
{
	const char *d = getenv("HOSTMAIL_TEST_PG_DSN");

	return d && d[0] ? d : NULL;
}

/* Run sql on the test database (libpq directly, not the store): 0 or -1. */
static inline int tstore_pg_exec(const char *sql)
{
	PGconn *c = PQconnectdb(tstore_dsn());
	PGresult *r;
	int rc = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		PQclear(PQexec(c, "SET client_min_messages = warning"));
		r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
		if (rc)
			fprintf(stderr, "tstore: %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	} else {
		fprintf(stderr, "tstore: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return rc;
}

/* One integer from a query on the test database (-1 on failure). */
static inline long long tstore_pg_int(const char *sql, const char *param)
{
	PGconn *c = PQconnectdb(tstore_dsn());
	PGresult *r;
	long long v = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexecParams(c, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	PQfinish(c);
	return v;
}

/* Another store on t's data. */
static inline struct store *tstore_open(struct tstore *t)
{
	char err[512];
	struct store *st = store_open(&t->cfg, err, sizeof err);

	if (!st)
		fprintf(stderr, "tstore: store_open: %s\n", err);
	return st;
}

static inline int tstore_setup(void **state)
{
	struct tstore *t = calloc(1, sizeof *t);
	char err[512];
	int from, to;

	if (!t)
		return -1;
	config_defaults(&t->cfg);
	t->pg = tstore_backend_pg;
	t->dir = tmpdir_make("store");
	snprintf(t->cfg.data_dir, sizeof t->cfg.data_dir, "%s", t->dir);
	if (t->pg) {
		t->cfg.store_backend = STORE_POSTGRESQL;
		snprintf(t->cfg.store_dsn, sizeof t->cfg.store_dsn, "%s", tstore_dsn());
		t->cfg.store_statement_timeout = 2;
		t->cfg.store_pool_size = 4;
		if (tstore_pg_exec("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public") < 0 ||
		    store_schema_init(&t->cfg, &from, &to, err, sizeof err) != 0) {
			fprintf(stderr, "tstore: schema: %s\n", err);
			return -1;
		}
	}
	if (!(t->st = tstore_open(t)))
		return -1;
	*state = t;
	return 0;
}

static inline int tstore_teardown(void **state)
{
	struct tstore *t = *state;

	store_close(t->st);
	*state = t->dir;
	tmpdir_teardown(state);
	free(t);
	return 0;
}

static inline int tstore_group_sqlite(void **state)
{
	(void)state;
	tstore_backend_pg = 0;
	return 0;
}

static inline int tstore_group_pg(void **state)
{
	(void)state;
	tstore_backend_pg = 1;
	return 0;
}

/* Run tests on SQLite, then on PostgreSQL if configured: failures added up. */
#define tstore_run_groups(name, tests)                                                                  \
	(cmocka_run_group_tests_name(name " (sqlite)", tests, tstore_group_sqlite, NULL) +              \
	 (tstore_dsn() ? cmocka_run_group_tests_name(name " (postgresql)", tests, tstore_group_pg, NULL) \
	               : (printf("[  SKIPPED ] %s (postgresql): HOSTMAIL_TEST_PG_DSN not set\n", name), 0)))

#endif
