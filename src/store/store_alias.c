/*
 * store_alias: the public face of the alias, catch-all and contact calls
 * (store_alias.h): checks and normalizes the input once for both
 * backends, then dispatches.
 */
#include "store/store_alias.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include <stdio.h>
#include <string.h>

static int norm_addr(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	char local[128], domain[256];

	if (valid_address(in, local, sizeof local, domain, sizeof domain, err, errlen) < 0)
		return -1;
	if ((size_t)snprintf(out, outlen, "%s@%s", local, domain) >= outlen) {
		store_seterr(err, errlen, "address %s is too long", in);
		return -1;
	}
	return 0;
}

int alias_targets_normalize(const char *in, char *out, size_t outlen, int *n, char *err, size_t errlen)
{
	char one[320], addr[320];
	size_t len = 0;

	*n = 0;
	out[0] = '\0';
	while (*in) {
		size_t k = strcspn(in, ", \t");
		if (k == 0) {
			in++;
			continue;
		}
		if (k >= sizeof one || norm_addr((memcpy(one, in, k), one[k] = '\0', one), addr, sizeof addr,
		                                 err, errlen) < 0) {
			if (k >= sizeof one)
				store_seterr(err, errlen, "target address too long");
			return STORE_EINVAL;
		}
		in += k;
		/* drop a repeat: "a,b" and "a,b,a" are the same alias */
		char probe[330];
		snprintf(probe, sizeof probe, ",%s,", addr);
		char have[ALIAS_TARGETS_LEN + 2];
		snprintf(have, sizeof have, ",%s,", out);
		if (strstr(have, probe))
			continue;
		if (*n == ALIAS_TARGETS_MAX || len + strlen(addr) + 2 > outlen) {
			store_seterr(err, errlen, "too many targets (at most %d)", ALIAS_TARGETS_MAX);
			return STORE_EINVAL;
		}
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? "," : "", addr);
		(*n)++;
	}
	if (*n == 0) {
		store_seterr(err, errlen, "an alias needs at least one target");
		return STORE_EINVAL;
	}
	return 0;
}

int store_alias_set(struct store *st, const char *address, const char *targets, char *err, size_t errlen)
{
	char addr[320], t[ALIAS_TARGETS_LEN];
	int n;

	if (norm_addr(address, addr, sizeof addr, err, errlen) < 0)
		return STORE_EINVAL;
	if (alias_targets_normalize(targets, t, sizeof t, &n, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->alias_set(st, addr, strrchr(addr, '@') + 1, t, err, errlen);
}

int store_alias_remove(struct store *st, const char *address, char *err, size_t errlen)
{
	char addr[320];

	if (norm_addr(address, addr, sizeof addr, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->alias_remove(st, addr, err, errlen);
}

int store_alias_get(struct store *st, const char *address, struct alias *out)
{
	char addr[320];

	if (norm_addr(address, addr, sizeof addr, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	return st->ops->alias_get(st, addr, out);
}

int store_alias_list(struct store *st, const char *domain, int (*cb)(const struct alias *, void *), void *arg)
{
	char d[256];

	if (domain && valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;
	return st->ops->alias_list(st, domain ? d : NULL, cb, arg);
}

int store_catchall_set(struct store *st, const char *domain, const char *target, char *err, size_t errlen)
{
	char d[256], t[320] = "";

	if (valid_domain(domain, d, sizeof d, err, errlen) < 0)
		return STORE_EINVAL;
	if (target && target[0] && norm_addr(target, t, sizeof t, err, errlen) < 0)
		return STORE_EINVAL;
	{
		char owner[STORE_NAME_MAX];
		int rc = st->ops->domain_owner(st, d, owner, sizeof owner);
		if (rc == STORE_ENOTFOUND)
			store_seterr(err, errlen, "domain %s is not hosted by any account", d);
		if (rc)
			return rc;
	}
	return st->ops->catchall_set(st, d, t[0] ? t : NULL, err, errlen);
}

int store_catchall_get(struct store *st, const char *domain, char *out, size_t outlen)
{
	char d[256];

	out[0] = '\0';
	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;
	return st->ops->catchall_get(st, d, out, outlen);
}

int store_account_set_contact(struct store *st, const char *account, const char *address,
                              char *err, size_t errlen)
{
	char a[320] = "";

	if (valid_account_name(account, err, errlen) < 0)
		return STORE_EINVAL;
	if (address && address[0] && norm_addr(address, a, sizeof a, err, errlen) < 0)
		return STORE_EINVAL;
	return st->ops->contact_set(st, account, a[0] ? a : NULL, err, errlen);
}

int store_account_get_contact(struct store *st, const char *account, char *out, size_t outlen, int *is_default)
{
	int dflt = 0, rc;

	out[0] = '\0';
	if (valid_account_name(account, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	rc = st->ops->contact_get(st, account, out, outlen, &dflt);
	if (is_default)
		*is_default = dflt;
	return rc;
}
