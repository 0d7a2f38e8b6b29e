/* auth: mailbox credential check against the store (see auth.h). */
#include "auth/auth.h"
#include "store/store.h"
#include "util/password.h"
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* A hash of a throwaway password, so an unknown user costs one yescrypt too. */
static char dummy_hash[256];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	if (password_hash("hostmail-unknown-user", dummy_hash, sizeof dummy_hash) < 0)
		dummy_hash[0] = '\0';
}

enum auth_result auth_check(struct store *st, const char *user, const char *password,
                            char *account, size_t accountlen, char *mailbox, size_t mailboxlen)
{
	struct mailbox mb;
	char addr[320];
	size_t i;
	int r;

	for (i = 0; user[i] && i + 1 < sizeof addr; i++)
		addr[i] = (char)tolower((unsigned char)user[i]);
	addr[i] = '\0';
	r = store_mailbox_get(st, addr, &mb);
	if (r == STORE_ENOTFOUND) {
		pthread_once(&dummy_once, make_dummy);
		password_verify(password, dummy_hash);
		return AUTH_FAIL;
	}
	if (r != 0)
		return AUTH_TEMPFAIL;
	if (!password_verify(password, mb.password_hash))
		return AUTH_FAIL;
	snprintf(account, accountlen, "%s", mb.account);
	snprintf(mailbox, mailboxlen, "%s", mb.address);
	return mb.account_suspended ? AUTH_SUSPENDED : AUTH_OK;
}
