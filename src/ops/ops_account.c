/*
 * ops_account: the account operations hostmailctl and the admin API share
 * (ops.h): checks, the store's call, and the refusal's words.
 */
#include "ops/ops.h"
#include "ops/ops_node.h"
#include "store/store_acc_session.h"
#include "store/store_valid.h"
#include "util/password.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ops_fail(struct ops_err *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

/* The store's refusal, with the field at fault when it is bad input. */
static int from_store(struct ops_err *e, int rc, const char *field, const char *err)
{
	return rc ? ops_fail(e, rc, rc == STORE_EINVAL ? field : NULL, "%s", err) : 0;
}

int ops_account_add(struct store *st, const char *name, const char *created, int server_number,
                    struct ops_err *e)
{
	char err[512];
	int rc;

	if (valid_account_name(name, err, sizeof err) < 0)
		return ops_fail(e, STORE_EINVAL, "name", "%s", err);
	if (created && valid_date(created, err, sizeof err) < 0)
		return ops_fail(e, STORE_EINVAL, "created", "%s", err);
	/* the home node: given, or picked in a fleet (ops_node.h) */
	if ((rc = ops_node_home_for_new(st, server_number, &server_number, e)))
		return rc;
	return from_store(e, store_account_add(st, name, created, server_number, err, sizeof err),
	                  "server_number", err);
}

int ops_account_get(struct store *st, const char *name, struct account *out, struct ops_err *e)
{
	int rc = store_account_get(st, name, out);

	if (rc == STORE_ENOTFOUND)
		return ops_fail(e, rc, NULL, "account %s does not exist", name);
	return rc ? ops_fail(e, STORE_EFAIL, NULL, "cannot read account %s (store error)", name) : 0;
}

int ops_account_limits(struct store *st, const char *name, int per_hour, int per_day, int max_rcpt,
                       struct ops_err *e)
{
	char err[512];

	if (max_rcpt == 0)
		return ops_fail(e, STORE_EINVAL, "max_recipients", "--max-recipients must be at least 1");
	return from_store(e, store_account_set_limits(st, name, per_hour, per_day, max_rcpt, err, sizeof err),
	                  NULL, err);
}

int ops_account_suspend(struct store *st, const char *name, int suspended, struct ops_err *e)
{
	char err[512];

	return from_store(e, store_account_set_suspended(st, name, suspended, err, sizeof err), NULL, err);
}

int ops_account_remove(struct store *st, const char *name, struct ops_err *e)
{
	char err[512];

	return from_store(e, store_account_remove(st, name, err, sizeof err), NULL, err);
}

int ops_account_password(struct store *st, const char *name, const char *password, int force,
                         struct ops_err *e)
{
	struct account a;
	char err[512], hash[256];
	int rc;

	if ((rc = ops_account_get(st, name, &a, e)) || (rc = ops_password_check(password, force, e)))
		return rc;
	if (password_hash(password, hash, sizeof hash) < 0)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot hash the password (libcrypt failed)");
	return from_store(e, store_account_set_password(st, a.name, hash, err, sizeof err), "password", err);
}

int ops_account_logout(struct store *st, const char *name, int *n, struct ops_err *e)
{
	struct account a;
	int rc;

	if ((rc = ops_account_get(st, name, &a, e)))
		return rc;
	if ((*n = store_acc_session_end_account(st, a.name, NULL)) < 0)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot end the sessions of %s (store error)", a.name);
	return 0;
}
