/*
 * acc_pages: server-rendered HTML of the ACC (see acc_pages.h). Values
 * only ever reach the page through esc(); the few raw strings are
 * constants of this file. Every page carries the provider's name, logo
 * and support link ([acc] provider_*). The mailbox settings and the
 * setup guides are in acc_settings_pages.c.
 */
#include "acc/acc_pages.h"
#include "policy/limits.h"
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stylesheet[] =
	"body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1c2330;background:#f3f5f8}"
	"header{background:#16324f;color:#fff;padding:.6em 1em}"
	"header b{font-size:1.1em}"
	"nav{display:flex;flex-wrap:wrap;gap:.2em 1em;margin-top:.3em}"
	"nav a,nav button{color:#d6e4f5;background:none;border:0;padding:0;margin:0;font:inherit;"
	"text-decoration:underline;cursor:pointer}"
	"nav form{margin:0}"
	"main{max-width:46em;margin:0 auto;padding:1em}"
	"h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.1em;margin:.1em 0 .5em;overflow-wrap:anywhere}"
	"section{background:#fff;border:1px solid #d4dae3;border-radius:6px;padding:.8em 1em;margin:0 0 1em}"
	"pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#eef2f7;padding:.6em;border-radius:4px;"
	"font-size:.9em;margin:.3em 0}"
	"dl{display:grid;grid-template-columns:auto 1fr;gap:.2em 1em;margin:0}"
	"dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
	"label{display:block;margin:.5em 0 .15em}"
	"input,select{font:inherit;width:100%;box-sizing:border-box;padding:.4em;border:1px solid #8a94a6;"
	"border-radius:4px;background:#fff}"
	"button{font:inherit;padding:.45em 1.1em;margin-top:.7em;border:0;border-radius:4px;"
	"background:#1a5fb4;color:#fff;cursor:pointer}"
	"button.danger{background:#b42318}"
	".msg{padding:.6em 1em;border-radius:4px;margin:0 0 1em;background:#e5f4e8;border:1px solid #8fc79b}"
	".err{background:#fdecea;border-color:#e59a93}"
	".note{color:#4a5568;font-size:.95em}"
	"ul{padding-left:1.2em;margin:.3em 0}li{overflow-wrap:anywhere}"
	"header img{max-height:2em;vertical-align:middle;margin-right:.5em}"
	"header a.support{color:#d6e4f5;margin-left:.6em}"
	"h3{font-size:1em;margin:.8em 0 .3em}"
	"table.server{border-collapse:collapse;width:100%}"
	"table.server th{text-align:left;font-weight:600;padding:.25em .8em .25em 0;width:11em;vertical-align:top}"
	"table.server td{padding:.25em 0;overflow-wrap:anywhere}"
	"table.server tr{border-top:1px solid #e2e7ee}"
	"@media (max-width:560px){table.server th,table.server td{display:block;width:auto}"
	"table.server th{padding-bottom:0}table.server td{padding-top:0}}"
	"button.copy{margin:0 0 0 .5em;padding:.05em .6em;font-size:.8em;background:#dfe7f3;color:#16324f}"
	".rec{background:#e5f4e8;border-radius:3px;padding:0 .3em;font-size:.85em}"
	"details{margin:.6em 0}ol{padding-left:1.4em}ol li{margin:.2em 0}";

/* The copy buttons: the value goes to the clipboard (a secure context,
 * so navigator.clipboard works). Allowed by its hash, like the stylesheet. */
static const char script[] =
	"document.addEventListener('click',function(e){"
	"var b=e.target.closest&&e.target.closest('button.copy');if(!b||!navigator.clipboard)return;"
	"navigator.clipboard.writeText(b.getAttribute('data-copy')).then(function(){"
	"b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},2000);});});";

const char *acc_script(void)
{
	return script;
}

const char *acc_stylesheet(void)
{
	return stylesheet;
}

int acc_html_escape(struct buf *b, const char *s)
{
	const char *p;
	size_t n;

	while (*s) {
		n = strcspn(s, "&<>\"'");
		if (n && buf_append(b, s, n) < 0)
			return -1;
		s += n;
		if (!*s)
			break;
		switch (*s) {
		case '&': p = "&amp;"; break;
		case '<': p = "&lt;"; break;
		case '>': p = "&gt;"; break;
		case '"': p = "&quot;"; break;
		default: p = "&#39;"; break;
		}
		if (buf_puts(b, p) < 0)
			return -1;
		s++;
	}
	return 0;
}

/* Raw HTML (constants and numbers only). */
static void out(struct acc_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct acc_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(&r->body, fmt, ap) < 0)
		r->body_err = 1;
	va_end(ap);
}

