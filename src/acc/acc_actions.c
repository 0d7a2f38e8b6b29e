/*
 * acc_actions: what each ACC route does, on a worker thread: read the
 * store, check that what the request names belongs to the logged-in
 * account, make the change, log it, and render the page or choose the
 * redirect. Ownership is decided here, from the store, on every request:
 * a mailbox of another account answers 404 exactly like one that does not
 * exist. Passwords are hashed and checked here (yescrypt is slow).
 */
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "delivery/maildir.h"
#include "policy/hostnames.h"
#include "store/store_valid.h"
#include "util/log.h"
#include "util/password.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Verified when the account is unknown or has no password, so that case
 * costs the same time as a wrong password (yescrypt, libxcrypt's default cost). */
static const char dummy_hash[] = "$y$j9T$VDfvFKR1InNfunon8.EQa0$JdmHcRwvRsEp6EoXiT8QHrAPI0IUDKTWsNyWzb.y6O7";

void acc_unavailable(struct acc_req *r)
{
	acc_page_message(r, 503, "Temporarily unavailable",
	                 "The account database did not answer. Please try again in a minute.");
}

int acc_load_account(struct acc_req *r)
{
	int rc = store_account_get(r->store, r->account, &r->acct);

	if (rc == STORE_ENOTFOUND) {         /* removed while logged in */
		r->end_session = 1;
		acc_redirect(r, "/login");
		return -1;
	}
	if (rc) {
		acc_unavailable(r);
		return -1;
	}
	if (account_smtp_host(r->cfg, &r->acct, r->smtp_host, sizeof r->smtp_host) < 0)
		snprintf(r->smtp_host, sizeof r->smtp_host, "(host name pattern too long)");
	return 0;
}

static int collect_domain(const char *domain, const char *account, void *arg)
{
	struct acc_req *r = arg;

	(void)account;
	if (r->ndomains < ACC_MAX_DOMAINS)
		snprintf(r->domains[r->ndomains++], sizeof r->domains[0], "%s", domain);
	return 0;
}

static int load_domains(struct acc_req *r)
{
	if (!r->domains && !(r->domains = calloc(ACC_MAX_DOMAINS, sizeof *r->domains)))
		return -1;
	r->ndomains = 0;
	return store_domain_list(r->store, r->account, collect_domain, r) ? -1 : 0;
}

static int collect_mailbox(const struct mailbox *m, void *arg)
{
	struct acc_req *r = arg;
	struct acc_mailbox_view *v;

	if (r->nmb >= ACC_MAX_MAILBOXES)
		return 1;
	if (r->nmb % 64 == 0) {
		v = realloc(r->mb, (size_t)(r->nmb + 64) * sizeof *v);
		if (!v)
			return 1;
		r->mb = v;
	}
	v = &r->mb[r->nmb];
	snprintf(v->address, sizeof v->address, "%s", m->address);
	if (mail_settings_get(r->cfg, &r->acct, m->address, &v->ms) < 0)
		v->ms.n = 0;
	v->cs_ok = client_settings_get(r->cfg, &r->acct, m->address, &v->cs) == 0;
	acc_quota_load(r, v);
	r->nmb++;
	return 0;
}

/* Domains, then the mailboxes of each (with their settings). */
int acc_load_mailboxes(struct acc_req *r)
{
	int i;

	if (load_domains(r) < 0)
		return -1;
	for (i = 0; i < r->ndomains; i++)
		if (store_mailbox_list(r->store, r->domains[i], collect_mailbox, r))
			return -1;
	return 0;
}

void acc_work_overview(struct acc_req *r)
{
	if (acc_load_mailboxes(r) < 0)
		acc_unavailable(r);
	else
		acc_page_overview(r);
}

void acc_work_mail(struct acc_req *r)
{
	if (acc_load_mailboxes(r) < 0)
		acc_unavailable(r);
	else
		acc_page_mail(r);
}

/* Is r->address a mailbox of this account? 1 (r->address normalized), 0 (a
 * 404 page is set: also for another account's mailbox), -1 (error page set). */
int acc_owned_mailbox(struct acc_req *r, const char *doing)
{
	struct mailbox m;
	int rc = store_mailbox_get(r->store, r->address, &m);
	char safe[400];

	if (rc == 0 && strcmp(m.account, r->account) == 0) {
		snprintf(r->address, sizeof r->address, "%s", m.address);
		return 1;
	}
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		acc_unavailable(r);
		return -1;
	}
	log_value(r->address, strlen(r->address), safe, sizeof safe);
	if (rc == 0)
		log_warn("acc: account=%s ip=%s refused to %s mailbox %s of account %s", r->account, r->ip,
		         doing, safe, m.account);
	acc_page_message(r, 404, "No such mailbox",
	                 "This account has no mailbox with that address.");
	return 0;
}

