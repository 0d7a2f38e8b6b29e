/* auth: mailbox credential check against the store (see auth.h). */
#include "auth/auth.h"
#include "auth/auth_cache.h"
#include "store/store.h"
#include "util/password.h"
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A hash of a throwaway password, so an unknown user costs one yescrypt too. */
static char dummy_hash[256];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	if (password_hash("hostmail-unknown-user", dummy_hash, sizeof dummy_hash) < 0)
		dummy_hash[0] = '\0';
}

/* The mailbox's row for user: 0, STORE_ENOTFOUND (mb->password_hash ""),
 * or another error. addr gets the lower-cased address. */
static int lookup(struct store *st, const char *user, char addr[320], struct mailbox *mb)
{
	size_t i;
	int r;

	for (i = 0; user[i] && i + 1 < 320; i++)
		addr[i] = (char)tolower((unsigned char)user[i]);
	addr[i] = '\0';
	r = store_mailbox_get(st, addr, mb);
	if (r != 0)
		mb->password_hash[0] = '\0';
	return r;
}

static enum auth_result verdict(const struct mailbox *mb, int ok, char *account, size_t accountlen,
                                char *mailbox, size_t mailboxlen)
{
	if (!ok)
		return AUTH_FAIL;
	snprintf(account, accountlen, "%s", mb->account);
	snprintf(mailbox, mailboxlen, "%s", mb->address);
	return mb->account_suspended ? AUTH_SUSPENDED : AUTH_OK;
}

/* The check; without may_hash, only what the cache answers (returns 0
 * when a hash is needed). 1 and *res when answered. */
static int check(struct store *st, struct auth_cache *cache, const char *user, const char *password,
                 char *account, size_t accountlen, char *mailbox, size_t mailboxlen, int may_hash,
                 enum auth_result *res)
{
	struct mailbox mb;
	char addr[320];
	int r = lookup(st, user, addr, &mb), ok = 0;

	if (r != 0 && r != STORE_ENOTFOUND) {
		*res = AUTH_TEMPFAIL;
		return 1;
	}
	if (!auth_cache_get(cache, addr, mb.password_hash, password, time(NULL), &ok)) {
		if (!may_hash) {
			explicit_bzero(mb.password_hash, sizeof mb.password_hash);
			return 0;
		}
		if (r == STORE_ENOTFOUND) {
			pthread_once(&dummy_once, make_dummy);
			password_verify(password, dummy_hash);
		} else {
			ok = password_verify(password, mb.password_hash);
		}
		auth_cache_put(cache, addr, mb.password_hash, password, ok, time(NULL));
	}
	/* a cached "right" never answers for a row that has gone: its hash was "" */
	*res = verdict(&mb, ok && r == 0, account, accountlen, mailbox, mailboxlen);
	explicit_bzero(mb.password_hash, sizeof mb.password_hash);
	return 1;
}

int auth_check_cached(struct store *st, struct auth_cache *cache, const char *user,
                      const char *password, char *account, size_t accountlen, char *mailbox,
                      size_t mailboxlen, enum auth_result *res)
{
	return check(st, cache, user, password, account, accountlen, mailbox, mailboxlen, 0, res);
}

enum auth_result auth_check(struct store *st, struct auth_cache *cache, const char *user,
                            const char *password, char *account, size_t accountlen, char *mailbox,
                            size_t mailboxlen)
{
	enum auth_result res = AUTH_TEMPFAIL;

	check(st, cache, user, password, account, accountlen, mailbox, mailboxlen, 1, &res);
	return res;
}
