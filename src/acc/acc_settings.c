/*
 * acc_settings: a logged-in customer's mailbox settings in other shapes
 * than the page: JSON for admin tools and scripts, the Apple profile
 * (without the password, unless it was typed into the form that asks for
 * one), and the setup guides. Only the account's own mailboxes: another's
 * answers 404 like a missing one (acc_owned_mailbox). On a worker.
 */
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "policy/mobileconfig.h"
#include "policy/settings_json.h"
#include "util/log.h"
#include <openssl/evp.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The settings of r->address, an owned mailbox: 0, or -1 with the answer set. */
static int owned_settings(struct acc_req *r, const char *doing, struct client_settings *cs)
{
	if (acc_owned_mailbox(r, doing) != 1)
		return -1;
	if (client_settings_get(r->cfg, &r->acct, r->address, cs) < 0) {
		acc_page_message(r, 500, "Internal error", "The settings of this mailbox do not fit.");
		return -1;
	}
	return 0;
}

void acc_work_settings_json(struct acc_req *r)
{
	struct client_settings cs;

	if (owned_settings(r, "read the settings of", &cs) < 0)
		return;
	buf_reset(&r->body);
	r->status = 200;
	r->content_type = "application/json";
	if (settings_json(&r->body, &cs) < 0)
		r->body_err = 1;
}

/* A stable UUID (version 4 layout) from what and address: the same
 * profile downloaded twice replaces itself on the device. */
static void profile_uuid(const char *what, const char *address, char *out, size_t outlen)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char in[400];

	snprintf(in, sizeof in, "hostmail-profile:%s:%s", what, address);
	if (!EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof md)
		memset(md, 0, sizeof md);   /* still a well-formed id; never seen in practice */
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x40);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, outlen, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
	         md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12],
	         md[13], md[14], md[15]);
}

/* Letters and digits kept, everything else '-': for file names and ids. */
static void tame(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < outlen; i++)
		out[i] = isalnum((unsigned char)s[i]) ? s[i] : '-';
	out[i] = '\0';
}

void acc_work_mobileconfig(struct acc_req *r)
{
	struct client_settings cs;
	struct mobileconfig_ids ids;
	char puuid[40], muuid[40], id[400], name[330];
	const char *pw = r->method == ACC_POST && r->password[0] ? r->password : NULL;
	int rc;

	if (owned_settings(r, "download the profile of", &cs) < 0)
		goto out;
	profile_uuid("profile", r->address, puuid, sizeof puuid);
	profile_uuid("mail", r->address, muuid, sizeof muuid);
	tame(r->address, name, sizeof name);
	snprintf(id, sizeof id, "hostmail.mail.%s", name);
	ids.identifier = id;
	ids.profile_uuid = puuid;
	ids.mail_uuid = muuid;
	buf_reset(&r->body);
	rc = mobileconfig_profile(&r->body, &cs, r->cfg->acc_provider_name, &ids, pw);
	if (rc < 0) {
		acc_page_message(r, 409, "No profile", "This server offers no POP3 or no SMTP to put in a profile.");
		goto out;
	}
	r->status = 200;
	r->content_type = "application/x-apple-aspen-config";
	snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s.mobileconfig\"", name);
	log_info("acc: account=%s ip=%s downloaded the profile of mailbox %s%s", r->account, r->ip, r->address,
	         pw ? " with its password" : "");
out:
	explicit_bzero(r->password, sizeof r->password);
}

void acc_work_help(struct acc_req *r)
{
	const char *client = r->route->path + strlen("/help/");
	const struct acc_mailbox_view *m = NULL;
	char want[320];

	snprintf(want, sizeof want, "%s", r->address);
	for (char *p = want; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (acc_load_mailboxes(r) < 0) {
		acc_unavailable(r);
		return;
	}
	for (int i = 0; i < r->nmb && !m; i++)
		if (!want[0] || strcmp(r->mb[i].address, want) == 0)
			m = &r->mb[i];
	if (want[0] && !m) {
		acc_page_message(r, 404, "No such mailbox", "This account has no mailbox with that address.");
		return;
	}
	if (m && !m->cs_ok) {
		acc_page_message(r, 500, "Internal error", "The settings of this mailbox do not fit.");
		return;
	}
	acc_page_help(r, client, m);
}
