/*
 * ops_spam: a hosted domain's choice for mail the filter marks as spam
 * (store/store_spam.h), shared by hostmailctl, the admin API and the ACC:
 * the same names and the same refusals everywhere.
 */
#include "ops/ops.h"
#include "store/store_spam.h"
#include <stdio.h>
#include <string.h>

const char *ops_spam_name(const char *stored)
{
	return stored && stored[0] ? stored : "default";
}

int ops_domain_spam_get(struct store *st, const char *domain, char *out, size_t outlen, struct ops_err *e)
{
	char a[STORE_SPAM_ACTION_MAX];
	int rc = store_domain_spam_action(st, domain, a, sizeof a);

	if (rc == STORE_ENOTFOUND)
		return ops_fail(e, rc, NULL, "domain %s does not exist", domain);
	if (rc)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot read the spam choice of %s", domain);
	snprintf(out, outlen, "%s", ops_spam_name(a));
	return 0;
}

int ops_domain_spam_set(struct store *st, const char *domain, const char *choice, struct ops_err *e)
{
	char err[256];
	int rc;

	if (strcmp(choice, "default") && (!choice[0] || !store_spam_action_valid(choice)))
		return ops_fail(e, STORE_EINVAL, "spam", "%s is not a spam choice: subject, headers, refuse or default",
		                choice);
	rc = store_domain_set_spam_action(st, domain, choice, err, sizeof err);
	if (rc == STORE_ENOTFOUND)
		return ops_fail(e, rc, NULL, "domain %s does not exist", domain);
	if (rc)
		return ops_fail(e, rc == STORE_EINVAL ? rc : STORE_EFAIL, rc == STORE_EINVAL ? "spam" : NULL, "%s", err);
	return 0;
}
