/*
 * store_import: copy a single node's embedded store (an SQLite
 * hostmail.db) into a PostgreSQL store, for a node joining a fleet
 * (`hostmailctl db migrate-from-sqlite PATH`). Everything is copied as
 * it is, ids included: accounts (status, created date, server number, ACC
 * password hash, limit overrides), domains, mailboxes with their password
 * hashes, POP-before-SMTP grants, recipient-budget counters, ACC
 * sessions and the domains' DKIM keys (so the fleet signs with the keys
 * the customers already published). The copy is one transaction: either all of it is there and
 * verified, or nothing changed.
 */
#ifndef HM_STORE_IMPORT_H
#define HM_STORE_IMPORT_H
#include <stddef.h>
#include "store/store.h"

#define STORE_IMPORT_COUNTS 13

struct store_import_report {
	struct {
		const char *what;          /* "accounts", "suspended accounts", ... */
		long long source, target;  /* rows in the SQLite file; in PostgreSQL after the copy */
	} count[STORE_IMPORT_COUNTS];
	int n;
};

/*
 * Copy the SQLite store at path (a hostmail.db, or the data directory
 * holding it; an older schema is upgraded first, as hostmaild would) into
 * dst, a PostgreSQL store with this version's schema. dst must hold no
 * accounts, domains or mailboxes unless force, which replaces everything
 * in it. After the copy every count is compared between the two, in the
 * same transaction: any difference undoes it. 0 with report filled (also
 * filled as far as known on failure), or STORE_EINVAL (dst not
 * PostgreSQL, dst not empty) or STORE_EFAIL, with err.
 */
int store_import_sqlite(struct store *dst, const char *path, int force, struct store_import_report *report,
                        char *err, size_t errlen);

#endif
