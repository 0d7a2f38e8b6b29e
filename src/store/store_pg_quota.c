/*
 * store_pg_quota: mailbox quotas and autoresponders in the PostgreSQL
 * store; the statements, results and messages of store_sqlite_quota.c.
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

#define QSET(col, p) col " = CASE WHEN " p "::bigint = -2 THEN " col " WHEN " p "::bigint = -1 THEN NULL" \
	" ELSE " p "::bigint END"

static const struct pg_stmt quota_get_stmt = {
	"quota_get", "SELECT coalesce(m.quota_bytes, -1), coalesce(m.quota_messages, -1),"
	" a.mailbox_quota_bytes, a.mailbox_quota_messages"
	" FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
	" JOIN accounts a ON a.id = d.account_id WHERE m.address = $1", 1, 1
};
static const struct pg_stmt quota_set_stmt = {
	"quota_set", "UPDATE mailboxes SET " QSET("quota_bytes", "$2") ", " QSET("quota_messages", "$3")
	" WHERE address = $1", 3, 0
};
static const struct pg_stmt account_quota_stmt = {
	"account_quota_set", "UPDATE accounts SET"
	" mailbox_quota_bytes = CASE WHEN $2::bigint = -2 THEN mailbox_quota_bytes ELSE $2::bigint END,"
	" mailbox_quota_messages = CASE WHEN $3::bigint = -2 THEN mailbox_quota_messages ELSE $3::bigint END"
	" WHERE name = $1", 3, 0
};
static const struct pg_stmt account_quota_get_stmt = {
	"account_quota_get", "SELECT mailbox_quota_bytes, mailbox_quota_messages FROM accounts WHERE name = $1", 1, 1
};
static const struct pg_stmt vacation_get_stmt = {
	"vacation_get", "SELECT m.id, coalesce(v.enabled, false), v.subject, v.body, v.start_date, v.end_date"
	" FROM mailboxes m LEFT JOIN vacations v ON v.mailbox_id = m.id WHERE m.address = $1", 1, 1
};
/* one statement: the setting, and who was answered forgotten */
static const struct pg_stmt vacation_set_stmt = {
	"vacation_set", "WITH m AS (SELECT id FROM mailboxes WHERE address = $1),"
	" f AS (DELETE FROM vacation_replies WHERE mailbox_id IN (SELECT id FROM m))"
	" INSERT INTO vacations (mailbox_id, enabled, subject, body, start_date, end_date)"
	" SELECT id, $2::boolean, $3, $4, $5, $6 FROM m"
	" ON CONFLICT (mailbox_id) DO UPDATE SET enabled = excluded.enabled,"
	" subject = excluded.subject, body = excluded.body,"
	" start_date = excluded.start_date, end_date = excluded.end_date", 6, 0
};
static const struct pg_stmt vacation_note_stmt = {
	"vacation_note", "INSERT INTO vacation_replies (mailbox_id, sender, sent)"
	" SELECT id, $2, $3::bigint FROM mailboxes WHERE address = $1"
	" ON CONFLICT (mailbox_id, sender) DO UPDATE SET sent = excluded.sent"
	" WHERE vacation_replies.sent <= $4::bigint", 4, 0
};

int pg_quota_get(struct store *base, const char *addr, struct store_quota *out)
{
	const char *p[1] = { addr };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &quota_get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0) {
		out->mailbox_bytes = pg_ll(r, 0, 0);
		out->mailbox_messages = pg_ll(r, 0, 1);
		out->account_bytes = pg_ll(r, 0, 2);
		out->account_messages = pg_ll(r, 0, 3);
		out->bytes = out->mailbox_bytes >= 0 ? out->mailbox_bytes : out->account_bytes;
		out->messages = out->mailbox_messages >= 0 ? out->mailbox_messages : out->account_messages;
	}
	PQclear(r);
	return rc;
}

int pg_quota_set(struct store *base, const char *addr, int64_t bytes, int64_t messages, char *err, size_t errlen)
{
	char a[24], b[24];
	const char *p[3] = { addr, pg_num(a, bytes), pg_num(b, messages) };

	return pg_write_one(PG(base), &quota_set_stmt, p, "mailbox", addr, err, errlen);
}

int pg_account_quota_get(struct store *base, const char *account, int64_t *bytes, int64_t *messages)
{
	const char *p[1] = { account };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &account_quota_get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0) {
		*bytes = pg_ll(r, 0, 0);
		*messages = pg_ll(r, 0, 1);
	}
	PQclear(r);
	return rc;
}

int pg_account_quota_set(struct store *base, const char *account, int64_t bytes, int64_t messages,
                         char *err, size_t errlen)
{
	char a[24], b[24];
	const char *p[3] = { account, pg_num(a, bytes), pg_num(b, messages) };

	return pg_write_one(PG(base), &account_quota_stmt, p, "account", account, err, errlen);
}

int pg_vacation_get(struct store *base, const char *addr, struct vacation *out)
{
	const char *p[1] = { addr };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &vacation_get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0) {
		out->enabled = !strcmp(PQgetvalue(r, 0, 1), "t");
		pg_text(r, 0, 2, out->subject, sizeof out->subject);
		pg_text(r, 0, 3, out->text, sizeof out->text);
		pg_text(r, 0, 4, out->start, sizeof out->start);
		pg_text(r, 0, 5, out->end, sizeof out->end);
	}
	PQclear(r);
	return rc;
}

int pg_vacation_set(struct store *base, const char *addr, const struct vacation *v, char *err, size_t errlen)
{
	const char *p[6] = { addr, v->enabled ? "true" : "false", v->subject, v->text, v->start, v->end };

	return pg_write_one(PG(base), &vacation_set_stmt, p, "mailbox", addr, err, errlen);
}

int pg_vacation_note(struct store *base, const char *addr, const char *sender, time_t now, int period)
{
	char a[24], b[24];
	const char *p[4] = { addr, sender, pg_num(a, (long long)now), pg_num(b, (long long)now - period) };
	int rc = pg_write(PG(base), &vacation_note_stmt, p, NULL, 0);

	return rc < 0 ? rc : rc > 0;
}