void acc_work_remove_confirm(struct acc_req *r)
{
	if (acc_owned_mailbox(r, "show removal of") == 1)
		acc_page_remove_confirm(r);
}

static int collect_grant(const struct relay_grant *g, void *arg)
{
	struct acc_req *r = arg;

	if (strcmp(g->account, r->account) != 0)
		return 0;
	if (r->ngrants >= ACC_MAX_GRANTS)
		return 1;
	r->grants[r->ngrants++] = *g;
	return 0;
}

void acc_work_relay(struct acc_req *r)
{
	if (!(r->grants = calloc(ACC_MAX_GRANTS, sizeof *r->grants)) ||
	    relay_auth_list(r->store, r->now, collect_grant, r) != 0) {
		acc_unavailable(r);
		return;
	}
	acc_page_relay(r);
}

void acc_work_budget(struct acc_req *r)
{
	r->use_ok = rate_get(r->store, r->account, r->now, &r->use) == 0;
	acc_page_budget(r);
}

void acc_work_login(struct acc_req *r)
{
	char hash[256];
	int rc, ok;

	rc = store_account_get_password(r->store, r->account, hash, sizeof hash);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		explicit_bzero(r->password, sizeof r->password);
		acc_unavailable(r);
		return;
	}
	ok = password_verify(r->password, rc == 0 && hash[0] ? hash : dummy_hash) && rc == 0 && hash[0];
	explicit_bzero(r->password, sizeof r->password);
	explicit_bzero(hash, sizeof hash);
	if (ok)
		r->login_ok = 1;
	else
		r->login_failed = 1;
}

/* The new password fields: 0, or -1 with the error flashed and the redirect set. */
static int check_new_password(struct acc_req *r, const char *back)
{
	const char *why = NULL;

	if (r->input_bad)
		why = "A field was too long.";
	else if (strlen(r->password) < ACC_PASSWORD_MIN)
		why = "The password is too short: use at least 8 characters.";
	else if (strcmp(r->password, r->password2) != 0)
		why = "The two passwords differ: type the same password twice.";
	else if (strpbrk(r->password, "\r\n"))
		why = "The password may not contain a line break.";
	if (!why)
		return 0;
	acc_flash(r, 1, "%s Nothing was changed.", why);
	acc_redirect(r, back);
	return -1;
}

static int hash_new_password(struct acc_req *r, char *hash, size_t hashlen, const char *back)
{
	int rc = password_hash(r->password, hash, hashlen);

	explicit_bzero(r->password, sizeof r->password);
	explicit_bzero(r->password2, sizeof r->password2);
	if (rc < 0) {
		acc_flash(r, 1, "The password could not be stored (internal error). Nothing was changed.");
		acc_redirect(r, back);
	}
	return rc;
}

void acc_work_mailbox_add(struct acc_req *r)
{
	char addr[400], local[65], domain[256], owner[STORE_NAME_MAX], err[512], hash[256], path[1024];
	int rc;

	if (snprintf(addr, sizeof addr, "%s@%s", r->local, r->domain) >= (int)sizeof addr ||
	    valid_address(addr, local, sizeof local, domain, sizeof domain, err, sizeof err) < 0) {
		acc_flash(r, 1, "That is not a valid mailbox name. Use letters, digits and . - _ + only.");
		acc_redirect(r, "/mail");
		return;
	}
	rc = store_domain_owner(r->store, domain, owner, sizeof owner);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		acc_unavailable(r);
		return;
	}
	if (rc != 0 || strcmp(owner, r->account) != 0) {
		log_warn("acc: account=%s ip=%s refused to add a mailbox in domain %s (not its own)",
		         r->account, r->ip, domain);
		acc_page_message(r, 404, "No such domain", "This account has no domain with that name.");
		return;
	}
	if (check_new_password(r, "/mail") < 0 || hash_new_password(r, hash, sizeof hash, "/mail") < 0)
		return;
	snprintf(addr, sizeof addr, "%s@%s", local, domain);
	if ((rc = store_mailbox_add(r->store, addr, hash, err, sizeof err)) != 0) {
		acc_flash(r, 1, rc == STORE_EEXIST ? "The mailbox %s already exists." :
		          "The mailbox %s could not be added. Please try again later.", addr);
		acc_redirect(r, "/mail");
		return;
	}
	if (maildir_create(r->cfg->data_dir, local, domain, path, sizeof path) < 0) {
		store_mailbox_remove(r->store, addr, NULL, 0);   /* no half-made mailbox */
		log_warn("acc: account=%s ip=%s cannot create the Maildir of %s", r->account, r->ip, addr);
		acc_flash(r, 1, "The mailbox %s could not be created (server error). Please try again later.", addr);
		acc_redirect(r, "/mail");
		return;
	}
	log_info("acc: account=%s ip=%s added mailbox %s", r->account, r->ip, addr);
	acc_flash(r, 0, "The mailbox %s was added.", addr);
	acc_redirect(r, "/mail");
}

