/*
 * ctl_dkim: hostmailctl's DKIM and DNS verbs (docs/dkim.md), printing
 * what ops/ops_dkim.h (shared with the admin API) does.
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
#include "ops/ops_dkim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void show(const char *domain, const struct ops_dkim_keys *l)
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

/* A rotation that left the active keys signing says what to do next. */
static void rotated(const char *domain, const struct ops_dkim_keys *l, int gen)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->k[i].generation == gen && l->k[i].state == DKIM_PENDING) {
			printf("hm%d: new keys, pending; still signing with the active ones. Publish (hostmailctl"
			       " domain dns %s), then: hostmailctl domain dkim %s --activate hm%d\n", gen, domain,
			       domain, gen);
			return;
		}
}

int ctl_domain_dkim(struct ctl *c, int argc, char **argv)
{
	struct ops_dkim_keys *l;
	const char *domain = argv[0];
	struct ops_err e;
	int rc, gen;

	if (argc == 3 ? strcmp(argv[1], "--activate") : argc == 2 ? strcmp(argv[1], "--rotate") : argc != 1)
		return fail("usage: domain dkim DOMAIN [--rotate | --activate SELECTOR]");
	if (!store(c) || !(l = calloc(1, sizeof *l)))
		return 1;
	if (argc == 3)
		rc = ops_dkim_activate(c->st, domain, argv[2], l, &e);
	else if ((rc = ops_dkim_keys(c->st, domain, l, &e)) == 0 && (argc == 2 || l->n == 0) &&
	         (rc = ops_dkim_rotate(c->st, domain, l, &gen, &e)) == 0)
		rotated(domain, l, gen);
	if (rc == 0)
		show(domain, l);
	free(l);
	return rc ? fail("%s", e.msg) : 0;
}

int ctl_domain_dns(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	struct buf b;
	int rc;

	(void)argc;
	if (!store(c))
		return 1;
	buf_init(&b, 0);
	if ((rc = ops_dns(c->st, &c->cfg, argv[0], &b, NULL, 0, NULL, &e)))
		rc = fail("%s", e.msg);
	else if (b.len)
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return rc;
}
