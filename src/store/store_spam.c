/*
 * store_spam: the public face of the per-domain spam choice (store_spam.h):
 * checks the input once for both backends, then dispatches.
 */
#include "store/store_spam.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include <string.h>

int store_spam_action_valid(const char *a)
{
	return !strcmp(a, "") || !strcmp(a, "subject") || !strcmp(a, "headers") || !strcmp(a, "refuse");
}

int store_domain_spam_action(struct store *st, const char *domain, char *out, size_t outlen)
{
	char d[256];

	if (outlen > 0)
		out[0] = '\0';
	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	return st->ops->domain_spam_get(st, d, out, outlen);
}

int store_domain_set_spam_action(struct store *st, const char *domain, const char *action,
                                 char *err, size_t errlen)
{
	char d[256];

	if (!strcmp(action, "default"))
		action = "";
	if (!store_spam_action_valid(action)) {
		store_seterr(err, errlen, "%s is not a spam choice (subject, headers, refuse or default)", action);
		return STORE_EINVAL;
	}
	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0) {
		store_seterr(err, errlen, "domain %s does not exist", domain);
		return STORE_ENOTFOUND;
	}
	return st->ops->domain_spam_set(st, d, action, err, errlen);
}
