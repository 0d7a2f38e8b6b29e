/*
 * store_sqlite_account_pw: the hosting account's own password (the ACC
 * login), column accounts.password_hash in the SQLite store; NULL until
 * `hostmailctl account passwd` sets it. Setting it ends the account's ACC
 * sessions (trigger account_password). Mailbox passwords are separate
 * (store_sqlite_mailbox.c).
 */
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

int sq_account_set_password(struct store *base, const char *name, const char *password_hash,
                            char *err, size_t errlen)
{
	return sq_write_one(SQ(base), "UPDATE accounts SET password_hash = ?1 WHERE name = ?2",
	                    password_hash, name, "account", name, err, errlen);
}

int sq_account_get_password(struct store *base, const char *name, char *out, size_t outlen)
{
	struct sq_store *st = SQ(base);
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->mu);
	if (sq_prepare(st, &s, "SELECT password_hash FROM accounts WHERE name = ?") < 0) {
		rc = STORE_EFAIL;
	} else {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			sq_text(s, 0, out, outlen);
		rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? STORE_ENOTFOUND : STORE_EFAIL;
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}
