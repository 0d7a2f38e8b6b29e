/*
 * store_pg_account: hosting accounts (with the ACC password and the limit
 * overrides) and their domains in the PostgreSQL store; the same
 * statements, results and messages as store_sqlite.c. Lists read every
 * row first and give the connection back before calling the callback, so
 * a callback may call the store again.
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

#define ACCOUNT_COLS "SELECT id, name, status, to_char(created, 'YYYY-MM-DD'), server_number," \
	" limit_per_hour, limit_per_day, limit_max_recipients FROM accounts "

static const struct pg_stmt add_stmt = {
	"account_add", "INSERT INTO accounts (name, created, server_number) VALUES ($1, $2::date, $3::integer)", 3, 0
};
static const struct pg_stmt get_stmt = { "account_get", ACCOUNT_COLS "WHERE name = $1", 1, 1 };
static const struct pg_stmt list_stmt = { "account_list", ACCOUNT_COLS "ORDER BY name COLLATE \"C\"", 0, 1 };
static const struct pg_stmt limits_stmt = {
	"account_limits", "UPDATE accounts SET"
	" limit_per_hour = CASE WHEN $1::integer = -2 THEN limit_per_hour ELSE $2::integer END,"
	" limit_per_day = CASE WHEN $3::integer = -2 THEN limit_per_day ELSE $4::integer END,"
	" limit_max_recipients = CASE WHEN $5::integer = -2 THEN limit_max_recipients ELSE $6::integer END"
	" WHERE name = $7", 7, 0
};
/* suspension ends the account's grants and ACC sessions (trigger) */
static const struct pg_stmt status_stmt = { "account_status", "UPDATE accounts SET status = $1 WHERE name = $2", 2, 0 };
static const struct pg_stmt remove_stmt = { "account_remove", "DELETE FROM accounts WHERE name = $1", 1, 0 };
/* a new ACC password ends the account's ACC sessions (trigger) */
static const struct pg_stmt setpw_stmt = {
	"account_setpw", "UPDATE accounts SET password_hash = $1 WHERE name = $2", 2, 0
};
static const struct pg_stmt getpw_stmt = { "account_getpw", "SELECT password_hash FROM accounts WHERE name = $1", 1, 1 };
static const struct pg_stmt domain_add_stmt = {
	"domain_add", "INSERT INTO domains (name, account_id) SELECT $1, id FROM accounts WHERE name = $2", 2, 0
};
static const struct pg_stmt owner_stmt = {
	"domain_owner", "SELECT a.name FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.name = $1", 1, 1
};
static const struct pg_stmt domain_remove_stmt = { "domain_remove", "DELETE FROM domains WHERE name = $1", 1, 0 };
#define DOMAIN_COLS "SELECT d.name, a.name FROM domains d JOIN accounts a ON a.id = d.account_id "
static const struct pg_stmt domains_all_stmt = {
	"domain_list_all", DOMAIN_COLS "ORDER BY d.name COLLATE \"C\"", 0, 1
};
static const struct pg_stmt domains_of_stmt = {
	"domain_list_of", DOMAIN_COLS "WHERE a.name = $1 ORDER BY d.name COLLATE \"C\"", 1, 1
};

int pg_account_add(struct store *base, const char *name, const char *created, int server_number,
                   char *err, size_t errlen)
{
	char num[24];
	const char *p[3] = { name, created, pg_num(num, server_number) };
	int rc = pg_write(PG(base), &add_stmt, p, err, errlen);

	if (rc == STORE_EEXIST)
		store_seterr(err, errlen, "account %s already exists", name);
	return rc < 0 ? rc : 0;
}

static void row_account(const PGresult *r, int i, struct account *a)
{
	char status[16];

	memset(a, 0, sizeof *a);
	a->id = pg_ll(r, i, 0);
	pg_text(r, i, 1, a->name, sizeof a->name);
	pg_text(r, i, 2, status, sizeof status);
	a->suspended = strcmp(status, "suspended") == 0;
	pg_text(r, i, 3, a->created, sizeof a->created);
	a->server_number = (int)pg_ll(r, i, 4);
	a->limit_per_hour = PQgetisnull(r, i, 5) ? -1 : (int)pg_ll(r, i, 5);
	a->limit_per_day = PQgetisnull(r, i, 6) ? -1 : (int)pg_ll(r, i, 6);
	a->limit_max_recipients = PQgetisnull(r, i, 7) ? -1 : (int)pg_ll(r, i, 7);
}

