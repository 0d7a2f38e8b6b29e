/*
 * ctl_db: hostmailctl's database verbs. `db init` creates or upgrades the
 * schema of the configured store (SQLite does it by itself when opened;
 * PostgreSQL needs it once per database, and after an upgrade of
 * hostmail). `db migrate-from-sqlite PATH [--force]` copies a single
 * node's hostmail.db into the configured PostgreSQL store and prints
 * what it copied and verified.
 */
#include "cmd/ctl.h"
#include "store/store_import.h"
#include <stdio.h>
#include <string.h>

int db_init_cmd(struct ctl *c, int argc, char **argv)
{
	char err[512];
	int from = 0, to = 0;

	(void)argc, (void)argv;
	if (store_schema_init(&c->cfg, &from, &to, err, sizeof err) != 0)
		return fail("%s", err);
	if (from == to)
		printf("schema version %d: up to date\n", to);
	else if (from == 0)
		printf("schema version %d: created\n", to);
	else
		printf("schema version %d: upgraded from version %d\n", to, from);
	return 0;
}

int db_migrate_cmd(struct ctl *c, int argc, char **argv)
{
	struct store_import_report rep;
	const char *path = NULL;
	char err[512];
	int i, force = 0, rc;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = 1;
		else if (argv[i][0] == '-' || path)
			return fail("db migrate-from-sqlite: usage: db migrate-from-sqlite PATH [--force]");
		else
			path = argv[i];
	}
	if (!path)
		return fail("db migrate-from-sqlite: PATH missing (a hostmail.db or the data directory holding it)");
	if (c->cfg.store_backend != STORE_POSTGRESQL)
		return fail("db migrate-from-sqlite copies into PostgreSQL: set [store] backend = postgresql"
		            " and dsn in %s", c->cfg.path);
	if (!store(c))
		return 1;
	rc = store_import_sqlite(c->st, path, force, &rep, err, sizeof err);
	if (rc != 0)
		return fail("%s", err);
	for (i = 0; i < rep.n; i++)
		printf("%s: %lld copied, %lld in PostgreSQL\n", rep.count[i].what, rep.count[i].source,
		       rep.count[i].target);
	return 0;
}
