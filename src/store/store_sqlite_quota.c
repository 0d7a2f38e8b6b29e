/*
 * store_sqlite_quota: mailbox quotas and autoresponders in the SQLite
 * store (store_quota.h, store_vacation.h). Addresses arrive normalized.
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

/* ?2/?3: -2 keeps the value, -1 clears it (NULL: the account's default) */
#define QSET(col, p) col " = CASE WHEN " p " = -2 THEN " col " WHEN " p " = -1 THEN NULL ELSE " p " END"

int sq_quota_get(struct store *base, const char *addr, struct store_quota *out)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT coalesce(m.quota_bytes, -1), coalesce(m.quota_messages, -1),"
	                       " a.mailbox_quota_bytes, a.mailbox_quota_messages"
	                       " FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
	                       " JOIN accounts a ON a.id = d.account_id WHERE m.address = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			out->mailbox_bytes = sqlite3_column_int64(s, 0);
			out->mailbox_messages = sqlite3_column_int64(s, 1);
			out->account_bytes = sqlite3_column_int64(s, 2);
			out->account_messages = sqlite3_column_int64(s, 3);
			out->bytes = out->mailbox_bytes >= 0 ? out->mailbox_bytes : out->account_bytes;
			out->messages = out->mailbox_messages >= 0 ? out->mailbox_messages : out->account_messages;
		}
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* An UPDATE of one row named by ?1 with integers ?2 and ?3. */
static int update3(struct sq_store *st, const char *sql, const char *name, int64_t a, int64_t b,
                   const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, sql) < 0) {
		rc = sq_dberr(st, err, errlen);
	} else {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, a);
		sqlite3_bind_int64(s, 3, b);
		rc = sq_exec_write(st, s, &changes);
		if (rc) {
			sq_dberr(st, err, errlen);
		} else if (changes == 0) {
			store_seterr(err, errlen, "%s %s does not exist", what, name);
			rc = STORE_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_quota_set(struct store *base, const char *addr, int64_t bytes, int64_t messages, char *err, size_t errlen)
{
	return update3(SQ(base), "UPDATE mailboxes SET " QSET("quota_bytes", "?2") ", "
	               QSET("quota_messages", "?3") " WHERE address = ?1", addr, bytes, messages, "mailbox",
	               err, errlen);
}

int sq_account_quota_set(struct store *base, const char *account, int64_t bytes, int64_t messages,
                         char *err, size_t errlen)
{
	return update3(SQ(base), "UPDATE accounts SET"
	               " mailbox_quota_bytes = CASE WHEN ?2 = -2 THEN mailbox_quota_bytes ELSE ?2 END,"
	               " mailbox_quota_messages = CASE WHEN ?3 = -2 THEN mailbox_quota_messages ELSE ?3 END"
	               " WHERE name = ?1", account, bytes, messages, "account", err, errlen);
}

int sq_account_quota_get(struct store *base, const char *account, int64_t *bytes, int64_t *messages)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT mailbox_quota_bytes, mailbox_quota_messages FROM accounts WHERE name = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*bytes = sqlite3_column_int64(s, 0);
			*messages = sqlite3_column_int64(s, 1);
		}
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_vacation_get(struct store *base, const char *addr, struct vacation *out)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT m.id, v.enabled, v.subject, v.body, v.start_date, v.end_date"
	                       " FROM mailboxes m LEFT JOIN vacations v ON v.mailbox_id = m.id"
	                       " WHERE m.address = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			out->enabled = sqlite3_column_int(s, 1) != 0;
			sq_text(s, 2, out->subject, sizeof out->subject);
			sq_text(s, 3, out->text, sizeof out->text);
			sq_text(s, 4, out->start, sizeof out->start);
			sq_text(s, 5, out->end, sizeof out->end);
		}
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int vacation_write(struct sq_store *st, const char *addr, const struct vacation *v, int *changes)
{
	sqlite3_stmt *s;

	if (sq_prepare(st, &s, "INSERT INTO vacations (mailbox_id, enabled, subject, body, start_date, end_date)"
	                       " SELECT id, ?2, ?3, ?4, ?5, ?6 FROM mailboxes WHERE address = ?1"
	                       " ON CONFLICT (mailbox_id) DO UPDATE SET enabled = excluded.enabled,"
	                       " subject = excluded.subject, body = excluded.body,"
	                       " start_date = excluded.start_date, end_date = excluded.end_date") < 0)
		return STORE_EFAIL;
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, v->enabled ? 1 : 0);
	sqlite3_bind_text(s, 3, v->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, v->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, v->start, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, v->end, -1, SQLITE_STATIC);
	return sq_exec_write(st, s, changes);
}

int sq_vacation_set(struct store *base, const char *addr, const struct vacation *v, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_begin(st) < 0) {
		rc = sq_dberr(st, err, errlen);
		goto out;
	}
	rc = vacation_write(st, addr, v, &changes);
	if (rc == 0 && changes == 0) {
		store_seterr(err, errlen, "mailbox %s does not exist", addr);
		rc = STORE_ENOTFOUND;
	} else if (rc == 0) {
		/* a new setting: everyone may be answered again */
		if (sq_prepare(st, &s, "DELETE FROM vacation_replies WHERE mailbox_id ="
		                       " (SELECT id FROM mailboxes WHERE address = ?)") < 0) {
			rc = STORE_EFAIL;
		} else {
			sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
			rc = sq_exec_write(st, s, NULL);
		}
	}
	if (rc == STORE_EFAIL)
		sq_dberr(st, err, errlen);
	if (sq_end(st, rc == 0) < 0 && rc == 0)
		rc = sq_dberr(st, err, errlen);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sq_vacation_note(struct store *base, const char *addr, const char *sender, time_t now, int period)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc, changes = 0;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "INSERT INTO vacation_replies (mailbox_id, sender, sent)"
	                       " SELECT id, ?2, ?3 FROM mailboxes WHERE address = ?1"
	                       " ON CONFLICT (mailbox_id, sender) DO UPDATE SET sent = excluded.sent"
	                       " WHERE vacation_replies.sent <= ?4") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)now - period);
		rc = sq_exec_write(st, s, &changes);
		if (rc == 0)
			rc = changes > 0;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}