int pg_account_get(struct store *base, const char *name, struct account *out)
{
	const char *p[1] = { name };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_account(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_account_set_limits(struct store *base, const char *name, int per_hour, int per_day,
                          int max_recipients, char *err, size_t errlen)
{
	char b[6][24];
	const char *p[7] = {
		pg_num(b[0], per_hour), per_hour == -1 ? NULL : pg_num(b[1], per_hour),
		pg_num(b[2], per_day), per_day == -1 ? NULL : pg_num(b[3], per_day),
		pg_num(b[4], max_recipients), max_recipients == -1 ? NULL : pg_num(b[5], max_recipients),
		name,
	};

	return pg_write_one(PG(base), &limits_stmt, p, "account", name, err, errlen);
}

int pg_account_set_suspended(struct store *base, const char *name, int suspended, char *err, size_t errlen)
{
	const char *p[2] = { suspended ? "suspended" : "active", name };

	return pg_write_one(PG(base), &status_stmt, p, "account", name, err, errlen);
}

int pg_account_remove(struct store *base, const char *name, char *err, size_t errlen)
{
	const char *p[1] = { name };

	return pg_write_one(PG(base), &remove_stmt, p, "account", name, err, errlen);
}

int pg_account_list(struct store *base, store_account_cb cb, void *arg)
{
	struct account a;
	PGresult *r;
	int i;

	if (pg_run(PG(base), &list_stmt, NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (i = 0; i < PQntuples(r); i++) {
		row_account(r, i, &a);
		if (cb(&a, arg))
			break;
	}
	PQclear(r);
	return 0;
}

int pg_account_set_password(struct store *base, const char *name, const char *hash, char *err, size_t errlen)
{
	const char *p[2] = { hash, name };

	return pg_write_one(PG(base), &setpw_stmt, p, "account", name, err, errlen);
}

int pg_account_get_password(struct store *base, const char *name, char *out, size_t outlen)
{
	const char *p[1] = { name };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &getpw_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		pg_text(r, 0, 0, out, outlen);
	PQclear(r);
	return rc;
}

int pg_domain_owner(struct store *base, const char *domain, char *owner, size_t ownerlen)
{
	const char *p[1] = { domain };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &owner_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		pg_text(r, 0, 0, owner, ownerlen);
	PQclear(r);
	return rc;
}

int pg_domain_add(struct store *base, const char *account, const char *domain, char *err, size_t errlen)
{
	char owner[STORE_NAME_MAX];
	const char *p[2] = { domain, account };
	int rc = pg_write(PG(base), &domain_add_stmt, p, err, errlen);

	if (rc == STORE_EEXIST) {
		/* say who owns it */
		if (pg_domain_owner(base, domain, owner, sizeof owner) < 0)
			store_seterr(err, errlen, "domain %s is already hosted", domain);
		else if (strcmp(owner, account) == 0)
			store_seterr(err, errlen, "domain %s already belongs to account %s", domain, owner);
		else
			store_seterr(err, errlen, "domain %s is already hosted by another account, %s", domain, owner);
		return rc;
	}
	if (rc == 0) {
		store_seterr(err, errlen, "account %s does not exist", account);
		return STORE_ENOTFOUND;
	}
	return rc < 0 ? rc : 0;
}

int pg_domain_remove(struct store *base, const char *domain, char *err, size_t errlen)
{
	const char *p[1] = { domain };

	return pg_write_one(PG(base), &domain_remove_stmt, p, "domain", domain, err, errlen);
}

int pg_domain_list(struct store *base, const char *account, store_domain_cb cb, void *arg)
{
	const char *p[1] = { account };
	PGresult *r;
	int i;

	if (pg_run(PG(base), account ? &domains_of_stmt : &domains_all_stmt, account ? p : NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (i = 0; i < PQntuples(r); i++)
		if (cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), arg))
			break;
	PQclear(r);
	return 0;
}
