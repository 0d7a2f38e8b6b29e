/*
 * store_sqlite_spam: the per-domain spam choice (store_spam.h) in the
 * SQLite store, table domain_spam (one row per domain that chose; none =
 * the default). A domain's removal removes its row (ON DELETE CASCADE).
 */
#include "store/store_sqlite_int.h"
#include <string.h>

int sq_domain_spam_get(struct store *base, const char *domain, char *out, size_t outlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT coalesce(p.action, '') FROM domains d"
	                       " LEFT JOIN domain_spam p ON p.domain_id = d.id WHERE d.name = ?1") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			sq_text(s, 0, out, outlen);
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_domain_spam_set(struct store *base, const char *domain, const char *action, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	char cur[STORE_SPAM_ACTION_MAX];
	int rc;

	if (action[0])
		return sq_write_one(st, "INSERT INTO domain_spam (domain_id, action)"
		                        " SELECT id, ?2 FROM domains WHERE name = ?1"
		                        " ON CONFLICT (domain_id) DO UPDATE SET action = excluded.action",
		                    domain, action, "domain", domain, err, errlen);
	/* back to the default: no row (the domain must exist all the same) */
	if ((rc = sq_domain_spam_get(base, domain, cur, sizeof cur)) != 0) {
		if (rc == STORE_ENOTFOUND)
			store_seterr(err, errlen, "domain %s does not exist", domain);
		else
			store_seterr(err, errlen, "database error");
		return rc;
	}
	rc = sq_write_count(st, "DELETE FROM domain_spam WHERE domain_id = (SELECT id FROM domains WHERE name = ?1)",
	                    domain, 0, 0);
	return rc < 0 ? sq_dberr(st, err, errlen) : 0;
}
