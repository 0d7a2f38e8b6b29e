/*
 * acc_spam: the ACC page where a customer chooses, for each of their
 * domains, what happens to mail the spam filter marks as spam
 * (store/store_spam.h): delivered with a marked subject, delivered as it
 * is, or refused while the sender is still connected; or the provider's
 * default. GET /spam shows one form per domain; POST /spam (CSRF, refused
 * while the account is suspended) changes one domain, which must be the
 * account's own: another account's domain answers 404 like a missing one.
 * On a worker, like acc_actions.c.
 */
#include "acc/acc_forms.h"
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "milter/milter_result.h"
#include "ops/ops.h"
#include "store/store_spam.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *value, *label, *explain;
} choices[] = {
	{ "default", "The provider's choice",
	  "Your provider decides, and may change it for everyone." },
	{ "subject", "Deliver it, with the subject marked as spam",
	  "Suspected spam still reaches your mailbox, but its subject starts with a spam mark, so you see it "
	  "at a glance and your mail program can move it to a folder with a rule. Nothing is lost." },
	{ "headers", "Deliver it unchanged",
	  "Suspected spam reaches your mailbox exactly as it was sent. The filter's verdict is only in hidden "
	  "header lines, which mail programs with their own spam filters can use. Nothing is lost, and nothing "
	  "looks different." },
	{ "refuse", "Refuse it",
	  "Suspected spam is turned away while the sender's server is still connected, so it never reaches "
	  "your mailbox. If a real message is wrongly taken for spam, you will not see it, but its sender is "
	  "told it was not delivered." },
};

#define NCHOICES (sizeof choices / sizeof choices[0])

/* The label of the provider's choice now ([milter] spam_action). */
static const char *provider_label(const struct acc_req *r)
{
	const char *name = spam_action_name((enum spam_action)r->cfg->milter_spam_action);

	for (size_t i = 1; i < NCHOICES; i++)
		if (!strcmp(choices[i].value, name))
			return choices[i].label;
	return choices[2].label;
}

static int collect_domain(const char *domain, const char *account, void *arg)
{
	struct acc_req *r = arg;

	(void)account;
	if (r->ndomains < ACC_MAX_DOMAINS)
		snprintf(r->domains[r->ndomains++], sizeof r->domains[0], "%s", domain);
	return 0;
}

/* One domain's section: its choice now and, unless suspended, the form. */
static void domain_section(struct acc_req *r, const char *domain, const char *now)
{
	acc_out(r, "<section class=\"spam\"><h2>");
	acc_esc(r, domain);
	acc_out(r, "</h2><p>Now: <b class=\"spam-now\" data-domain=\"");
	acc_esc(r, domain);
	acc_out(r, "\">");
	for (size_t i = 0; i < NCHOICES; i++)
		if (!strcmp(choices[i].value, now))
			acc_esc(r, choices[i].label);
	acc_out(r, "</b>");
	if (!strcmp(now, "default")) {
		acc_out(r, " (at present: ");
		acc_esc(r, provider_label(r));
		acc_out(r, ")");
	}
	acc_out(r, "</p>");
	if (r->acct.suspended) {
		acc_out(r, "</section>");
		return;
	}
	acc_out(r, "<form method=\"post\" action=\"/spam\">");
	acc_csrf_field(r);
	acc_out(r, "<input type=\"hidden\" name=\"domain\" value=\"");
	acc_esc(r, domain);
	acc_out(r, "\"><label>Suspected spam for ");
	acc_esc(r, domain);
	acc_out(r, "<select name=\"spam\">");
	for (size_t i = 0; i < NCHOICES; i++) {
		acc_out(r, "<option value=\"%s\"%s>", choices[i].value, strcmp(choices[i].value, now) ? "" : " selected");
		acc_esc(r, choices[i].label);
		acc_out(r, "</option>");
	}
	acc_out(r, "</select></label><button type=\"submit\">Save</button></form></section>");
}

void acc_work_spam(struct acc_req *r)
{
	char now[16];
	struct ops_err e;

	if ((!r->domains && !(r->domains = calloc(ACC_MAX_DOMAINS, sizeof *r->domains))) ||
	    store_domain_list(r->store, r->account, collect_domain, r) != 0) {
		acc_unavailable(r);
		return;
	}
	acc_begin(r, 200, "Spam");
	acc_out(r, "<section><p>Incoming mail for your domains is checked by a spam filter. For each domain, "
	           "choose what happens to a message the filter takes for spam:</p><dl>");
	for (size_t i = 1; i < NCHOICES; i++) {
		acc_out(r, "<dt>");
		acc_esc(r, choices[i].label);
		acc_out(r, "</dt><dd>");
		acc_esc(r, choices[i].explain);
		acc_out(r, "</dd>");
	}
	acc_out(r, "<dt>");
	acc_esc(r, choices[0].label);
	acc_out(r, "</dt><dd>");
	acc_esc(r, choices[0].explain);
	acc_out(r, " At present: <span id=\"spam-provider\">");
	acc_esc(r, provider_label(r));
	acc_out(r, "</span>.</dd></dl><p class=\"note\">Mail the filter is sure about (viruses, for example) may be "
	           "refused whatever you choose.</p></section>");
	if (r->ndomains == 0)
		acc_out(r, "<section><p>This account has no domains yet; support adds them.</p></section>");
	for (int i = 0; i < r->ndomains; i++) {
		if (ops_domain_spam_get(r->store, r->domains[i], now, sizeof now, &e) != 0)
			snprintf(now, sizeof now, "default");
		domain_section(r, r->domains[i], now);
	}
	acc_end(r);
}

void acc_work_spam_set(struct acc_req *r)
{
	const char *spam = acc_form_get(&r->form, "spam");
	char owner[STORE_NAME_MAX], d[256];
	struct ops_err e;
	const char *label = NULL;
	int rc;

	for (size_t i = 0; i < NCHOICES; i++)
		if (!strcmp(choices[i].value, spam))
			label = choices[i].label;
	if (r->input_bad || !label) {
		acc_flash(r, 1, "Choose one of the offered choices. Nothing was changed.");
		acc_redirect(r, "/spam");
		return;
	}
	rc = store_domain_owner(r->store, r->domain, owner, sizeof owner);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		acc_unavailable(r);
		return;
	}
	if (rc != 0 || strcmp(owner, r->account) != 0) {
		log_value(r->domain, strlen(r->domain), d, sizeof d);
		log_warn("acc: account=%s ip=%s refused to set the spam choice of domain %s (not its own)",
		         r->account, r->ip, d);
		acc_page_message(r, 404, "No such domain", "This account has no domain with that name.");
		return;
	}
	if (ops_domain_spam_set(r->store, r->domain, spam, &e) != 0) {
		acc_flash(r, 1, "The choice for %s could not be saved. Please try again later.", r->domain);
		acc_redirect(r, "/spam");
		return;
	}
	log_info("acc: account=%s ip=%s set the spam choice of domain %s to %s", r->account, r->ip, r->domain, spam);
	acc_flash(r, 0, "Suspected spam for %s: %s.", r->domain, label);
	acc_redirect(r, "/spam");
}
