/*
 * dkim_records: the records of one domain (dkim_records.h). Empty
 * [records] keys fall back on [server] hostname: MX to it, SPF allowing
 * it (a fleet names its sending hosts in [records] spf instead), DMARC
 * p=none, the safe first step while reports are read.
 */
#include "dkim/dkim_records.h"
#include "policy/client_dns.h"
#include "policy/client_settings.h"
#include "store/store.h"
#include "store/store_dkim.h"
#include "util/config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_MAX 8   /* active, pending and a few retired generations' */

struct keys {
	struct dkim_key k[KEYS_MAX];
	size_t n;
};

static int keep_published(const struct dkim_key *k, void *arg)
{
	struct keys *ks = arg;

	if (k->state != DKIM_RETIRED && ks->n < KEYS_MAX)
		ks->k[ks->n++] = *k;
	return 0;
}

int dkim_domain_records(struct store *st, const struct config *cfg, const char *domain,
                        struct dns_record *out, size_t max)
{
	struct keys *ks = calloc(1, sizeof *ks);
	char spf[600];
	struct dns_records_in in = { 0 };
	int n;

	if (!ks || store_dkim_list(st, domain, 0, keep_published, ks) != 0) {
		free(ks);
		return STORE_EFAIL;
	}
	snprintf(spf, sizeof spf, "v=spf1 a:%s ~all", cfg->hostname);
	in.domain = domain;
	in.mx = cfg->records_mx[0] ? cfg->records_mx : cfg->hostname;
	in.spf = cfg->records_spf[0] ? cfg->records_spf : spf;
	in.dmarc = cfg->records_dmarc[0] ? cfg->records_dmarc : "v=DMARC1; p=none";
	in.keys = ks->k;
	in.nkeys = ks->n;
	n = dns_records_build(&in, out, max);
	free(ks);
	return n < 0 ? STORE_EFAIL : n;
}

/* The SRV and CNAME lines for the owner's servers (any address of the
 * domain gets the same ones). The CNAMEs point at [server] hostname, the
 * ACC's host. */
static int discovery(struct store *st, const struct config *cfg, const char *domain, struct buf *out)
{
	char owner[STORE_NAME_MAX], address[320];
	struct client_settings *cs;
	struct account acct;
	int rc;

	if ((rc = store_domain_owner(st, domain, owner, sizeof owner)) != 0 ||
	    (rc = store_account_get(st, owner, &acct)) != 0)
		return rc;
	if (!(cs = calloc(1, sizeof *cs)))
		return STORE_EFAIL;
	snprintf(address, sizeof address, "postmaster@%s", domain);
	rc = client_settings_get(cfg, &acct, address, cs) < 0 ||
	     buf_puts(out, "; mail programs finding their servers (RFC 6186 SRV, autoconfig)\n") < 0 ||
	     client_dns_records(out, domain, cs, cfg->hostname) < 0 ? STORE_EFAIL : 0;
	free(cs);
	return rc;
}

int dkim_domain_zone(struct store *st, const struct config *cfg, const char *domain, struct buf *out)
{
	struct dns_record r[DNS_RECORDS_MAX];
	char owner[STORE_NAME_MAX];
	int n, rc;

	if ((rc = store_domain_owner(st, domain, owner, sizeof owner)) != 0)
		return rc;
	if ((n = dkim_domain_records(st, cfg, domain, r, DNS_RECORDS_MAX)) < 0)
		return STORE_EFAIL;
	for (int i = 0; i < n; i++)
		if (buf_printf(out, "; %s%s\n", r[i].what, r[i].suggestion ? " (a suggestion)" : "") < 0 ||
		    dns_record_zone_line(&r[i], out) < 0)
			return STORE_EFAIL;
	return discovery(st, cfg, domain, out);
}
