/*
 * auth: checking a mailbox's credentials (SMTP AUTH, POP3, shared). Slow
 * by design (yescrypt): call auth_check on a worker thread.
 */
#ifndef HM_AUTH_H
#define HM_AUTH_H
#include <stddef.h>

struct store;

enum auth_result { AUTH_OK, AUTH_FAIL, AUTH_SUSPENDED, AUTH_TEMPFAIL };

/*
 * user is the full mailbox address (case-insensitive). On AUTH_OK and
 * AUTH_SUSPENDED, account and mailbox (lower-case address) are filled.
 * An unknown user costs as much time as a wrong password, and a suspended
 * account is only reported to a caller who knows the password.
 */
enum auth_result auth_check(struct store *st, const char *user, const char *password,
                            char *account, size_t accountlen, char *mailbox, size_t mailboxlen);

#endif
