/*
 * acc_discover: the answers mail programs fetch to set themselves up,
 * without a login: Mozilla autoconfig (GET /mail/config-v1.1.xml, as
 * fetched from autoconfig.DOMAIN, and under /.well-known/autoconfig/ of
 * the domain) and Autodiscover (POST /autodiscover/autodiscover.xml).
 * The answer depends on the domain only: a hosted domain gets its
 * account's servers whatever the local part (autoconfig does not even
 * repeat it), any other domain 404. So nothing here tells whether a
 * mailbox exists. On a worker.
 */
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "policy/autoconfig.h"
#include "store/store_valid.h"
#include "util/log.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void not_hosted(struct acc_req *r)
{
	acc_page_message(r, 404, "Not found", "This server has no settings for that domain.");
}

/* The settings for a mailbox of domain (lower case): 0, or -1 with the answer set. */
static int domain_settings(struct acc_req *r, const char *domain, const char *username,
                           struct client_settings *cs)
{
	char owner[STORE_NAME_MAX];
	struct account acct;                /* not r->acct: that is the logged-in one's, if any */
	int rc = store_domain_owner(r->store, domain, owner, sizeof owner);

	if (rc == 0)
		rc = store_account_get(r->store, owner, &acct);
	if (rc == STORE_ENOTFOUND) {
		not_hosted(r);
		return -1;
	}
	if (rc != 0) {
		acc_unavailable(r);
		return -1;
	}
	if (client_settings_get(r->cfg, &acct, username, cs) < 0) {
		acc_page_message(r, 500, "Internal error", "The settings do not fit.");
		return -1;
	}
	return 0;
}

/* The domain asked about: emailaddress's, or else the Host's under
 * "autoconfig." (Thunderbird always sends emailaddress; others may not). */
static int autoconfig_domain(struct acc_req *r, char *domain, size_t len)
{
	char err[200], host[256], *at = strrchr(r->emailaddress, '@'), *colon;
	const char *d;

	if (at) {
		d = at + 1;
	} else if (!r->emailaddress[0] && strncasecmp(r->host, "autoconfig.", 11) == 0) {
		snprintf(host, sizeof host, "%s", r->host + 11);
		if ((colon = strchr(host, ':')))
			*colon = '\0';
		d = host;
	} else {
		return -1;
	}
	return valid_domain(d, domain, len, err, sizeof err);
}

void acc_work_autoconfig(struct acc_req *r)
{
	struct client_settings cs;
	char domain[256];

	if (autoconfig_domain(r, domain, sizeof domain) < 0) {
		not_hosted(r);
		return;
	}
	if (domain_settings(r, domain, "%EMAILADDRESS%", &cs) < 0)
		return;
	buf_reset(&r->body);
	r->status = 200;
	r->content_type = "text/xml; charset=utf-8";
	if (autoconfig_mozilla(&r->body, &cs, domain, r->cfg->acc_provider_name, r->cfg->acc_support_url) < 0)
		r->body_err = 1;
}

void acc_work_autodiscover(struct acc_req *r)
{
	struct client_settings cs;
	char addr[320], local[65], domain[256], norm[330], err[200];

	if (autodiscover_request_address(r->raw ? r->raw : "", r->raw_len, addr, sizeof addr) < 0 ||
	    valid_address(addr, local, sizeof local, domain, sizeof domain, err, sizeof err) < 0) {
		acc_page_message(r, 400, "Bad request", "The request names no e-mail address.");
		return;
	}
	snprintf(norm, sizeof norm, "%s@%s", local, domain);
	if (domain_settings(r, domain, norm, &cs) < 0)
		return;
	buf_reset(&r->body);
	r->status = 200;
	r->content_type = "text/xml; charset=utf-8";
	if (autodiscover_response(&r->body, &cs) < 0)
		r->body_err = 1;
}
