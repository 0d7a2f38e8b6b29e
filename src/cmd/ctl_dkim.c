/*
 * ctl_dkim: hostmailctl's DKIM and DNS verbs (docs/dkim.md).
 *   domain dkim DOMAIN                  the selectors and their state; the
 *                                       first call for a domain without
 *                                       keys makes them (active)
 *   domain dkim DOMAIN --rotate         a new generation, pending: still
 *                                       signing with the active one
 *   domain dkim DOMAIN --activate hmN   the operator saw hmN's records in
 *                                       DNS: sign with it, retire the old
 *   domain dns DOMAIN                   the records to publish, zone syntax
 *                                       (with the mail-program discovery
 *                                       records of policy/client_dns.c)
 */
#include "cmd/ctl.h"
#include "ops/ops.h"
#include "dkim/dkim_keys.h"
#include "dkim/dkim_records.h"
#include "store/store_dkim.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_MAX 32

struct key_list {
	struct dkim_key k[LIST_MAX];
	size_t n;
};

static int collect(const struct dkim_key *k, void *arg)
{
	struct key_list *l = arg;

	if (l->n < LIST_MAX)
		l->k[l->n++] = *k;
	return 0;
}

/* The domain's keys (public parts); 0 or 1 (reported). */
static int load(struct ctl *c, const char *domain, struct key_list *l)
{
	char owner[STORE_NAME_MAX];

	memset(l, 0, sizeof *l);
	if (store_domain_owner(c->st, domain, owner, sizeof owner))
		return fail("domain %s is not hosted", domain);
	return store_dkim_list(c->st, domain, 0, collect, l) ? fail("cannot read the DKIM keys of %s", domain) : 0;
}

static int add_generation(struct ctl *c, const char *domain, int gen, enum dkim_state st)
{
	struct ops_err e;

	return ops_dkim_add_generation(c->st, domain, gen, st, &e) ? fail("%s", e.msg) : 0;
}

static void show(const char *domain, const struct key_list *l)
{
	char day[16];
	struct tm tm;

	printf("domain: %s\n", domain);
	for (size_t i = 0; i < l->n; i++) {
		time_t t = (time_t)l->k[i].created;
		gmtime_r(&t, &tm);
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
		printf("selector: %s %s %s created %s\n", l->k[i].selector, dkim_alg_name(l->k[i].alg),
		       dkim_state_name(l->k[i].state), day);
	}
}

static int pending_generation(const struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->k[i].state == DKIM_PENDING)
			return l->k[i].generation;
	return 0;
}

static int rotate(struct ctl *c, const char *domain, struct key_list *l)
{
	int gen = dkim_next_generation(l->k, l->n), p = pending_generation(l);

	if (p)
		return fail("%s: generation hm%d is pending already: publish its records, then"
		            " hostmailctl domain dkim %s --activate hm%d", domain, p, domain, p);
	if (add_generation(c, domain, gen, l->n ? DKIM_PENDING : DKIM_ACTIVE))
		return 1;
	if (l->n)
		printf("hm%d: new keys, pending; still signing with the active ones. Publish (hostmailctl domain"
		       " dns %s), then: hostmailctl domain dkim %s --activate hm%d\n", gen, domain, domain, gen);
	return load(c, domain, l);
}

int ctl_domain_dkim(struct ctl *c, int argc, char **argv)
{
	struct key_list *l;
	const char *domain = argv[0];
	char err[512];
	int rc, gen;

	if (argc == 3 ? strcmp(argv[1], "--activate") : argc == 2 ? strcmp(argv[1], "--rotate") : argc != 1)
		return fail("usage: domain dkim DOMAIN [--rotate | --activate SELECTOR]");
	if (!store(c) || !(l = calloc(1, sizeof *l)))
		return 1;
	if ((rc = load(c, domain, l)) == 0) {
		if (argc == 2 || l->n == 0)
			rc = rotate(c, domain, l);
		else if (argc == 3 && (gen = dkim_parse_generation(argv[2])) < 0)
			rc = fail("%s is not a selector of hostmail's (hmN, hmN-rsa or hmN-ed25519)", argv[2]);
		else if (argc == 3 && store_dkim_activate(c->st, domain, gen, err, sizeof err))
			rc = fail("%s", err);
		else if (argc == 3)
			rc = load(c, domain, l);
	}
	if (rc == 0)
		show(domain, l);
	free(l);
	return rc;
}

int ctl_domain_dns(struct ctl *c, int argc, char **argv)
{
	struct buf b;
	int rc;

	(void)argc;
	if (!store(c))
		return 1;
	buf_init(&b, 0);
	rc = dkim_domain_zone(c->st, &c->cfg, argv[0], &b);
	if (rc == STORE_ENOTFOUND)
		rc = fail("domain %s is not hosted", argv[0]);
	else if (rc)
		rc = fail("cannot read the records of %s from the store", argv[0]);
	else if (b.len)
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return rc;
}
