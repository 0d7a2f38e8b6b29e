/*
 * store_sqlite_alias: aliases, catch-alls and account contacts
 * (store_alias.h) in the SQLite store. Input arrives normalized
 * (store_alias.c); a write that needs a hosted domain or an existing
 * account names it in the same statement, so it cannot vanish between a
 * check and the write.
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

int sq_alias_set(struct store *base, const char *addr, const char *domain, const char *targets,
                 char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO aliases (address, domain_id, targets)"
	                       " SELECT ?1, id, ?2 FROM domains WHERE name = ?3"
	                       " ON CONFLICT (address) DO UPDATE SET targets = excluded.targets") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, targets, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, domain, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
		if (rc) {
			sq_dberr(st, err, errlen);
		} else if (changes == 0) {
			store_seterr(err, errlen, "domain %s is not hosted by any account", domain);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_alias_remove(struct store *base, const char *addr, char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "DELETE FROM aliases WHERE address = ?", addr, NULL, "alias", addr,
	                    err, errlen);
}

#define ALIAS_COLS "SELECT al.address, d.name, ac.name, al.targets FROM aliases al" \
	" JOIN domains d ON d.id = al.domain_id JOIN accounts ac ON ac.id = d.account_id "

static void row_alias(sqlite3_stmt *s, struct alias *a)
{
	memset(a, 0, sizeof *a);
	sq_text(s, 0, a->address, sizeof a->address);
	sq_text(s, 1, a->domain, sizeof a->domain);
	sq_text(s, 2, a->account, sizeof a->account);
	sq_text(s, 3, a->targets, sizeof a->targets);
}

int sq_alias_get(struct store *base, const char *addr, struct alias *out)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, ALIAS_COLS "WHERE al.address = ?1") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			row_alias(s, out);
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_alias_list(struct store *base, const char *domain, store_alias_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
	struct alias a;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, ALIAS_COLS "WHERE ?1 IS NULL OR d.name = ?1 ORDER BY al.address") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	if (domain)
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_alias(s, &a);
		if (cb(&a, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

int sq_catchall_set(struct store *base, const char *domain, const char *target, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	int rc;

	if (!target) {
		rc = sq_write_count(st, "DELETE FROM catchalls WHERE domain_id = (SELECT id FROM domains WHERE name = ?1)",
		                    domain, 0, 0);
		return rc < 0 ? sq_dberr(st, err, errlen) : 0;
	}
	rc = sq_write_one(st, "INSERT INTO catchalls (domain_id, target) SELECT id, ?2 FROM domains WHERE name = ?1"
	                  " ON CONFLICT (domain_id) DO UPDATE SET target = excluded.target",
	                  domain, target, "domain", domain, err, errlen);
	return rc;
}

/* One text column of one row for key, into out ("" when no row). */
static int get_text(struct sq_store *st, const char *sql, const char *key, char *out, size_t outlen,
                    char *out2, size_t out2len)
{
	sqlite3_stmt *s;
	int rc;

	out[0] = '\0';
	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, sql) < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			sq_text(s, 0, out, outlen);
			if (out2)
				sq_text(s, 1, out2, out2len);
		}
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_catchall_get(struct store *base, const char *domain, char *out, size_t outlen)
{
	int rc = get_text(SQ(base), "SELECT c.target FROM catchalls c JOIN domains d ON d.id = c.domain_id"
	                  " WHERE d.name = ?1", domain, out, outlen, NULL, 0);

	return rc == STORE_ENOTFOUND ? 0 : rc;
}

int sq_contact_set(struct store *base, const char *account, const char *addr, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	struct account a;

	if (sq_account_get(base, account, &a) != 0) {
		store_seterr(err, errlen, "account %s does not exist", account);
		return STORE_ENOTFOUND;
	}
	if (!addr)
		return sq_write_count(st, "DELETE FROM account_contacts WHERE account_id ="
		                      " (SELECT id FROM accounts WHERE name = ?1)", account, 0, 0) < 0
		               ? sq_dberr(st, err, errlen) : 0;
	return sq_write_one(st, "INSERT INTO account_contacts (account_id, address)"
	                    " SELECT id, ?2 FROM accounts WHERE name = ?1"
	                    " ON CONFLICT (account_id) DO UPDATE SET address = excluded.address",
	                    account, addr, "account", account, err, errlen);
}

int sq_contact_get(struct store *base, const char *account, char *out, size_t outlen, int *is_default)
{
	char first[320] = "";
	int rc = get_text(SQ(base), "SELECT (SELECT address FROM account_contacts c WHERE c.account_id = a.id),"
	                  " (SELECT m.address FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
	                  "  WHERE d.account_id = a.id ORDER BY m.address LIMIT 1)"
	                  " FROM accounts a WHERE a.name = ?1", account, out, outlen, first, sizeof first);

	*is_default = 0;
	if (rc == 0 && !out[0]) {
		*is_default = 1;
		snprintf(out, outlen, "%s", first);
	}
	return rc;
}
