/*
 * store_sqlite_mailbox: mailboxes in the SQLite store, and the RCPT TO
 * lookup the SMTP server makes for every recipient (see store.h).
 * Addresses arrive lower-cased as local@domain (store.c), so every
 * lookup compares exactly.
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

int sq_mailbox_add(struct store *base, const char *addr, const char *domain, const char *password_hash,
                   char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	/* One statement, so the domain cannot vanish between check and insert. */
	if (sq_prepare(st, &s, "INSERT INTO mailboxes(address, domain_id, password_hash) "
	                       "SELECT ?, id, ? FROM domains WHERE name = ?") < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, password_hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, domain, -1, SQLITE_STATIC);
		rc = sq_exec_write(st, s, &changes);
		if (rc == STORE_EEXIST) {
			store_seterr(err, errlen, "mailbox %s already exists", addr);
		} else if (rc) {
			sq_dberr(st, err, errlen);
		} else if (changes == 0) {
			store_seterr(err, errlen, "domain %s is not hosted by any account (add it with: domain add ACCOUNT %s)",
			             domain, domain);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* A new hash ends the mailbox's POP-before-SMTP grants (trigger). */
int sq_mailbox_set_password(struct store *base, const char *addr, const char *password_hash,
                            char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "UPDATE mailboxes SET password_hash = ?1 WHERE address = ?2",
	                    password_hash, addr, "mailbox", addr, err, errlen);
}

int sq_mailbox_remove(struct store *base, const char *addr, char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "DELETE FROM mailboxes WHERE address = ?", addr, NULL,
	                    "mailbox", addr, err, errlen);
}

#define MAILBOX_COLS "SELECT m.id, m.address, d.name, a.name, a.status, m.password_hash " \
	"FROM mailboxes m JOIN domains d ON d.id = m.domain_id JOIN accounts a ON a.id = d.account_id "

static void row_mailbox(sqlite3_stmt *s, struct mailbox *m)
{
	const unsigned char *status;

	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(s, 0);
	sq_text(s, 1, m->address, sizeof m->address);
	sq_text(s, 2, m->domain, sizeof m->domain);
	sq_text(s, 3, m->account, sizeof m->account);
	status = sqlite3_column_text(s, 4);
	m->account_suspended = status && strcmp((const char *)status, "suspended") == 0;
	sq_text(s, 5, m->password_hash, sizeof m->password_hash);
}

int sq_mailbox_get(struct store *base, const char *addr, struct mailbox *out)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, MAILBOX_COLS "WHERE m.address = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			row_mailbox(s, out);
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_mailbox_list(struct store *base, const char *domain, store_mailbox_cb cb, void *arg)
{
	struct sq_store *st = SQ(base);
	struct mailbox m;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, MAILBOX_COLS "WHERE ?1 IS NULL OR d.name = ?1 ORDER BY m.address") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	if (domain)
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_mailbox(s, &m);
		if (cb(&m, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc == SQLITE_DONE ? 0 : STORE_EFAIL;
}

int sq_rcpt_lookup(struct store *base, const char *domain, const char *addr, int *hosted, int *exists)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT (SELECT count(*) FROM domains WHERE name = ?1), "
	                       "(SELECT count(*) FROM mailboxes WHERE address = ?2)") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*hosted = sqlite3_column_int(s, 0) > 0;
			*exists = *hosted && sqlite3_column_int(s, 1) > 0;
		}
		rc = rc == SQLITE_ROW ? 0 : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}
