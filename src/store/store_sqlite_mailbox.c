/*
 * store_sqlite_mailbox: mailboxes in the SQLite store, and the RCPT TO
 * lookup the SMTP server makes for every recipient (see store.h).
 * Addresses are stored lower-cased as local@domain, so every lookup
 * lower-cases first and compares exactly.
 */
#include "store/store_sqlite_int.h"
#include "store/store_valid.h"
#include <stdio.h>
#include <string.h>

static int check_hash(const char *hash, char *err, size_t errlen)
{
	if (!hash || hash[0] != '$' || strlen(hash) >= sizeof ((struct mailbox *)0)->password_hash) {
		sq_seterr(err, errlen, "unusable password hash");
		return -1;
	}
	return 0;
}

/* Normalize local@domain into addr (lower case); -1 with err on bad syntax. */
static int norm_address(const char *address, char *addr, size_t addrlen, char *err, size_t errlen)
{
	char local[65], domain[256];

	if (valid_address(address, local, sizeof local, domain, sizeof domain, err, errlen) < 0)
		return -1;
	/* 64 + 1 + 253 always fits the 320 of struct mailbox */
	if (snprintf(addr, addrlen, "%s@%s", local, domain) >= (int)addrlen)
		return -1;
	return 0;
}

int store_mailbox_add(struct store *st, const char *address, const char *password_hash,
                      char *err, size_t errlen)
{
	char addr[320];
	const char *domain;
	sqlite3_stmt *s;
	int rc, changes = 0;

	if (norm_address(address, addr, sizeof addr, err, errlen) < 0 ||
	    check_hash(password_hash, err, errlen) < 0)
		return STORE_EINVAL;
	domain = strrchr(addr, '@') + 1;
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
			sq_seterr(err, errlen, "mailbox %s already exists", addr);
		} else if (rc) {
			sq_dberr(st, err, errlen);
		} else if (changes == 0) {
			sq_seterr(err, errlen, "domain %s is not hosted by any account (add it with: domain add ACCOUNT %s)",
			       domain, domain);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int store_mailbox_set_password(struct store *st, const char *address, const char *password_hash,
                               char *err, size_t errlen)
{
	char addr[320];

	if (norm_address(address, addr, sizeof addr, err, errlen) < 0 ||
	    check_hash(password_hash, err, errlen) < 0)
		return STORE_EINVAL;
	return sq_write_one(st, "UPDATE mailboxes SET password_hash = ?1 WHERE address = ?2",
	                 password_hash, addr, "mailbox", addr, err, errlen);
}

int store_mailbox_remove(struct store *st, const char *address, char *err, size_t errlen)
{
	char addr[320];

	if (norm_address(address, addr, sizeof addr, err, errlen) < 0)
		return STORE_EINVAL;
	return sq_write_one(st, "DELETE FROM mailboxes WHERE address = ?", addr, NULL,
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

int store_mailbox_get(struct store *st, const char *address, struct mailbox *out)
{
	char addr[320];
	sqlite3_stmt *s;
	int rc;

	if (norm_address(address, addr, sizeof addr, NULL, 0) < 0)
		return STORE_ENOTFOUND;
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

int store_mailbox_list(struct store *st, const char *domain,
                       int (*cb)(const struct mailbox *, void *), void *arg)
{
	char d[256];
	struct mailbox m;
	sqlite3_stmt *s;
	int rc;

	if (domain && valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;  /* not a domain, so certainly no mailboxes in it */
	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, MAILBOX_COLS "WHERE ?1 IS NULL OR d.name = ?1 ORDER BY m.address") < 0) {
		pthread_mutex_unlock(&st->mu);
		return STORE_EFAIL;
	}
	if (domain)
		sqlite3_bind_text(s, 1, d, -1, SQLITE_STATIC);
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

int store_rcpt_lookup(struct store *st, const char *local, const char *domain,
                      int *hosted, int *exists)
{
	char d[256], addr[320];
	size_t i, n;
	sqlite3_stmt *s;
	int rc;

	*hosted = *exists = 0;
	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;
	n = (size_t)snprintf(addr, sizeof addr, "%s@%s", local, d);
	if (n >= sizeof addr)
		n = 0, addr[0] = '\0';  /* longer than any stored address */
	for (i = 0; i < n; i++)
		addr[i] = (addr[i] >= 'A' && addr[i] <= 'Z') ? (char)(addr[i] - 'A' + 'a') : addr[i];
	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT (SELECT count(*) FROM domains WHERE name = ?1), "
	                    "(SELECT count(*) FROM mailboxes WHERE address = ?2)") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, d, -1, SQLITE_STATIC);
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
