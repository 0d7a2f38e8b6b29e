/*
 * ops_mailbox: the domain and mailbox operations hostmailctl and the
 * admin API share (ops.h), and the password rule both apply.
 */
#include "ops/ops.h"
#include "delivery/maildir.h"
#include "dkim/dkim_keys.h"
#include "store/store_dkim.h"
#include "store/store_valid.h"
#include "util/password.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static int from_store(struct ops_err *e, int rc, const char *field, const char *err)
{
	return rc ? ops_fail(e, rc, rc == STORE_EINVAL ? field : NULL, "%s", err) : 0;
}

int ops_dkim_add_generation(struct store *st, const char *domain, int generation, int state,
                            struct ops_err *e)
{
	struct dkim_key k[2];
	char err[512];
	int rc;

	if (dkim_keys_generate(generation, (enum dkim_state)state, k, err, sizeof err) < 0)
		return ops_fail(e, STORE_EFAIL, NULL, "%s", err);
	rc = store_dkim_add(st, domain, k, 2, err, sizeof err);
	OPENSSL_cleanse(k, sizeof k);
	return from_store(e, rc, "domain", err);
}

int ops_domain_add(struct store *st, const char *account, const char *domain, int dkim, struct ops_err *e)
{
	char err[512], d[256];
	int rc;

	if (valid_domain(domain, d, sizeof d, err, sizeof err) < 0)
		return ops_fail(e, STORE_EINVAL, "domain", "%s", err);
	rc = store_domain_add(st, account, domain, err, sizeof err);
	if (rc == STORE_ENOTFOUND)    /* the account named: the request's fault */
		return ops_fail(e, STORE_EINVAL, "account", "%s", err);
	if (rc)
		return from_store(e, rc, "account", err);
	return dkim ? ops_dkim_add_generation(st, domain, 1, DKIM_ACTIVE, e) : 0;
}

int ops_domain_remove(struct store *st, const char *domain, struct ops_err *e)
{
	char err[512];

	return from_store(e, store_domain_remove(st, domain, err, sizeof err), "domain", err);
}

int ops_domain_list_check(struct store *st, const char *account, struct ops_err *e)
{
	struct account a;

	return account ? ops_account_get(st, account, &a, e) : 0;
}

int ops_mailbox_list_check(struct store *st, const char *domain, struct ops_err *e)
{
	char owner[STORE_NAME_MAX];

	if (domain && store_domain_owner(st, domain, owner, sizeof owner))
		return ops_fail(e, STORE_ENOTFOUND, NULL, "domain %s is not hosted", domain);
	return 0;
}

int ops_mailbox_check(struct store *st, const char *address, struct ops_err *e)
{
	char local[65], domain[256], err[512], owner[STORE_NAME_MAX];

	if (valid_address(address, local, sizeof local, domain, sizeof domain, err, sizeof err) < 0)
		return ops_fail(e, STORE_EINVAL, "address", "%s", err);
	if (store_domain_owner(st, domain, owner, sizeof owner))
		return ops_fail(e, STORE_EINVAL, "address",
		                "domain %s is not hosted by any account (add it with: domain add ACCOUNT %s)",
		                domain, domain);
	return 0;
}

int ops_password_check(const char *password, int force, struct ops_err *e)
{
	size_t n = strlen(password);

	if (n == 0)
		return ops_fail(e, STORE_EINVAL, "password", "empty password");
	if (n > OPS_PASSWORD_MAX)
		return ops_fail(e, STORE_EINVAL, "password", "password too long (at most %d bytes)", OPS_PASSWORD_MAX);
	if (n < OPS_PASSWORD_MIN && !force)
		return ops_fail(e, STORE_EINVAL, "password",
		                "password too short: at least %d characters, the ACC's rule (--force, or \"force\": true, overrides)",
		                OPS_PASSWORD_MIN);
	return 0;
}

static int hash_of(const char *password, int force, char *hash, size_t len, struct ops_err *e)
{
	int rc = ops_password_check(password, force, e);

	if (rc)
		return rc;
	if (password_hash(password, hash, len) < 0)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot hash the password (libcrypt failed)");
	return 0;
}

int ops_mailbox_add(struct store *st, const char *data_dir, const char *address, const char *password,
                    int force, struct ops_err *e)
{
	char local[65], domain[256], err[512], hash[256], path[1024];
	int rc;

	if ((rc = ops_mailbox_check(st, address, e)) || (rc = hash_of(password, force, hash, sizeof hash, e)))
		return rc;
	valid_address(address, local, sizeof local, domain, sizeof domain, err, sizeof err);
	if ((rc = store_mailbox_add(st, address, hash, err, sizeof err)))
		return from_store(e, rc, "address", err);
	if (maildir_create(data_dir, local, domain, path, sizeof path) < 0) {
		int en = errno;
		/* No half-made mailbox: undo the row if the Maildir cannot exist. */
		store_mailbox_remove(st, address, NULL, 0);
		return ops_fail(e, STORE_EFAIL, NULL, "cannot create the Maildir for %s@%s: %s", local, domain,
		                strerror(en));
	}
	return 0;
}

int ops_mailbox_passwd(struct store *st, const char *address, const char *password, int force,
                       struct ops_err *e)
{
	struct mailbox m;
	char err[512], hash[256];
	int rc;

	if (store_mailbox_get(st, address, &m))
		return ops_fail(e, STORE_ENOTFOUND, NULL, "mailbox %s does not exist", address);
	if ((rc = hash_of(password, force, hash, sizeof hash, e)))
		return rc;
	return from_store(e, store_mailbox_set_password(st, address, hash, err, sizeof err), "password", err);
}

int ops_mailbox_remove(struct store *st, const char *address, struct ops_err *e)
{
	char err[512];

	return from_store(e, store_mailbox_remove(st, address, err, sizeof err), "address", err);
}
