/*
 * store_pg_mailbox: mailboxes in the PostgreSQL store and the RCPT TO
 * lookup (see store.h); the statements, results and messages of
 * store_sqlite_mailbox.c. Addresses arrive lower-cased (store.c).
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

/* one statement, so the domain cannot vanish between check and insert */
static const struct pg_stmt add_stmt = {
	"mailbox_add", "INSERT INTO mailboxes (address, domain_id, password_hash)"
	" SELECT $1, id, $2 FROM domains WHERE name = $3", 3, 0
};
/* a new hash ends the mailbox's POP-before-SMTP grants (trigger) */
static const struct pg_stmt setpw_stmt = {
	"mailbox_setpw", "UPDATE mailboxes SET password_hash = $1 WHERE address = $2", 2, 0
};
static const struct pg_stmt remove_stmt = { "mailbox_remove", "DELETE FROM mailboxes WHERE address = $1", 1, 0 };
#define MAILBOX_COLS "SELECT m.id, m.address, d.name, a.name, a.status, m.password_hash" \
	" FROM mailboxes m JOIN domains d ON d.id = m.domain_id JOIN accounts a ON a.id = d.account_id "
static const struct pg_stmt get_stmt = { "mailbox_get", MAILBOX_COLS "WHERE m.address = $1", 1, 1 };
static const struct pg_stmt list_all_stmt = {
	"mailbox_list_all", MAILBOX_COLS "ORDER BY m.address COLLATE \"C\"", 0, 1
};
static const struct pg_stmt list_in_stmt = {
	"mailbox_list_in", MAILBOX_COLS "WHERE d.name = $1 ORDER BY m.address COLLATE \"C\"", 1, 1
};
static const struct pg_stmt rcpt_stmt = {
	"rcpt_lookup", "SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1),"
	" EXISTS (SELECT 1 FROM mailboxes WHERE address = $2)", 2, 1
};

int pg_mailbox_add(struct store *base, const char *addr, const char *domain, const char *hash,
                   char *err, size_t errlen)
{
	const char *p[3] = { addr, hash, domain };
	int rc = pg_write(PG(base), &add_stmt, p, err, errlen);

	if (rc == STORE_EEXIST) {
		store_seterr(err, errlen, "mailbox %s already exists", addr);
	} else if (rc == 0) {
		store_seterr(err, errlen, "domain %s is not hosted by any account (add it with: domain add ACCOUNT %s)",
		             domain, domain);
		rc = STORE_ENOTFOUND;
	}
	return rc < 0 ? rc : 0;
}

int pg_mailbox_set_password(struct store *base, const char *addr, const char *hash, char *err, size_t errlen)
{
	const char *p[2] = { hash, addr };

	return pg_write_one(PG(base), &setpw_stmt, p, "mailbox", addr, err, errlen);
}

int pg_mailbox_remove(struct store *base, const char *addr, char *err, size_t errlen)
{
	const char *p[1] = { addr };

	return pg_write_one(PG(base), &remove_stmt, p, "mailbox", addr, err, errlen);
}

static void row_mailbox(const PGresult *r, int i, struct mailbox *m)
{
	char status[16];

	memset(m, 0, sizeof *m);
	m->id = pg_ll(r, i, 0);
	pg_text(r, i, 1, m->address, sizeof m->address);
	pg_text(r, i, 2, m->domain, sizeof m->domain);
	pg_text(r, i, 3, m->account, sizeof m->account);
	pg_text(r, i, 4, status, sizeof status);
	m->account_suspended = strcmp(status, "suspended") == 0;
	pg_text(r, i, 5, m->password_hash, sizeof m->password_hash);
}

int pg_mailbox_get(struct store *base, const char *addr, struct mailbox *out)
{
	const char *p[1] = { addr };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_mailbox(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_mailbox_list(struct store *base, const char *domain, store_mailbox_cb cb, void *arg)
{
	const char *p[1] = { domain };
	struct mailbox m;
	PGresult *r;
	int i;

	if (pg_run(PG(base), domain ? &list_in_stmt : &list_all_stmt, domain ? p : NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (i = 0; i < PQntuples(r); i++) {
		row_mailbox(r, i, &m);
		if (cb(&m, arg))
			break;
	}
	PQclear(r);
	return 0;
}

int pg_rcpt_lookup(struct store *base, const char *domain, const char *addr, int *hosted, int *exists)
{
	const char *p[2] = { domain, addr };
	PGresult *r;

	if (pg_run(PG(base), &rcpt_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	if (PQntuples(r) == 1) {
		*hosted = !strcmp(PQgetvalue(r, 0, 0), "t");
		*exists = *hosted && !strcmp(PQgetvalue(r, 0, 1), "t");
	}
	PQclear(r);
	return 0;
}
