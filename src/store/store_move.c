/*
 * store_move: the public face of the account moves (store_move.h): checks
 * the input once for both backends, then dispatches.
 */
#include "store/store_move.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include <string.h>

int store_move_begin(struct store *st, const char *account, int to, int64_t now, struct account_move *out,
                     char *err, size_t errlen)
{
	if (!account || !*account || strlen(account) >= STORE_NAME_MAX) {
		store_seterr(err, errlen, "invalid account name");
		return STORE_EINVAL;
	}
	if (to < 1 || to > NODE_NUMBER_MAX) {
		store_seterr(err, errlen, "invalid node number: must be 1 to %d", NODE_NUMBER_MAX);
		return STORE_EINVAL;
	}
	memset(out, 0, sizeof *out);
	return st->ops->move_begin(st, account, to, now, out, err, errlen);
}

int store_move_get(struct store *st, const char *account, struct account_move *out)
{
	if (!account || !*account || strlen(account) >= STORE_NAME_MAX)
		return STORE_ENOTFOUND;
	memset(out, 0, sizeof *out);
	return st->ops->move_get(st, account, out);
}

int store_move_switch(struct store *st, const char *account, char *err, size_t errlen)
{
	if (!account || !*account || strlen(account) >= STORE_NAME_MAX)
		return STORE_ENOTFOUND;
	return st->ops->move_switch(st, account, err, errlen);
}

int store_move_list(struct store *st, int (*cb)(const struct account_move *, void *), void *arg)
{
	return st->ops->move_list(st, cb, arg);
}

int store_move_end(struct store *st, const char *account, char *err, size_t errlen)
{
	if (!account || !*account || strlen(account) >= STORE_NAME_MAX)
		return STORE_ENOTFOUND;
	return st->ops->move_end(st, account, err, errlen);
}
