/*
 * ctl_spam: hostmailctl's view of one domain and its spam choice
 * (ops_spam.c, store/store_spam.h; docs/acc.md "Spam choice"):
 *   domain show DOMAIN                 domain:, account:, spam: lines
 *   domain spam DOMAIN                 the choice (subject, headers,
 *                                      refuse or default)
 *   domain spam DOMAIN CHOICE          set it; default = the provider's
 *                                      [milter] spam_action
 */
#include "cmd/ctl.h"
#include "ops/ops.h"
#include <stdio.h>
#include <string.h>

int ctl_domain_show(struct ctl *c, int argc, char **argv)
{
	char owner[STORE_NAME_MAX], spam[16];
	struct ops_err e;

	(void)argc;
	if (!store(c))
		return 1;
	if (store_domain_owner(c->st, argv[0], owner, sizeof owner) != 0 ||
	    ops_domain_spam_get(c->st, argv[0], spam, sizeof spam, &e) != 0)
		return fail("domain %s does not exist", argv[0]);
	printf("domain: %s\naccount: %s\nspam: %s\n", argv[0], owner, spam);
	return 0;
}

int ctl_domain_spam(struct ctl *c, int argc, char **argv)
{
	char spam[16];
	struct ops_err e;

	if (!store(c))
		return 1;
	if (argc == 2 && ops_domain_spam_set(c->st, argv[0], argv[1], &e))
		return fail("%s", e.msg);
	if (ops_domain_spam_get(c->st, argv[0], spam, sizeof spam, &e))
		return fail("%s", e.msg);
	printf("%s spam=%s\n", argv[0], spam);
	return 0;
}
