/*
 * store_acc_session: the Account Control Center's login sessions in the
 * store, so that a login made on one node is valid on every node of a
 * fleet, survives a restart, and can be ended from anywhere.
 *
 * A session is found by its id, 256 bits from OpenSSL's CSPRNG written as
 * 64 lower-case hex digits (the hm_session cookie). The store keeps only
 * SHA-256 of the id, never the id itself: a copy of the database does
 * not let anyone log in. Each session has its own CSRF token (as random,
 * kept as is: pages show it), the account, its creation and last-use
 * times, and one flash message for the next page.
 *
 * A session ends:
 *  - after `idle` seconds without use or `lifetime` seconds in all (the
 *    caller passes both, and the time: find ends an expired one on the
 *    way, purge ends them all);
 *  - at logout (end), or when its account ends them (end_account);
 *  - when the account's password changes (store_account_set_password) or
 *    the account is suspended (store_account_set_suspended(..., 1)): the
 *    store ends every session of the account itself. A person who changes
 *    the password through the ACC is logged out too; the ACC logs them in
 *    again with a new session (store_acc_session_create) after the change;
 *  - when the account is removed;
 *  - when its account already has max_per_account sessions and a new one
 *    is made: the account's own least recently used session ends, never
 *    another account's.
 *
 * Blocking, like the rest of the store: from hostmaild call these on a
 * worker thread. Return 0, STORE_ENOTFOUND, STORE_EINVAL or STORE_EFAIL
 * (counts where said).
 */
#ifndef HM_STORE_ACC_SESSION_H
#define HM_STORE_ACC_SESSION_H
#include <stddef.h>
#include <time.h>
#include "store/store.h"

#define STORE_SESSION_ID_LEN 64        /* hex digits, without the NUL */
#define STORE_SESSION_FLASH_MAX 512

struct store_acc_session {
	char id[STORE_SESSION_ID_LEN + 1];     /* the session id (create makes it) */
	char csrf[STORE_SESSION_ID_LEN + 1];   /* this session's CSRF token */
	char account[STORE_NAME_MAX];
	time_t created, last;
	char flash[STORE_SESSION_FLASH_MAX];   /* the message for the next page, "" = none */
	int flash_error;
};

/* A new session for account at now: 0 with out filled (new id and CSRF
 * token), STORE_ENOTFOUND (no such account), STORE_EINVAL (max_per_account
 * < 1) or STORE_EFAIL. */
int store_acc_session_create(struct store *st, const char *account, time_t now, int max_per_account,
                             struct store_acc_session *out);
/* The live session with this id: 0 with out filled (flash included, not
 * cleared) and its last use set to now; STORE_ENOTFOUND when there is
 * none, the id is malformed, or it had expired (it is ended then). */
int store_acc_session_find(struct store *st, const char *id, time_t now, int idle, int lifetime,
                           struct store_acc_session *out);
/* Set the session's flash message (msg is cut at STORE_SESSION_FLASH_MAX - 1 bytes). */
int store_acc_session_set_flash(struct store *st, const char *id, int error, const char *msg);
/* Read and clear the flash message in one step: 0 with msg ("" if none) and
 * *error, or STORE_ENOTFOUND. */
int store_acc_session_take_flash(struct store *st, const char *id, char *msg, size_t msglen, int *error);
/* End one session (logout): 0 or STORE_ENOTFOUND. */
int store_acc_session_end(struct store *st, const char *id);
/* End every session of account except except_id (NULL: all of them):
 * how many were ended, or STORE_EFAIL. */
int store_acc_session_end_account(struct store *st, const char *account, const char *except_id);
/* End every expired session: how many, or STORE_EFAIL. */
int store_acc_session_purge(struct store *st, time_t now, int idle, int lifetime);

#endif
