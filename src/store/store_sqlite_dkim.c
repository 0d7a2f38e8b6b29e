/*
 * store_sqlite_dkim: DKIM keys (store_dkim.h) in the SQLite store, table
 * dkim_keys. The private keys are as private as hostmail.db: the data
 * directory is the daemon user's, 0700, the file 0600 (store_sqlite.c).
 * A generation is added, or activated, in one IMMEDIATE transaction.
 */
#include "store/store_sqlite_int.h"
#include <openssl/crypto.h>
#include <string.h>

static const char *const state_names[] = { "pending", "active", "retired" };

static int state_of(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return DKIM_RETIRED;
}

static int domain_id(struct sq_store *st, const char *domain, sqlite3_int64 *id)
{
	sqlite3_stmt *s;
	int rc;

	if (sq_prepare(st, &s, "SELECT id FROM domains WHERE name = ?1") < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
}

static int insert_key(struct sq_store *st, sqlite3_int64 did, const struct dkim_key *k)
{
	sqlite3_stmt *s;

	if (sq_prepare(st, &s, "INSERT INTO dkim_keys (domain_id, generation, selector, algorithm, state,"
	               " created, public_key, private_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)") < 0)
		return STORE_EFAIL;
	sqlite3_bind_int64(s, 1, did);
	sqlite3_bind_int(s, 2, k->generation);
	sqlite3_bind_text(s, 3, k->selector, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, k->alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, state_names[k->state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, k->created);
	sqlite3_bind_text(s, 7, k->public_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, k->private_key, -1, SQLITE_STATIC);
	return sq_exec_write(st, s, NULL);
}

int sq_dkim_add(struct store *base, const char *domain, const struct dkim_key *keys, size_t n,
                char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_int64 did = 0;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = domain_id(st, domain, &did);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = insert_key(st, did, &keys[i]);
	if (rc == STORE_ENOTFOUND)
		store_seterr(err, errlen, "domain %s is not hosted", domain);
	else if (rc == STORE_EEXIST)
		store_seterr(err, errlen, "a DKIM selector of %s already exists (try again)", domain);
	else if (rc)
		sq_dberr(st, err, errlen);
	if (sq_end(st, rc == 0) < 0 && rc == 0)
		rc = sq_dberr(st, err, errlen);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_dkim_list(struct store *base, const char *domain, int with_private, store_dkim_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
	struct dkim_key k;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT k.generation, k.selector, k.algorithm, k.state, k.created, k.public_key,"
	               " CASE WHEN ?2 THEN k.private_key ELSE '' END FROM dkim_keys k"
	               " JOIN domains d ON d.id = k.domain_id WHERE d.name = ?1"
	               " ORDER BY k.generation, k.algorithm DESC") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, with_private != 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char alg[16], state[16];
		memset(&k, 0, sizeof k);
		k.generation = sqlite3_column_int(s, 0);
		sq_text(s, 1, k.selector, sizeof k.selector);
		sq_text(s, 2, alg, sizeof alg);
		k.alg = strcmp(alg, "ed25519") ? DKIM_ALG_RSA : DKIM_ALG_ED25519;
		sq_text(s, 3, state, sizeof state);
		k.state = state_of(state);
		k.created = sqlite3_column_int64(s, 4);
		sq_text(s, 5, k.public_key, sizeof k.public_key);
		sq_text(s, 6, k.private_key, sizeof k.private_key);
		if (cb(&k, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	OPENSSL_cleanse(&k, sizeof k);
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

static int activate_in_tx(struct sq_store *st, sqlite3_int64 did, int gen)
{
	sqlite3_stmt *s;
	int changes = 0;

	if (sq_prepare(st, &s, "UPDATE dkim_keys SET state = 'active' WHERE domain_id = ?1"
	               " AND generation = ?2 AND state = 'pending'") < 0)
		return STORE_EFAIL;
	sqlite3_bind_int64(s, 1, did);
	sqlite3_bind_int(s, 2, gen);
	if (sq_exec_write(st, s, &changes) != 0)
		return STORE_EFAIL;
	if (changes == 0)
		return STORE_ENOTFOUND;
	if (sq_prepare(st, &s, "UPDATE dkim_keys SET state = 'retired' WHERE domain_id = ?1"
	               " AND generation <> ?2 AND state = 'active'") < 0)
		return STORE_EFAIL;
	sqlite3_bind_int64(s, 1, did);
	sqlite3_bind_int(s, 2, gen);
	return sq_exec_write(st, s, NULL) == 0 ? 0 : STORE_EFAIL;
}

int sq_dkim_activate(struct store *base, const char *domain, int gen, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_int64 did = 0;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = sq_begin(st) == 0 ? 0 : STORE_EFAIL;
	if (rc == 0)
		rc = domain_id(st, domain, &did);
	if (rc == STORE_ENOTFOUND)
		store_seterr(err, errlen, "domain %s is not hosted", domain);
	else if (rc == 0 && (rc = activate_in_tx(st, did, gen)) == STORE_ENOTFOUND)
		store_seterr(err, errlen, "%s has no pending DKIM generation hm%d", domain, gen);
	if (rc == STORE_EFAIL)
		sq_dberr(st, err, errlen);
	if (sq_end(st, rc == 0) < 0 && rc == 0)
		rc = sq_dberr(st, err, errlen);
	pthread_mutex_unlock(&st->mu);
	return rc;
}
