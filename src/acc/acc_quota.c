/*
 * acc_quota: the quota and usage of each mailbox on the ACC's mail page
 * (docs/quotas.md): read on the worker with the mailbox list, shown as one
 * line (and a bar) in the mailbox's section.
 */
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "delivery/quota.h"
#include "ops/ops_quota.h"
#include "store/store_vacation.h"
#include <stdio.h>
#include <stdlib.h>

void acc_quota_load(struct acc_req *r, struct acc_mailbox_view *v)
{
	struct ops_quota_info qi;
	struct vacation *vac = malloc(sizeof *vac);
	struct ops_err e;

	v->vacation_on = vac && store_vacation_get(r->store, v->address, vac) == 0 && vac->enabled;
	free(vac);
	v->quota_ok = ops_quota_info(r->store, r->cfg->data_dir, 0, v->address, &qi, &e) == 0;
	if (v->quota_ok)
		v->qi = qi;
}

void acc_quota_lines(struct acc_req *r, const struct acc_mailbox_view *v)
{
	struct buf b;

	if (!v->quota_ok)
		return;
	buf_init(&b, 4096);
	if (ops_quota_lines(&v->qi, v->vacation_on, &b) == 0 && b.data)
		acc_esc(r, b.data);
	buf_free(&b);
}

void acc_quota_show(struct acc_req *r, const struct acc_mailbox_view *v)
{
	char used[32], lim[32];

	acc_out(r, "<p class=\"vacation\">Autoresponder: <b>%s</b> &middot; <a href=\"/mail/vacation?address=",
	        v->vacation_on ? "on" : "off");
	acc_esc_uri(r, v->address);
	acc_out(r, "\">Change&hellip;</a></p>");
	if (!v->quota_ok)
		return;
	quota_human(v->qi.used_bytes, used, sizeof used);
	acc_out(r, "<p class=\"quota\">Storage used: <b class=\"used\">%s</b> in %lld message%s", used,
	        (long long)v->qi.used_messages, v->qi.used_messages == 1 ? "" : "s");
	if (v->qi.limit.bytes > 0) {
		quota_human(v->qi.limit.bytes, lim, sizeof lim);
		acc_out(r, " of <b class=\"limit\">%s</b> (<span class=\"percent\">%d%%</span>)", lim, v->qi.percent);
	} else {
		acc_out(r, " (no limit)");
	}
	if (v->qi.limit.messages > 0)
		acc_out(r, ", at most %lld messages", (long long)v->qi.limit.messages);
	acc_out(r, ".");
	if (v->qi.limit.bytes > 0 || v->qi.limit.messages > 0)
		acc_out(r, " <meter min=\"0\" max=\"100\" high=\"90\" value=\"%d\">%d%%</meter>",
		        v->qi.percent > 100 ? 100 : v->qi.percent, v->qi.percent);
	if (v->qi.percent >= 100)
		acc_out(r, " <b class=\"full\">The mailbox is full: new mail is refused until messages are deleted.</b>");
	acc_out(r, "</p>");
}