void acc_work_mailbox_passwd(struct acc_req *r)
{
	char hash[256], err[512];

	if (acc_owned_mailbox(r, "change the password of") != 1)
		return;
	if (check_new_password(r, "/mail") < 0 || hash_new_password(r, hash, sizeof hash, "/mail") < 0)
		return;
	if (store_mailbox_set_password(r->store, r->address, hash, err, sizeof err) != 0) {
		acc_flash(r, 1, "The password of %s could not be changed. Please try again later.", r->address);
		acc_redirect(r, "/mail");
		return;
	}
	log_info("acc: account=%s ip=%s changed the password of mailbox %s", r->account, r->ip, r->address);
	acc_flash(r, 0, "The password of %s was changed.", r->address);
	acc_redirect(r, "/mail");
}

void acc_work_mailbox_remove(struct acc_req *r)
{
	char err[512];

	if (acc_owned_mailbox(r, "remove") != 1)
		return;
	if (strcmp(r->confirm, "yes") != 0) {
		acc_page_remove_confirm(r);
		return;
	}
	if (store_mailbox_remove(r->store, r->address, err, sizeof err) != 0) {
		acc_flash(r, 1, "The mailbox %s could not be removed. Please try again later.", r->address);
		acc_redirect(r, "/mail");
		return;
	}
	log_info("acc: account=%s ip=%s removed mailbox %s", r->account, r->ip, r->address);
	acc_flash(r, 0, "The mailbox %s was removed.", r->address);
	acc_redirect(r, "/mail");
}

void acc_work_account(struct acc_req *r)
{
	if (load_domains(r) < 0)
		acc_unavailable(r);
	else
		acc_page_account(r);
}

/* The account's own (ACC) password: the current one first. The store ends
 * every session of the account, in every node's ACC; the one that made
 * the change goes on with a new session (r->new_session). */
void acc_work_account_password(struct acc_req *r)
{
	char cur[256], hash[256], err[512];
	int rc = store_account_get_password(r->store, r->account, cur, sizeof cur), ok;

	if (rc != 0) {
		explicit_bzero(r->current, sizeof r->current);
		acc_unavailable(r);
		return;
	}
	ok = password_verify(r->current, cur[0] ? cur : dummy_hash) && cur[0];
	explicit_bzero(r->current, sizeof r->current);
	explicit_bzero(cur, sizeof cur);
	if (!ok) {
		log_warn_key(r->ip, "acc: account=%s ip=%s account password change refused: wrong current password",
		             r->account, r->ip);
		acc_flash(r, 1, "The current password is wrong. Nothing was changed.");
		acc_redirect(r, "/account");
		return;
	}
	if (check_new_password(r, "/account") < 0 || hash_new_password(r, hash, sizeof hash, "/account") < 0)
		return;
	if (store_account_set_password(r->store, r->account, hash, err, sizeof err) != 0) {
		acc_flash(r, 1, "The password could not be changed. Please try again later.");
		acc_redirect(r, "/account");
		return;
	}
	log_info("acc: account=%s ip=%s changed the account password; its other sessions were ended",
	         r->account, r->ip);
	r->new_session = 1;
	acc_flash(r, 0, "The account password was changed. Everywhere else this account was logged in, "
	          "it has been logged out.");
	acc_redirect(r, "/account");
}
