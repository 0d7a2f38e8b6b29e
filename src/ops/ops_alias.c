/*
 * ops_alias: aliases, catch-alls and contacts for hostmailctl and the
 * admin API (ops_alias.h): the store's checks, its words, and the field
 * at fault.
 */
#include "ops/ops_alias.h"
#include <string.h>

static int from_store(struct ops_err *e, int rc, const char *field, const char *err)
{
	return rc ? ops_fail(e, rc, rc == STORE_EINVAL ? field : NULL, "%s", err) : 0;
}

int ops_alias_set(struct store *st, const char *address, const char *targets, struct ops_err *e)
{
	char err[512] = "";
	int rc = store_alias_set(st, address, targets, err, sizeof err);

	/* which field: the targets' message names a target or the count */
	return from_store(e, rc, strstr(err, "target") ? "targets" : "address", err);
}

int ops_alias_remove(struct store *st, const char *address, struct ops_err *e)
{
	char err[512] = "";

	return from_store(e, store_alias_remove(st, address, err, sizeof err), "address", err);
}

int ops_alias_list_check(struct store *st, const char *domain, struct ops_err *e)
{
	char owner[STORE_NAME_MAX];

	if (!domain)
		return 0;
	if (store_domain_owner(st, domain, owner, sizeof owner) != 0)
		return ops_fail(e, STORE_ENOTFOUND, NULL, "domain %s is not hosted by any account", domain);
	return 0;
}

int ops_catchall_set(struct store *st, const char *domain, const char *target, struct ops_err *e)
{
	char err[512] = "";

	if (target && !strcmp(target, "off"))
		target = NULL;
	return from_store(e, store_catchall_set(st, domain, target, err, sizeof err), "target", err);
}

int ops_contact_set(struct store *st, const char *account, const char *address, struct ops_err *e)
{
	char err[512] = "";

	if (address && !strcmp(address, "default"))
		address = NULL;
	return from_store(e, store_account_set_contact(st, account, address, err, sizeof err), "address", err);
}
