/*
 * ops_dkim: DKIM key generations and DNS records (ops_dkim.h), shared by
 * hostmailctl (cmd/ctl_dkim.c) and the admin API (admin/admin_dkim.c).
 */
#include "ops/ops_dkim.h"
#include "dkim/dkim_keys.h"
#include "dkim/dkim_records.h"
#include <string.h>

static int collect(const struct dkim_key *k, void *arg)
{
	struct ops_dkim_keys *l = arg;

	if (l->n < OPS_DKIM_KEYS_MAX)
		l->k[l->n++] = *k;
	return 0;
}

int ops_dkim_keys(struct store *st, const char *domain, struct ops_dkim_keys *l, struct ops_err *e)
{
	char owner[STORE_NAME_MAX];

	memset(l, 0, sizeof *l);
	if (store_domain_owner(st, domain, owner, sizeof owner))
		return ops_fail(e, STORE_ENOTFOUND, NULL, "domain %s is not hosted", domain);
	if (store_dkim_list(st, domain, 0, collect, l))
		return ops_fail(e, STORE_EFAIL, NULL, "cannot read the DKIM keys of %s", domain);
	return 0;
}

static int pending_generation(const struct ops_dkim_keys *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->k[i].state == DKIM_PENDING)
			return l->k[i].generation;
	return 0;
}

int ops_dkim_rotate(struct store *st, const char *domain, struct ops_dkim_keys *l, int *gen,
                    struct ops_err *e)
{
	int rc, p;

	if ((rc = ops_dkim_keys(st, domain, l, e)))
		return rc;
	if ((p = pending_generation(l)))
		return ops_fail(e, STORE_EEXIST, NULL, "%s: generation hm%d is pending already: publish its"
		                " records, then hostmailctl domain dkim %s --activate hm%d", domain, p, domain, p);
	*gen = dkim_next_generation(l->k, l->n);
	if ((rc = ops_dkim_add_generation(st, domain, *gen, l->n ? DKIM_PENDING : DKIM_ACTIVE, e)))
		return rc;
	return ops_dkim_keys(st, domain, l, e);
}

int ops_dkim_activate(struct store *st, const char *domain, const char *selector, struct ops_dkim_keys *l,
                      struct ops_err *e)
{
	char err[512];
	int rc, gen;

	if ((rc = ops_dkim_keys(st, domain, l, e)))
		return rc;
	if ((gen = dkim_parse_generation(selector)) < 0)
		return ops_fail(e, STORE_EINVAL, "selector", "%s is not a selector of hostmail's"
		                " (hmN, hmN-rsa or hmN-ed25519)", selector);
	if ((rc = store_dkim_activate(st, domain, gen, err, sizeof err)))
		return ops_fail(e, rc, NULL, "%s", err);
	return ops_dkim_keys(st, domain, l, e);
}

int ops_dns(struct store *st, const struct config *cfg, const char *domain, struct buf *zone,
            struct dns_record *out, size_t max, int *n, struct ops_err *e)
{
	char owner[STORE_NAME_MAX];
	int rc = store_domain_owner(st, domain, owner, sizeof owner);

	if (rc == 0 && zone)
		rc = dkim_domain_zone(st, cfg, domain, zone);
	if (rc == 0 && out && (*n = dkim_domain_records(st, cfg, domain, out, max)) < 0)
		rc = STORE_EFAIL;
	if (rc == STORE_ENOTFOUND)
		return ops_fail(e, rc, NULL, "domain %s is not hosted", domain);
	if (rc)
		return ops_fail(e, STORE_EFAIL, NULL, "cannot read the records of %s from the store", domain);
	return 0;
}