/* An escaped value. */
static void esc(struct acc_req *r, const char *s)
{
	if (acc_html_escape(&r->body, s) < 0)
		r->body_err = 1;
}

static void csrf_field(struct acc_req *r)
{
	out(r, "<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(r, r->csrf);
	out(r, "\">");
}

static void begin(struct acc_req *r, int status, const char *title)
{
	buf_reset(&r->body);
	r->body_err = 0;
	r->status = status;
	out(r, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	       "<title>");
	esc(r, title);
	out(r, " - ");
	esc(r, r->cfg->acc_provider_name);
	out(r, " Account Control Center</title><style>%s</style></head><body><header>", stylesheet);
	if (r->cfg->acc_provider_logo[0]) {
		out(r, "<img src=\"");
		esc(r, r->cfg->acc_provider_logo);
		out(r, "\" alt=\"\">");
	}
	out(r, "<b id=\"provider\">");
	esc(r, r->cfg->acc_provider_name);
	out(r, "</b> Account Control Center");
	if (r->cfg->acc_support_url[0]) {
		out(r, "<a class=\"support\" id=\"support\" href=\"");
		esc(r, r->cfg->acc_support_url);
		out(r, "\">Help and support</a>");
	}
	if (r->logged_in) {
		out(r, " <span class=\"acct\">account ");
		esc(r, r->account);
		out(r, "</span><nav><a href=\"/overview\">Overview</a><a href=\"/mail\">E-Mail Management</a>"
		       "<a href=\"/aliases\">Aliases</a>"
		       "<a href=\"/relay\">POP-before-SMTP</a><a href=\"/budget\">Recipient budget</a>"
		       "<a href=\"/account\">Account</a><a href=\"/dns\">DNS records</a><a href=\"/spam\">Spam</a>"
		       "<form method=\"post\" action=\"/logout\">");
		csrf_field(r);
		out(r, "<button type=\"submit\">Log out</button></form></nav>");
	}
	out(r, "</header><main><h1>");
	esc(r, title);
	out(r, "</h1>");
	if (r->flash[0]) {
		out(r, "<p class=\"msg%s\" id=\"flash\">", r->flash_error ? " err" : "");
		esc(r, r->flash);
		out(r, "</p>");
	}
	if (r->logged_in && r->acct.suspended)
		out(r, "<p class=\"msg err\" id=\"suspended\">This account is suspended. You can see its "
		       "settings, but nothing can be changed until it is active again; please contact "
		       "support.</p>");
}

static void end(struct acc_req *r)
{
	out(r, "</main><script>%s</script></body></html>\n", script);
}

void acc_page_login(struct acc_req *r, int status, const char *login_token, const char *error)
{
	int logged_in = r->logged_in;

	r->logged_in = 0;
	r->flash[0] = '\0';
	begin(r, status, "Log in");
	r->logged_in = logged_in;
	if (error && *error) {
		out(r, "<p class=\"msg err\" id=\"error\">");
		esc(r, error);
		out(r, "</p>");
	}
	out(r, "<section><form method=\"post\" action=\"/login\">"
	       "<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(r, login_token);
	out(r, "\"><label for=\"account\">Account name</label>"
	       "<input id=\"account\" name=\"account\" autocomplete=\"username\" autocapitalize=\"none\" "
	       "required maxlength=\"63\">"
	       "<label for=\"password\">Password</label>"
	       "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" "
	       "required maxlength=\"%d\">"
	       "<button type=\"submit\">Log in</button></form></section>", ACC_PASSWORD_MAX);
	end(r);
}

void acc_page_message(struct acc_req *r, int status, const char *title, const char *msg)
{
	begin(r, status, title);
	out(r, "<section><p id=\"message\">");
	esc(r, msg);
	out(r, "</p><p><a href=\"%s\">Back</a></p></section>", r->logged_in ? "/overview" : "/login");
	end(r);
}

void acc_page_overview(struct acc_req *r)
{
	int i;

	begin(r, 200, "Overview");
	out(r, "<section><dl><dt>Account</dt><dd id=\"account\">");
	esc(r, r->acct.name);
	out(r, "</dd><dt>Status</dt><dd id=\"status\">%s</dd><dt>Created</dt><dd>",
	    r->acct.suspended ? "suspended" : "active");
	esc(r, r->acct.created);
	out(r, "</dd><dt>Server number</dt><dd id=\"server\">%d</dd><dt>SMTP host</dt><dd id=\"smtp_host\">",
	    r->acct.server_number);
	esc(r, r->smtp_host);
	out(r, "</dd><dt>Domains</dt><dd id=\"domains\">");
	if (r->ndomains == 0)
		out(r, "none");
	for (i = 0; i < r->ndomains; i++) {
		out(r, "%s", i ? ", " : "");
		esc(r, r->domains[i]);
	}
	out(r, "</dd><dt>Mailboxes</dt><dd>%d</dd></dl></section>"
	       "<p><a href=\"/mail\">E-Mail Management</a>: your mailboxes and the settings for your "
	       "mail program.</p>", r->nmb);
	end(r);
}

void acc_password_inputs(struct acc_req *r, const char *idp)
{
	out(r, "<label for=\"%s-pw\">New password (at least %d characters)</label>"
	       "<input id=\"%s-pw\" name=\"password\" type=\"password\" autocomplete=\"new-password\" "
	       "required minlength=\"%d\" maxlength=\"%d\">"
	       "<label for=\"%s-pw2\">Repeat the password</label>"
	       "<input id=\"%s-pw2\" name=\"password2\" type=\"password\" autocomplete=\"new-password\" "
	       "required minlength=\"%d\" maxlength=\"%d\">",
	    idp, ACC_PASSWORD_MIN, idp, ACC_PASSWORD_MIN, ACC_PASSWORD_MAX, idp, idp,
	    ACC_PASSWORD_MIN, ACC_PASSWORD_MAX);
}

void acc_page_mail(struct acc_req *r)
{
	int i;

	begin(r, 200, "E-Mail Management");
	if (r->nmb == 0)
		out(r, "<section><p>This account has no mailboxes yet.</p></section>");
	for (i = 0; i < r->nmb; i++)
		acc_mailbox_settings(r, i);
	if (r->acct.suspended)
		goto done;
	out(r, "<section id=\"add\"><h2>Add a mailbox</h2>");
	if (r->ndomains == 0) {
		out(r, "<p>This account has no domains, so no mailbox can be added.</p></section>");
		goto done;
	}
	out(r, "<form method=\"post\" action=\"/mail/add\">");
	csrf_field(r);
	out(r, "<label for=\"local\">Name (the part before the @)</label>"
	       "<input id=\"local\" name=\"local\" required maxlength=\"64\" autocapitalize=\"none\">"
	       "<label for=\"domain\">Domain</label><select id=\"domain\" name=\"domain\">");
	for (i = 0; i < r->ndomains; i++) {
		out(r, "<option value=\"");
		esc(r, r->domains[i]);
		out(r, "\">@");
		esc(r, r->domains[i]);
		out(r, "</option>");
	}
	out(r, "</select>");
	acc_password_inputs(r, "add");
	out(r, "<button type=\"submit\">Add mailbox</button></form></section>");
done:
	end(r);
}

void acc_page_remove_confirm(struct acc_req *r)
{
	begin(r, 200, "Remove a mailbox");
	if (r->acct.suspended) {        /* the banner says why; no form to send */
		out(r, "<section><p>The mailbox <b id=\"address\">");
		esc(r, r->address);
		out(r, "</b> cannot be removed while the account is suspended.</p>"
		       "<p><a href=\"/mail\">Back</a></p></section>");
		end(r);
		return;
	}
	out(r, "<section><p>Remove the mailbox <b id=\"address\">");
	esc(r, r->address);
	out(r, "</b>? Nobody can log in to it any more and mail to it is refused. The mail already "
	       "in it stays on the server's disk; ask support if you need it.</p>"
	       "<form method=\"post\" action=\"/mail/remove\">");
	csrf_field(r);
	out(r, "<input type=\"hidden\" name=\"address\" value=\"");
	esc(r, r->address);
	out(r, "\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">"
	       "<button class=\"danger\" type=\"submit\">Remove ");
	esc(r, r->address);
	out(r, "</button></form><p><a href=\"/mail\">Cancel</a></p></section>");
	end(r);
}

static void utc(time_t t, char *outbuf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(outbuf, n, "%Y-%m-%d %H:%M UTC", &tm);
}

void acc_page_relay(struct acc_req *r)
{
	char when[64];
	int i;

	begin(r, 200, "POP-before-SMTP");
	out(r, "<section><p>A successful POP3%s login lets the address it came from send mail through ",
	    r->cfg->imap.n || r->cfg->imaps.n ? " or IMAP" : "");
	esc(r, r->smtp_host);
	if (r->cfg->pop_before_smtp_minutes > 0)
		out(r, " for %d minutes, as this account.", r->cfg->pop_before_smtp_minutes);
	else
		out(r, ": not on this server (POP-before-SMTP is disabled; use SMTP AUTH).");
	out(r, " These addresses are authorized now:</p>");
	if (r->ngrants == 0)
		out(r, "<p id=\"grants\">None at the moment.</p>");
	else
		out(r, "<ul id=\"grants\">");
	for (i = 0; i < r->ngrants; i++) {
		utc(r->grants[i].expires, when, sizeof when);
		out(r, "<li class=\"grant\"><b>");
		esc(r, r->grants[i].ip);
		out(r, "</b> by ");
		esc(r, r->grants[i].mailbox);
		out(r, ", until ");
		esc(r, when);
		out(r, " (%ld min left)</li>", (long)((r->grants[i].expires - r->now + 59) / 60));
	}
	if (r->ngrants)
		out(r, "</ul>");
	out(r, "</section>");
	end(r);
}

static void budget_row(struct acc_req *r, const char *id, const char *what, int used, int limit,
                       time_t reset)
{
	char when[64];

	out(r, "<dt>%s</dt><dd id=\"%s\">", what, id);
	if (!r->use_ok) {
		out(r, "%d recipients (the current use is unavailable)</dd>", limit);
		return;
	}
	utc(reset, when, sizeof when);
	out(r, "%d of %d recipients used; starts again at ", used, limit);
	esc(r, when);
	out(r, "</dd>");
}

void acc_page_budget(struct acc_req *r)
{
	struct account_limits lim;

	account_limits(&(struct account_limits){ r->acct.limit_per_hour, r->acct.limit_per_day,
	                                         r->acct.limit_max_recipients },
	               &(struct account_limits){ r->cfg->recipients_per_hour, r->cfg->recipients_per_day,
	                                         r->cfg->max_recipients },
	               &lim);
	begin(r, 200, "Recipient budget");
	out(r, "<section><p>Every recipient of the mail this account sends counts against its budget. "
	       "When it is used up, the server answers <q>450 4.7.1</q> until the next hour or day "
	       "begins.</p><dl>");
	budget_row(r, "hour", "This hour", r->use.hour, lim.per_hour, r->use.hour_reset);
	budget_row(r, "day", "Today", r->use.day, lim.per_day, r->use.day_reset);
	out(r, "<dt>Per message</dt><dd id=\"per_message\">at most %d recipients</dd></dl></section>",
	    lim.max_recipients);
	end(r);
}

void acc_page_account(struct acc_req *r)
{
	begin(r, 200, "Account");
	out(r, "<section><dl><dt>Account</dt><dd id=\"account\">");
	esc(r, r->account);
	out(r, "</dd><dt>Created</dt><dd>");
	esc(r, r->acct.created);
	out(r, "</dd></dl></section><section><h2>Domains</h2>");
	if (r->ndomains == 0)
		out(r, "<p>This account has no domains yet; support adds them.</p>");
	else
		out(r, "<ul id=\"domain-list\">");
	for (int i = 0; i < r->ndomains; i++) {
		out(r, "<li>");
		esc(r, r->domains[i]);
		out(r, "</li>");
	}
	if (r->ndomains)
		out(r, "</ul><p class=\"note\">Mail programs find their settings for these domains "
		       "by themselves at <q>autoconfig.</q> and <q>autodiscover.</q> followed by the domain, "
		       "when the domain's DNS points those names to this server.</p>");
	out(r, "</section><section><h2>Account password</h2>"
	       "<p>The password you log in here with. Changing it logs this account out everywhere "
	       "else.</p><form method=\"post\" action=\"/account/password\">");
	csrf_field(r);
	out(r, "<label for=\"acct-cur\">Current password</label>"
	       "<input id=\"acct-cur\" name=\"current\" type=\"password\" autocomplete=\"current-password\" "
	       "required maxlength=\"%d\">", ACC_PASSWORD_MAX);
	acc_password_inputs(r, "acct");
	out(r, "<button type=\"submit\">Change the password</button></form></section>");
	end(r);
}

/* ---- for the other page files ---- */

void acc_out(struct acc_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(&r->body, fmt, ap) < 0)
		r->body_err = 1;
	va_end(ap);
}

void acc_esc(struct acc_req *r, const char *s)
{
	esc(r, s);
}

void acc_begin(struct acc_req *r, int status, const char *title)
{
	begin(r, status, title);
}

void acc_end(struct acc_req *r)
{
	end(r);
}

void acc_csrf_field(struct acc_req *r)
{
	csrf_field(r);
}

void acc_esc_uri(struct acc_req *r, const char *s)
{
	char *enc = evhttp_encode_uri(s);

	if (!enc)
		r->body_err = 1;
	else
		esc(r, enc);
	free(enc);
}
