/*
 * acc_alias: the ACC's "Aliases and forwarding" page (docs/routing.md):
 * a customer sees and manages the aliases, forwarders and catch-all of
 * the account's own domains. Every change names a domain the account
 * owns (checked here against the store, never trusted from the form),
 * comes with the session's CSRF token (acc_server.c checks it for every
 * POST) and is refused while the account is suspended (R_CHANGE).
 */
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "store/store_alias.h"
#include "store/store_valid.h"
#include "util/log.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct doms {
	char (*d)[256];
	int n;
};

static int collect_domain(const char *domain, const char *account, void *arg)
{
	struct doms *ds = arg;

	(void)account;
	if (ds->n < ACC_MAX_DOMAINS)
		snprintf(ds->d[ds->n++], sizeof ds->d[0], "%s", domain);
	return 0;
}

static int print_alias(const struct alias *a, void *arg)
{
	struct acc_req *r = arg;

	acc_out(r, "<li class=\"alias\"><b>");
	acc_esc(r, a->address);
	acc_out(r, "</b> &rarr; ");
	acc_esc(r, a->targets);
	if (!r->acct.suspended) {
		acc_out(r, "<form method=\"post\" action=\"/aliases/remove\">");
		acc_csrf_field(r);
		acc_out(r, "<input type=\"hidden\" name=\"address\" value=\"");
		acc_esc(r, a->address);
		acc_out(r, "\"><button type=\"submit\">Remove</button></form>");
	}
	acc_out(r, "</li>");
	return 0;
}

/* One domain's aliases and catch-all; -1 when the store failed. */
static int domain_section(struct acc_req *r, const char *domain)
{
	char catchall[320];

	if (store_catchall_get(r->store, domain, catchall, sizeof catchall) != 0)
		return -1;
	acc_out(r, "<section class=\"domain\"><h2>@");
	acc_esc(r, domain);
	acc_out(r, "</h2><ul class=\"aliases\">");
	if (store_alias_list(r->store, domain, print_alias, r) != 0)
		return -1;
	acc_out(r, "</ul><p class=\"catchall\">Catch-all (mail to any other address of this domain): <b>");
	acc_esc(r, catchall[0] ? catchall : "off");
	acc_out(r, "</b></p>");
	if (!r->acct.suspended) {
		acc_out(r, "<form method=\"post\" action=\"/aliases/catchall\">");
		acc_csrf_field(r);
		acc_out(r, "<input type=\"hidden\" name=\"domain\" value=\"");
		acc_esc(r, domain);
		acc_out(r, "\"><label>Catch-all target (empty: off)<input name=\"address\" value=\"");
		acc_esc(r, catchall);
		acc_out(r, "\" autocapitalize=\"none\"></label><button type=\"submit\">Set catch-all</button></form>");
	}
	acc_out(r, "</section>");
	return 0;
}

void acc_work_aliases(struct acc_req *r)
{
	struct doms ds = { calloc(ACC_MAX_DOMAINS, sizeof *ds.d), 0 };

	if (!ds.d) {
		acc_unavailable(r);
		return;
	}
	if (acc_load_account(r) < 0) {           /* the answer is set */
		free(ds.d);
		return;
	}
	if (store_domain_list(r->store, r->account, collect_domain, &ds) != 0) {
		free(ds.d);
		acc_unavailable(r);
		return;
	}
	acc_begin(r, 200, "Aliases and forwarding");
	acc_out(r, "<p>An alias delivers mail for an address to one or more others: mailboxes here or "
	       "addresses elsewhere (forwarding). Put the alias's own address among its targets to keep a "
	       "copy in its mailbox. postmaster@ and abuse@ of every domain reach the account's contact "
	       "mailbox unless an alias says otherwise.</p>");
	if (ds.n == 0)
		acc_out(r, "<p>This account has no domains.</p>");
	for (int i = 0; i < ds.n; i++)
		if (domain_section(r, ds.d[i]) < 0) {
			free(ds.d);
			buf_reset(&r->body);
			acc_unavailable(r);
			return;
		}
	if (ds.n && !r->acct.suspended) {
		acc_out(r, "<section id=\"add\"><h2>Add or change an alias</h2>"
		       "<form method=\"post\" action=\"/aliases/add\">");
		acc_csrf_field(r);
		acc_out(r, "<label for=\"local\">Name (the part before the @)</label>"
		       "<input id=\"local\" name=\"local\" required maxlength=\"64\" autocapitalize=\"none\">"
		       "<label for=\"domain\">Domain</label><select id=\"domain\" name=\"domain\">");
		for (int i = 0; i < ds.n; i++) {
			acc_out(r, "<option value=\"");
			acc_esc(r, ds.d[i]);
			acc_out(r, "\">@");
			acc_esc(r, ds.d[i]);
			acc_out(r, "</option>");
		}
		acc_out(r, "</select><label for=\"targets\">Deliver to (addresses, separated by commas)</label>"
		       "<input id=\"targets\" name=\"targets\" required autocapitalize=\"none\">"
		       "<button type=\"submit\">Save alias</button></form></section>");
	}
	acc_end(r);
	free(ds.d);
}

