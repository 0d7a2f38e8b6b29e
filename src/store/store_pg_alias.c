/*
 * store_pg_alias: aliases, catch-alls and account contacts
 * (store_alias.h) in the PostgreSQL store; the statements, results and
 * messages of store_sqlite_alias.c.
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

static const struct pg_stmt set_stmt = {
	"alias_set", "INSERT INTO aliases (address, domain_id, targets) SELECT $1, id, $2 FROM domains WHERE name = $3"
	" ON CONFLICT (address) DO UPDATE SET targets = excluded.targets", 3, 0
};
static const struct pg_stmt remove_stmt = { "alias_remove", "DELETE FROM aliases WHERE address = $1", 1, 0 };
#define ALIAS_COLS "SELECT al.address, d.name, ac.name, al.targets FROM aliases al" \
	" JOIN domains d ON d.id = al.domain_id JOIN accounts ac ON ac.id = d.account_id "
static const struct pg_stmt get_stmt = { "alias_get", ALIAS_COLS "WHERE al.address = $1", 1, 1 };
static const struct pg_stmt list_all_stmt = {
	"alias_list_all", ALIAS_COLS "ORDER BY al.address COLLATE \"C\"", 0, 1
};
static const struct pg_stmt list_in_stmt = {
	"alias_list_in", ALIAS_COLS "WHERE d.name = $1 ORDER BY al.address COLLATE \"C\"", 1, 1
};
static const struct pg_stmt catchall_set_stmt = {
	"catchall_set", "INSERT INTO catchalls (domain_id, target) SELECT id, $2 FROM domains WHERE name = $1"
	" ON CONFLICT (domain_id) DO UPDATE SET target = excluded.target", 2, 0
};
static const struct pg_stmt catchall_off_stmt = {
	"catchall_off", "DELETE FROM catchalls WHERE domain_id = (SELECT id FROM domains WHERE name = $1)", 1, 0
};
static const struct pg_stmt catchall_get_stmt = {
	"catchall_get", "SELECT c.target FROM catchalls c JOIN domains d ON d.id = c.domain_id WHERE d.name = $1", 1, 1
};
static const struct pg_stmt contact_set_stmt = {
	"contact_set", "INSERT INTO account_contacts (account_id, address) SELECT id, $2 FROM accounts WHERE name = $1"
	" ON CONFLICT (account_id) DO UPDATE SET address = excluded.address", 2, 0
};
static const struct pg_stmt contact_off_stmt = {
	"contact_off", "DELETE FROM account_contacts WHERE account_id = (SELECT id FROM accounts WHERE name = $1)", 1, 0
};
static const struct pg_stmt contact_get_stmt = {
	"contact_get", "SELECT (SELECT address FROM account_contacts c WHERE c.account_id = a.id),"
	" (SELECT m.address FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
	"  WHERE d.account_id = a.id ORDER BY m.address COLLATE \"C\" LIMIT 1)"
	" FROM accounts a WHERE a.name = $1", 1, 1
};

int pg_alias_set(struct store *base, const char *addr, const char *domain, const char *targets,
                 char *err, size_t errlen)
{
	const char *p[3] = { addr, targets, domain };
	int rc = pg_write(PG(base), &set_stmt, p, err, errlen);

	if (rc == 0) {
		store_seterr(err, errlen, "domain %s is not hosted by any account", domain);
		rc = STORE_ENOTFOUND;
	}
	return rc < 0 ? rc : 0;
}

int pg_alias_remove(struct store *base, const char *addr, char *err, size_t errlen)
{
	const char *p[1] = { addr };

	return pg_write_one(PG(base), &remove_stmt, p, "alias", addr, err, errlen);
}

static void row_alias(const PGresult *r, int i, struct alias *a)
{
	memset(a, 0, sizeof *a);
	pg_text(r, i, 0, a->address, sizeof a->address);
	pg_text(r, i, 1, a->domain, sizeof a->domain);
	pg_text(r, i, 2, a->account, sizeof a->account);
	pg_text(r, i, 3, a->targets, sizeof a->targets);
}

int pg_alias_get(struct store *base, const char *addr, struct alias *out)
{
	const char *p[1] = { addr };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_alias(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_alias_list(struct store *base, const char *domain, store_alias_cb cb, void *arg)
{
	const char *p[1] = { domain };
	struct alias a;
	PGresult *r;

	if (pg_run(PG(base), domain ? &list_in_stmt : &list_all_stmt, domain ? p : NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (int i = 0; i < PQntuples(r); i++) {
		row_alias(r, i, &a);
		if (cb(&a, arg))
			break;
	}
	PQclear(r);
	return 0;
}

int pg_catchall_set(struct store *base, const char *domain, const char *target, char *err, size_t errlen)
{
	const char *p[2] = { domain, target };

	if (!target)
		return pg_write(PG(base), &catchall_off_stmt, p, err, errlen) < 0 ? STORE_EFAIL : 0;
	return pg_write_one(PG(base), &catchall_set_stmt, p, "domain", domain, err, errlen);
}

int pg_catchall_get(struct store *base, const char *domain, char *out, size_t outlen)
{
	const char *p[1] = { domain };
	PGresult *r;

	out[0] = '\0';
	if (pg_run(PG(base), &catchall_get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	if (PQntuples(r) == 1)
		pg_text(r, 0, 0, out, outlen);
	PQclear(r);
	return 0;
}

int pg_contact_set(struct store *base, const char *account, const char *addr, char *err, size_t errlen)
{
	const char *p[2] = { account, addr };
	struct account a;

	if (pg_account_get(base, account, &a) != 0) {
		store_seterr(err, errlen, "account %s does not exist", account);
		return STORE_ENOTFOUND;
	}
	if (!addr)
		return pg_write(PG(base), &contact_off_stmt, p, err, errlen) < 0 ? STORE_EFAIL : 0;
	return pg_write_one(PG(base), &contact_set_stmt, p, "account", account, err, errlen);
}

int pg_contact_get(struct store *base, const char *account, char *out, size_t outlen, int *is_default)
{
	const char *p[1] = { account };
	PGresult *r;
	int rc;

	out[0] = '\0';
	*is_default = 0;
	if (pg_run(PG(base), &contact_get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0) {
		pg_text(r, 0, 0, out, outlen);
		if (!out[0]) {
			*is_default = 1;
			pg_text(r, 0, 1, out, outlen);
		}
	}
	PQclear(r);
	return rc;
}
