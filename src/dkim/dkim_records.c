/*
 * dkim_records: the records of one domain (dkim_records.h). Empty
 * [records] keys fall back on [server] hostname: MX to it, SPF allowing
 * it (a fleet names its sending hosts in [records] spf instead), DMARC
 * p=none, the safe first step while reports are read.
 */
#include "dkim/dkim_records.h"
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