/* Does the account own domain? 1; 0 (a 404 page set); -1 (error page set). */
static int owned_domain(struct acc_req *r, const char *domain, const char *doing)
{
	char owner[STORE_NAME_MAX], d[256];
	int rc;

	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		rc = STORE_ENOTFOUND;
	else
		rc = store_domain_owner(r->store, d, owner, sizeof owner);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		acc_unavailable(r);
		return -1;
	}
	if (rc != 0 || strcmp(owner, r->account) != 0) {
		log_warn("acc: account=%s ip=%s refused to %s in domain %s (not its own)", r->account, r->ip, doing,
		         d[0] && rc == 0 ? d : "?");
		acc_page_message(r, 404, "No such domain", "This account has no domain with that name.");
		return 0;
	}
	return 1;
}

void acc_work_alias_add(struct acc_req *r)
{
	char addr[400], err[512];
	int rc;

	if (owned_domain(r, r->domain, "add an alias") <= 0)
		return;
	snprintf(addr, sizeof addr, "%s@%s", r->local, r->domain);
	for (char *p = addr; *p; p++)            /* as the store keeps it */
		*p = (char)tolower((unsigned char)*p);
	if ((rc = store_alias_set(r->store, addr, r->targets, err, sizeof err)) != 0) {
		if (rc == STORE_EINVAL)
			acc_flash(r, 1, "The alias was not saved: %s.", err);
		else
			acc_flash(r, 1, "The alias %s could not be saved. Please try again later.", addr);
		acc_redirect(r, "/aliases");
		return;
	}
	log_info("acc: account=%s ip=%s set alias %s", r->account, r->ip, addr);
	acc_flash(r, 0, "The alias %s was saved.", addr);
	acc_redirect(r, "/aliases");
}

void acc_work_alias_remove(struct acc_req *r)
{
	const char *at = strrchr(r->address, '@');
	char err[512];

	if (owned_domain(r, at ? at + 1 : "", "remove an alias") <= 0)
		return;
	if (store_alias_remove(r->store, r->address, err, sizeof err) != 0) {
		acc_flash(r, 1, "The alias %s could not be removed.", r->address);
	} else {
		log_info("acc: account=%s ip=%s removed alias %s", r->account, r->ip, r->address);
		acc_flash(r, 0, "The alias %s was removed.", r->address);
	}
	acc_redirect(r, "/aliases");
}

void acc_work_catchall(struct acc_req *r)
{
	char err[512];
	int rc;

	if (owned_domain(r, r->domain, "set a catch-all") <= 0)
		return;
	if ((rc = store_catchall_set(r->store, r->domain, r->address[0] ? r->address : NULL, err, sizeof err)) != 0) {
		acc_flash(r, 1, rc == STORE_EINVAL ? "The catch-all was not saved: %s." :
		          "The catch-all could not be saved (%s). Please try again later.", err);
	} else {
		log_info("acc: account=%s ip=%s set the catch-all of %s to %s", r->account, r->ip, r->domain,
		         r->address[0] ? r->address : "off");
		acc_flash(r, 0, "The catch-all of %s is now %s.", r->domain, r->address[0] ? r->address : "off");
	}
	acc_redirect(r, "/aliases");
}
