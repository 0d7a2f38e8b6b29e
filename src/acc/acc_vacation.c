/*
 * acc_vacation: a mailbox's autoresponder in the ACC (docs/vacation.md):
 * GET /mail/vacation?address=A shows its form with the current setting,
 * POST /mail/vacation saves it (CSRF-checked, refused while the account is
 * suspended: route flags R_CHANGE). The rules for the values are the
 * store's (store_vacation.h), so the ACC and hostmailctl refuse alike.
 */
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "acc/acc_forms.h"
#include "store/store_vacation.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void page(struct acc_req *r, const struct vacation *v)
{
	acc_begin(r, 200, "Autoresponder");
	acc_out(r, "<section><h2>Autoresponder of <b id=\"address\">");
	acc_esc(r, r->address);
	acc_out(r, "</b></h2><p class=\"note\">While it is on, mail to this address is answered once per "
	           "sender every %d days with the text below. Mailing lists, automatic messages and mail "
	           "that does not name this address in To or Cc are not answered.</p>",
	        r->cfg->vacation_period > 0 ? (r->cfg->vacation_period + 86399) / 86400 : 0);
	acc_out(r, "<form method=\"post\" action=\"/mail/vacation\">");
	acc_csrf_field(r);
	acc_out(r, "<input type=\"hidden\" name=\"address\" value=\"");
	acc_esc(r, r->address);
	acc_out(r, "\"><label><input type=\"checkbox\" name=\"enabled\" value=\"on\"%s> Answer mail "
	           "automatically</label><label for=\"subject\">Subject (empty: \"Auto:\" and the original "
	           "subject)</label><input id=\"subject\" name=\"subject\" maxlength=\"%d\" value=\"",
	        v->enabled ? " checked" : "", VACATION_SUBJECT_MAX - 1);
	acc_esc(r, v->subject);
	acc_out(r, "\"><label for=\"text\">Text</label><textarea id=\"text\" name=\"text\" rows=\"8\" "
	           "maxlength=\"%d\">", ACC_FORM_MAX / 2);
	acc_esc(r, v->text);
	acc_out(r, "</textarea><label for=\"start\">First day (optional)</label>"
	           "<input id=\"start\" name=\"start\" type=\"date\" value=\"");
	acc_esc(r, v->start);
	acc_out(r, "\"><label for=\"end\">Last day (optional)</label><input id=\"end\" name=\"end\" type=\"date\" "
	           "value=\"");
	acc_esc(r, v->end);
	acc_out(r, "\"><button type=\"submit\">Save</button></form><p><a href=\"/mail\">Back</a></p></section>");
	acc_end(r);
}

void acc_work_vacation_form(struct acc_req *r)
{
	struct vacation *v;

	if (acc_owned_mailbox(r, "show the autoresponder of") != 1)
		return;
	if (!(v = calloc(1, sizeof *v)) || store_vacation_get(r->store, r->address, v) != 0)
		acc_unavailable(r);
	else
		page(r, v);
	free(v);
}

/* A form field into out; 0, or -1 when it does not fit. */
static int field(struct acc_req *r, const char *key, char *out, size_t outlen)
{
	const char *v = acc_form_get(&r->form, key);

	return snprintf(out, outlen, "%s", v) >= (int)outlen ? -1 : 0;
}

void acc_work_vacation(struct acc_req *r)
{
	struct vacation *v;
	char err[256] = "";
	int rc;

	if (acc_owned_mailbox(r, "set the autoresponder of") != 1)
		return;
	if (!(v = calloc(1, sizeof *v))) {
		acc_unavailable(r);
		return;
	}
	v->enabled = strcmp(acc_form_get(&r->form, "enabled"), "on") == 0;
	if (field(r, "subject", v->subject, sizeof v->subject) < 0 || field(r, "text", v->text, sizeof v->text) < 0 ||
	    field(r, "start", v->start, sizeof v->start) < 0 || field(r, "end", v->end, sizeof v->end) < 0) {
		rc = STORE_EINVAL;
		snprintf(err, sizeof err, "a value is too long");
	} else if (v->enabled && !v->text[0]) {
		rc = STORE_EINVAL;
		snprintf(err, sizeof err, "the reply needs a text");
	} else {
		rc = store_vacation_set(r->store, r->address, v, err, sizeof err);
	}
	if (rc == 0) {
		log_info("acc: account=%s ip=%s turned the autoresponder of %s %s", r->account, r->ip, r->address,
		         v->enabled ? "on" : "off");
		acc_flash(r, 0, "The autoresponder of %s is %s.", r->address, v->enabled ? "on" : "off");
	} else if (rc == STORE_EINVAL) {
		acc_flash(r, 1, "The autoresponder of %s was not changed: %s.", r->address, err);
	} else {
		acc_flash(r, 1, "The autoresponder of %s could not be changed. Please try again later.", r->address);
	}
	free(v);
	acc_redirect(r, "/mail");
}
