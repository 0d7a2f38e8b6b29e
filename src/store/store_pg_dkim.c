/*
 * store_pg_dkim: DKIM keys (store_dkim.h) in the PostgreSQL store, table
 * dkim_keys, so every node of a fleet signs with the same keys. The
 * table's privileges are revoked from PUBLIC (store_pg_schema.c): only
 * the role hostmail connects as (its owner) reads the private keys. A
 * generation is added, or activated, in one transaction.
 */
#include "store/store_pg_int.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const struct pg_stmt add_stmt = {
	"dkim_add", "INSERT INTO dkim_keys (domain_id, generation, selector, algorithm, state, created,"
	" public_key, private_key) SELECT id, $2::integer, $3, $4, $5, $6::bigint, $7, $8"
	" FROM domains WHERE name = $1", 8, 0
};
static const struct pg_stmt list_stmt = {
	"dkim_list", "SELECT k.generation, k.selector, k.algorithm, k.state, k.created, k.public_key,"
	" CASE WHEN $2::boolean THEN k.private_key ELSE '' END FROM dkim_keys k"
	" JOIN domains d ON d.id = k.domain_id WHERE d.name = $1"
	" ORDER BY k.generation, k.algorithm COLLATE \"C\" DESC", 2, 1
};
static const struct pg_stmt activate_stmt = {
	"dkim_activate", "UPDATE dkim_keys SET state = 'active' WHERE state = 'pending'"
	" AND generation = $2::integer AND domain_id = (SELECT id FROM domains WHERE name = $1)", 2, 0
};
static const struct pg_stmt retire_stmt = {
	"dkim_retire", "UPDATE dkim_keys SET state = 'retired' WHERE state = 'active'"
	" AND generation <> $2::integer AND domain_id = (SELECT id FROM domains WHERE name = $1)", 2, 0
};

static const char *const state_names[] = { "pending", "active", "retired" };

static int add_in_tx(struct pg_store *st, struct pg_conn *pc, const char *domain, const struct dkim_key *k,
                     char *err, size_t errlen)
{
	char g[24], t[24];
	const char *p[8] = { domain, pg_num(g, k->generation), k->selector,
	                     k->alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa", state_names[k->state],
	                     pg_num(t, (long long)k->created), k->public_key, k->private_key };
	PGresult *r;
	int rc = pg_exec(st, pc, &add_stmt, p, &r, err, errlen);

	if (rc != 0)
		return rc;
	rc = atoi(PQcmdTuples(r)) == 1 ? 0 : STORE_ENOTFOUND;
	PQclear(r);
	return rc;
}

int pg_dkim_add(struct store *base, const char *domain, const struct dkim_key *keys, size_t n,
                char *err, size_t errlen)
{
	struct pg_store *st = PG(base);
	struct pg_conn *pc = pg_acquire(st, err, errlen);
	int rc;

	if (!pc)
		return STORE_EFAIL;
	rc = pg_sql(st, pc, "BEGIN", err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = add_in_tx(st, pc, domain, &keys[i], err, errlen);
	if (rc == STORE_ENOTFOUND)
		store_seterr(err, errlen, "domain %s is not hosted", domain);
	else if (rc == STORE_EEXIST)
		store_seterr(err, errlen, "a DKIM selector of %s already exists (try again)", domain);
	if (pg_end(st, pc, rc == 0, err, errlen) != 0 && rc == 0)
		rc = STORE_EFAIL;
	pg_release(st, pc);
	return rc;
}

int pg_dkim_list(struct store *base, const char *domain, int with_private, store_dkim_cb cb, void *arg)
{
	const char *p[2] = { domain, with_private ? "true" : "false" };
	struct dkim_key k;
	PGresult *r;
	int n;

	if (pg_run(PG(base), &list_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		char alg[16], state[16];
		memset(&k, 0, sizeof k);
		k.generation = (int)pg_ll(r, i, 0);
		pg_text(r, i, 1, k.selector, sizeof k.selector);
		pg_text(r, i, 2, alg, sizeof alg);
		k.alg = strcmp(alg, "ed25519") ? DKIM_ALG_RSA : DKIM_ALG_ED25519;
		pg_text(r, i, 3, state, sizeof state);
		k.state = !strcmp(state, "active") ? DKIM_ACTIVE : !strcmp(state, "pending") ? DKIM_PENDING : DKIM_RETIRED;
		k.created = pg_ll(r, i, 4);
		pg_text(r, i, 5, k.public_key, sizeof k.public_key);
		pg_text(r, i, 6, k.private_key, sizeof k.private_key);
		if (cb(&k, arg))
			break;
	}
	OPENSSL_cleanse(&k, sizeof k);
	/* libpq's copy of the private keys too */
	for (int i = 0; with_private && i < n; i++)
		OPENSSL_cleanse(PQgetvalue(r, i, 6), (size_t)PQgetlength(r, i, 6));
	PQclear(r);
	return 0;
}

int pg_dkim_activate(struct store *base, const char *domain, int gen, char *err, size_t errlen)
{
	struct pg_store *st = PG(base);
	struct pg_conn *pc = pg_acquire(st, err, errlen);
	char g[24];
	const char *p[2] = { domain, pg_num(g, gen) };
	PGresult *r;
	int rc;

	if (!pc)
		return STORE_EFAIL;
	rc = pg_sql(st, pc, "BEGIN", err, errlen);
	if (rc == 0 && (rc = pg_exec(st, pc, &activate_stmt, p, &r, err, errlen)) == 0) {
		rc = atoi(PQcmdTuples(r)) > 0 ? 0 : STORE_ENOTFOUND;
		PQclear(r);
	}
	if (rc == 0 && (rc = pg_exec(st, pc, &retire_stmt, p, &r, err, errlen)) == 0)
		PQclear(r);
	if (rc == STORE_ENOTFOUND)
		store_seterr(err, errlen, "%s has no pending DKIM generation hm%d", domain, gen);
	if (pg_end(st, pc, rc == 0, err, errlen) != 0 && rc == 0)
		rc = STORE_EFAIL;
	pg_release(st, pc);
	return rc;
}
