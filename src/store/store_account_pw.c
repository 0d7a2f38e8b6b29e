/*
 * store_account_pw: the hosting account's own password (the ACC login),
 * column accounts.password_hash in the SQLite store; NULL until
 * `hostmailctl account passwd` sets it. Mailbox passwords are separate
 * (store_sqlite_mailbox.c).
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include <stdio.h>
#include <string.h>

int store_account_set_password(struct store *st, const char *name, const char *password_hash,
                               char *err, size_t errlen)
{
	if (!password_hash || password_hash[0] != '$' || strlen(password_hash) >= 256) {
		sq_seterr(err, errlen, "unusable password hash");
		return STORE_EINVAL;
	}
	return sq_write_one(st, "UPDATE accounts SET password_hash = ?1 WHERE name = ?2",
	                    password_hash, name, "account", name, err, errlen);
}

int store_account_get_password(struct store *st, const char *name, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	int rc;

	if (outlen == 0)
		return STORE_EINVAL;
	out[0] = '\0';
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
