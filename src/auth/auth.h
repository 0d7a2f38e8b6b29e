/*
 * auth: checking a mailbox's credentials (SMTP AUTH, POP3, shared). Slow
 * by design (yescrypt) unless the verdict is cached (auth_cache.h): call
 * these on a worker thread.
 */
#ifndef HM_AUTH_H
#define HM_AUTH_H
#include <stddef.h>

struct store;
struct auth_cache;

enum auth_result { AUTH_OK, AUTH_FAIL, AUTH_SUSPENDED, AUTH_TEMPFAIL };

/*
 * user is the full mailbox address (case-insensitive). On AUTH_OK and
 * AUTH_SUSPENDED, account and mailbox (lower-case address) are filled.
 * An unknown user costs as much time as a wrong password, and a suspended
 * account is only reported to a caller who knows the password. cache may
 * be NULL; a verdict computed here is remembered in it.
 */
enum auth_result auth_check(struct store *st, struct auth_cache *cache, const char *user,
                            const char *password, char *account, size_t accountlen, char *mailbox,
                            size_t mailboxlen);

/*
 * The quick half: one store call and a cache lookup, no hashing. 1 and
 * *res if the verdict is cached (or the store failed: AUTH_TEMPFAIL); 0
 * if auth_check must hash.
 */
int auth_check_cached(struct store *st, struct auth_cache *cache, const char *user,
                      const char *password, char *account, size_t accountlen, char *mailbox,
                      size_t mailboxlen, enum auth_result *res);

#endif
