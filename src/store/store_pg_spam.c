/*
 * store_pg_spam: the per-domain spam choice (store_spam.h) in the
 * PostgreSQL store, table domain_spam (as store_sqlite_spam.c).
 */
#include "store/store_pg_int.h"
#include <string.h>

static const struct pg_stmt get_stmt = {
	"domain_spam_get", "SELECT coalesce(p.action, '') FROM domains d"
	" LEFT JOIN domain_spam p ON p.domain_id = d.id WHERE d.name = $1", 1, 1
};
static const struct pg_stmt set_stmt = {
	"domain_spam_set", "INSERT INTO domain_spam (domain_id, action) SELECT id, $2 FROM domains WHERE name = $1"
	" ON CONFLICT (domain_id) DO UPDATE SET action = excluded.action", 2, 0
};
static const struct pg_stmt clear_stmt = {
	"domain_spam_clear", "DELETE FROM domain_spam WHERE domain_id = (SELECT id FROM domains WHERE name = $1)", 1, 0
};

int pg_domain_spam_get(struct store *base, const char *domain, char *out, size_t outlen)
{
	const char *p[1] = { domain };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		pg_text(r, 0, 0, out, outlen);
	PQclear(r);
	return rc;
}

int pg_domain_spam_set(struct store *base, const char *domain, const char *action, char *err, size_t errlen)
{
	const char *p[2] = { domain, action };
	char cur[STORE_SPAM_ACTION_MAX];
	int rc;

	if (action[0])
		return pg_write_one(PG(base), &set_stmt, p, "domain", domain, err, errlen);
	if ((rc = pg_domain_spam_get(base, domain, cur, sizeof cur)) != 0) {
		if (rc == STORE_ENOTFOUND)
			store_seterr(err, errlen, "domain %s does not exist", domain);
		else
			store_seterr(err, errlen, "database error");
		return rc;
	}
	rc = pg_write(PG(base), &clear_stmt, p, err, errlen);
	return rc < 0 ? rc : 0;
}
