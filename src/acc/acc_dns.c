/*
 * acc_dns: the DNS records pages (acc_dns.h). The records come from
 * dkim/dkim_records.c, the verdicts from policy/dns_records.c's pure
 * check; only the lookups are here. A domain of another account answers
 * 404 like one that is not hosted.
 */
#include "acc/acc_dns.h"
#include "acc/acc_pages.h"
#include "delivery/dns_sync.h"
#include "dkim/dkim_records.h"
#include "store/store_valid.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_TIMEOUT_MS 2000
/* A check holds its worker until DNS answers (2.5 s at worst); the pool
 * also commits SMTP messages, so only this many run at once */
#define CHECKS_AT_ONCE 2

static void unavailable(struct acc_req *r)
{
	acc_page_message(r, 503, "Temporarily unavailable",
	                 "The account database did not answer. Please try again in a minute.");
}

/* The records of domain as zone-file lines (hostmailctl domain dns's),
 * escaped, in a <pre>. */
static int zone_block(struct acc_req *r, const char *domain)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = dkim_domain_zone(r->store, r->cfg, domain, &b);
	if (rc == 0) {
		acc_out(r, "<pre class=\"zone\">");
		acc_esc(r, b.data ? b.data : "");
		acc_out(r, "</pre>");
	}
	buf_free(&b);
	return rc ? -1 : 0;
}

struct domains {
	char (*d)[256];
	int n;
};

static int collect(const char *domain, const char *account, void *arg)
{
	struct domains *ds = arg;

	(void)account;
	if (ds->n < ACC_MAX_DOMAINS)
		snprintf(ds->d[ds->n++], sizeof ds->d[0], "%s", domain);
	return 0;
}

void acc_work_dns(struct acc_req *r)
{
	struct domains ds = { calloc(ACC_MAX_DOMAINS, sizeof *ds.d), 0 };

	if (!ds.d || store_domain_list(r->store, r->account, collect, &ds) != 0) {
		free(ds.d);
		unavailable(r);
		return;
	}
	acc_begin(r, 200, "DNS records");
	acc_out(r, "<p>Publish these records at your DNS provider so that mail from your domains is "
	       "delivered: the DKIM keys let receivers verify the signature hostmail puts on every "
	       "message you send, SPF and DMARC say which servers may send for your domain.</p>");
	if (ds.n == 0)
		acc_out(r, "<p>This account has no domains.</p>");
	for (int i = 0; i < ds.n; i++) {
		acc_out(r, "<section class=\"domain\"><h2>");
		acc_esc(r, ds.d[i]);
		acc_out(r, "</h2>");
		if (zone_block(r, ds.d[i]) < 0) {
			free(ds.d);
			unavailable(r);
			return;
		}
		acc_out(r, "<p><a href=\"/dns/check?domain=");
		acc_esc(r, ds.d[i]);
		acc_out(r, "\">Check these records in DNS</a></p></section>");
	}
	acc_end(r);
	free(ds.d);
}

static const char *advice(const struct dns_record *rec, enum dns_check c)
{
	if (c == DNS_CHECK_OK)
		return "published";
	if (c == DNS_CHECK_MISSING)
		return "not found: publish the record above";
	if (rec->type == DNS_RR_MX)
		return "points elsewhere: mail for this domain does not reach us";
	if (!strcmp(rec->what, "SPF"))
		return "does not name our servers: receivers may reject your mail";
	if (!strcmp(rec->what, "DMARC"))
		return "not a DMARC record";
	return "holds another key: signatures with this selector fail";
}

/* Look every record up at once, then render the verdicts. */
static void check_page(struct acc_req *r, const char *domain, const struct dns_record *rec, int n)
{
	struct dns_sync_q *q = calloc((size_t)n, sizeof *q);
	char err[256];

	if (!q) {
		unavailable(r);
		return;
	}
	for (int i = 0; i < n; i++) {
		q[i].name = rec[i].name;
		q[i].type = rec[i].type == DNS_RR_MX ? DNS_SYNC_MX : DNS_SYNC_TXT;
	}
	if (dns_sync_resolve(r->cfg->dns_servers, q, (size_t)n, CHECK_TIMEOUT_MS, err, sizeof err) < 0) {
		free(q);
		acc_page_message(r, 503, "DNS unavailable", "The DNS check could not run. Please try again later.");
		return;
	}
	acc_begin(r, 200, "DNS check");
	acc_out(r, "<p>What DNS says now for <b>");
	acc_esc(r, domain);
	acc_out(r, "</b> (changes at your DNS provider can take a while to show):</p>"
	       "<table class=\"check\"><tr><th>Record</th><th>Name</th><th>Result</th><th>Found</th></tr>");
	for (int i = 0; i < n; i++) {
		const char *ans[DNS_SYNC_MAX_ANSWERS];
		enum dns_check c;
		for (int k = 0; k < q[i].n; k++)
			ans[k] = q[i].answers[k];
		c = dns_record_check(&rec[i], ans, (size_t)q[i].n);
		acc_out(r, "<tr class=\"%s\"><td>", q[i].status < 0 ? "unknown" : dns_check_name(c));
		acc_esc(r, rec[i].what);
		acc_out(r, "</td><td>");
		acc_esc(r, rec[i].name);
		acc_out(r, "</td><td><b>%s</b>: ", q[i].status < 0 ? "unknown" : dns_check_name(c));
		acc_esc(r, q[i].status < 0 ? "DNS did not answer; try again later" : advice(&rec[i], c));
		acc_out(r, "</td><td>");
		for (int k = 0; k < q[i].n; k++) {
			acc_out(r, "%s<code>", k ? "<br>" : "");
			acc_esc(r, q[i].answers[k]);
			acc_out(r, "</code>");
		}
		acc_out(r, "</td></tr>");
	}
	acc_out(r, "</table><h2>The records to publish</h2>");
	free(q);
	if (zone_block(r, domain) < 0)
		r->body_err = 1;
	acc_out(r, "<p><a href=\"/dns\">Back</a></p>");
	acc_end(r);
}

void acc_work_dns_check(struct acc_req *r)
{
	struct dns_record rec[DNS_RECORDS_MAX];
	char owner[STORE_NAME_MAX], d[256];
	int n, rc;

	if (valid_domain(r->domain, d, sizeof d, NULL, 0) < 0 ||
	    (rc = store_domain_owner(r->store, d, owner, sizeof owner)) == STORE_ENOTFOUND ||
	    (rc == 0 && strcmp(owner, r->account) != 0)) {
		acc_page_message(r, 404, "Not found", "This account has no such domain.");
		return;
	}
	if (rc != 0 || (n = dkim_domain_records(r->store, r->cfg, d, rec, DNS_RECORDS_MAX)) < 0) {
		unavailable(r);
		return;
	}
	if (atomic_fetch_add(&r->acc->dns_checks, 1) >= CHECKS_AT_ONCE) {
		snprintf(r->retry_after, sizeof r->retry_after, "%d", ACC_BUSY_RETRY_AFTER);
		acc_page_message(r, 503, "Busy", "Other DNS checks are running. Please try again in a few seconds.");
	} else {
		check_page(r, d, rec, n);
	}
	atomic_fetch_sub(&r->acc->dns_checks, 1);
}
