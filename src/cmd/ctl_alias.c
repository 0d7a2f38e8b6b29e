/*
 * ctl_alias: hostmailctl's routing verbs (docs/routing.md):
 *   alias add ADDRESS TARGET[,TARGET...] | alias list [DOMAIN] | alias remove ADDRESS
 *   domain catchall DOMAIN [TARGET|off]
 *   account contact NAME [ADDRESS|default]
 */
#include "cmd/ctl.h"
#include "ops/ops_alias.h"
#include <stdio.h>
#include <string.h>

int ctl_alias_add(struct ctl *c, int argc, char **argv)
{
	char targets[ALIAS_TARGETS_LEN] = "";
	struct ops_err e;

	if (!store(c))
		return 1;
	/* "a,b" or "a b" or "a, b": one list */
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(targets);
		if (snprintf(targets + n, sizeof targets - n, "%s%s", n ? "," : "", argv[i]) >= (int)(sizeof targets - n))
			return fail("too many targets");
	}
	return ops_alias_set(c->st, argv[0], targets, &e) ? fail("%s", e.msg) : 0;
}

int ctl_alias_remove(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;

	(void)argc;
	if (!store(c))
		return 1;
	return ops_alias_remove(c->st, argv[0], &e) ? fail("%s", e.msg) : 0;
}

static int print_alias(const struct alias *a, void *arg)
{
	(void)arg;
	printf("%s %s\n", a->address, a->targets);
	return 0;
}

int ctl_alias_list(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;

	if (!store(c))
		return 1;
	if (ops_alias_list_check(c->st, argc ? argv[0] : NULL, &e))
		return fail("%s", e.msg);
	return store_alias_list(c->st, argc ? argv[0] : NULL, print_alias, NULL) ? fail("store error") : 0;
}

int ctl_domain_catchall(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	char out[320];

	if (!store(c))
		return 1;
	if (argc == 1) {
		if (ops_alias_list_check(c->st, argv[0], &e))
			return fail("%s", e.msg);
		if (store_catchall_get(c->st, argv[0], out, sizeof out))
			return fail("store error");
		printf("%s\n", out[0] ? out : "off");
		return 0;
	}
	return ops_catchall_set(c->st, argv[0], argv[1], &e) ? fail("%s", e.msg) : 0;
}

int ctl_account_contact(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	char out[320];
	int dflt = 0;

	if (!store(c))
		return 1;
	if (argc == 1) {
		int rc = store_account_get_contact(c->st, argv[0], out, sizeof out, &dflt);
		if (rc == STORE_ENOTFOUND)
			return fail("account %s does not exist", argv[0]);
		if (rc)
			return fail("store error");
		printf("%s%s\n", out[0] ? out : "(none: the account has no mailbox)", dflt && out[0] ? " (default: first mailbox)" : "");
		return 0;
	}
	return ops_contact_set(c->st, argv[0], argv[1], &e) ? fail("%s", e.msg) : 0;
}
