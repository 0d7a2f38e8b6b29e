/*
 * store_dkim: the public face of the DKIM key calls (store_dkim.h):
 * checks the input once for both backends, then dispatches.
 */
#include "store/store_dkim.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include <string.h>

const char *dkim_alg_name(enum dkim_alg a)
{
	return a == DKIM_ALG_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

const char *dkim_state_name(enum dkim_state s)
{
	return s == DKIM_ACTIVE ? "active" : s == DKIM_RETIRED ? "retired" : "pending";
}

/* A selector is one DNS label of letters, digits and '-'. */
static int valid_selector(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int store_dkim_add(struct store *st, const char *domain, const struct dkim_key *keys, size_t n,
                   char *err, size_t errlen)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0) {
		store_seterr(err, errlen, "domain %s is not hosted", domain);
		return STORE_ENOTFOUND;
	}
	for (size_t i = 0; i < n; i++) {
		if (!valid_selector(keys[i].selector) || !keys[i].public_key[0] || !keys[i].private_key[0] ||
		    keys[i].state > DKIM_RETIRED || keys[i].generation < 1) {
			store_seterr(err, errlen, "invalid DKIM key for %s", d);
			return STORE_EINVAL;
		}
	}
	return st->ops->dkim_add(st, d, keys, n, err, errlen);
}

int store_dkim_list(struct store *st, const char *domain, int with_private,
                    int (*cb)(const struct dkim_key *, void *), void *arg)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return 0;   /* not a domain: no keys */
	return st->ops->dkim_list(st, d, with_private, cb, arg);
}

int store_dkim_activate(struct store *st, const char *domain, int gen, char *err, size_t errlen)
{
	char d[256];

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0) {
		store_seterr(err, errlen, "domain %s is not hosted", domain);
		return STORE_ENOTFOUND;
	}
	return st->ops->dkim_activate(st, d, gen, err, errlen);
}
