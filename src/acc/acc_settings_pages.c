/*
 * acc_settings_pages: a mailbox's settings as a mail program's setup
 * screen asks for them, and step-by-step guides for the common programs.
 * Per mailbox an "Incoming server" and an "Outgoing server" table with the
 * recommended choice (server, port, security, authentication, username,
 * each value with a copy button), the alternatives below; all from
 * client_settings, as `hostmailctl mailbox show` prints them (the same
 * lines are on the page, under "All settings as text").
 */
#include "acc/acc_pages.h"
#include <stdio.h>
#include <string.h>

static void copy_button(struct acc_req *r, const char *value)
{
	acc_out(r, " <button type=\"button\" class=\"copy\" data-copy=\"");
	acc_esc(r, value);
	acc_out(r, "\">Copy</button>");
}

static void row(struct acc_req *r, const char *field, const char *label, const char *value, int copy)
{
	acc_out(r, "<tr><th>%s</th><td><span class=\"v\" data-field=\"%s\">", label, field);
	acc_esc(r, value);
	acc_out(r, "</span>");
	if (copy)
		copy_button(r, value);
	acc_out(r, "</td></tr>");
}

/* One side (incoming or outgoing): the recommended server's table, then
 * the other ports it can use. */
static void server_table(struct acc_req *r, const struct client_settings *cs, const char *idp, int incoming)
{
	const struct cs_server *list = incoming ? cs->in : cs->out;
	int n = incoming ? cs->nin : cs->nout;
	char port[16];

	acc_out(r, "<h3>%s server (%s)</h3>", incoming ? "Incoming" : "Outgoing", incoming ? "POP3" : "SMTP");
	if (n == 0) {
		acc_out(r, "<p>This server offers no %s service.</p>", incoming ? "POP3" : "SMTP");
		return;
	}
	acc_out(r, "<table class=\"server\" id=\"%s-%s\">", idp, incoming ? "in" : "out");
	snprintf(port, sizeof port, "%d", list[0].port);
	row(r, "host", "Server", cs->host, 1);
	row(r, "port", "Port", port, 1);
	acc_out(r, "<tr><th>Connection security</th><td><span class=\"v\" data-field=\"security\">%s</span> "
	           "<span class=\"rec\">recommended</span></td></tr>", cs_security_name(list[0].security));
	row(r, "auth", "Authentication", "Normal password", 0);
	row(r, "username", "Username", cs->username, 1);
	acc_out(r, "</table>");
	if (n > 1) {
		acc_out(r, "<p class=\"note alt\">If your network blocks port %d, the same server also takes ", list[0].port);
		for (int i = 1; i < n; i++)
			acc_out(r, "%s<span class=\"altport\">%d with %s</span>", i == 1 ? "" : i == n - 1 ? " or " : ", ",
			        list[i].port, cs_security_name(list[i].security));
		acc_out(r, ".</p>");
	}
}

/* The same lines `hostmailctl mailbox show` prints, byte for byte. */
static void settings_text(struct acc_req *r, const struct acc_mailbox_view *m)
{
	struct buf lines;

	acc_out(r, "<details><summary>All settings as text</summary><pre class=\"settings\">");
	for (int i = 0; i < m->ms.n; i++) {
		acc_esc(r, m->ms.s[i].key);
		acc_out(r, ": ");
		acc_esc(r, m->ms.s[i].value);
		acc_out(r, "\n");
	}
	buf_init(&lines, 0);
	if (m->cs_ok && cs_server_lines(&m->cs, &lines) == 0 && lines.data)
		acc_esc(r, lines.data);
	buf_free(&lines);
	acc_quota_lines(r, m);
	acc_out(r, "</pre></details>");
}

static void guide_links(struct acc_req *r, const char *address)
{
	static const char *const guides[][2] = {
		{ "thunderbird", "Thunderbird" }, { "outlook", "Outlook" }, { "apple-mail", "Apple Mail (Mac)" },
		{ "ios", "iPhone and iPad" }, { "android", "Android (K-9 Mail, Thunderbird)" },
	};

	acc_out(r, "<p class=\"guides\">Step by step: ");
	for (size_t i = 0; i < sizeof guides / sizeof guides[0]; i++) {
		acc_out(r, "%s<a href=\"/help/%s?address=", i ? " &middot; " : "", guides[i][0]);
		acc_esc_uri(r, address);
		acc_out(r, "\">%s</a>", guides[i][1]);
	}
	acc_out(r, "</p>");
}

void acc_mailbox_settings(struct acc_req *r, int k)
{
	const struct acc_mailbox_view *m = &r->mb[k];
	char idp[16], size[32];

	snprintf(idp, sizeof idp, "mb%d", k);
	acc_out(r, "<section class=\"mailbox\" id=\"%s\"><h2>", idp);
	acc_esc(r, m->address);
	acc_out(r, "</h2>");
	if (!m->cs_ok) {
		acc_out(r, "<p class=\"msg err\">The settings of this mailbox cannot be shown (the host name "
		           "pattern is too long); please contact support.</p></section>");
		return;
	}
	acc_out(r, "<p class=\"note\">Most mail programs set themselves up from the e-mail address and "
	           "password alone. If yours asks, type these:</p>");
	server_table(r, &m->cs, idp, 1);
	server_table(r, &m->cs, idp, 0);
	cs_size_mb(m->cs.max_size, size, sizeof size);
	acc_out(r, "<p class=\"note\">Use the same username and password for sending and receiving. "
	           "Messages up to <b class=\"maxsize\">");
	acc_esc(r, size);
	acc_out(r, "</b> can be sent.</p>");
	acc_quota_show(r, m);
	guide_links(r, m->address);
	acc_out(r, "<p><a class=\"profile\" href=\"/mail/profile.mobileconfig?address=");
	acc_esc_uri(r, m->address);
	acc_out(r, "\">Profile for iPhone, iPad and Mac</a> &middot; <a class=\"json\" href=\"/mail/settings.json?address=");
	acc_esc_uri(r, m->address);
	acc_out(r, "\">Settings as JSON</a></p>");
	/* the profile with the password inside: only when typed here, on purpose */
	acc_out(r, "<details><summary>Profile with the password inside</summary>"
	           "<form method=\"post\" action=\"/mail/profile.mobileconfig\">");
	acc_csrf_field(r);
	acc_out(r, "<input type=\"hidden\" name=\"address\" value=\"");
	acc_esc(r, m->address);
	acc_out(r, "\"><label for=\"%s-ppw\">The mailbox password (the device will not ask for it)</label>"
	           "<input id=\"%s-ppw\" name=\"password\" type=\"password\" autocomplete=\"off\" required "
	           "maxlength=\"%d\"><button type=\"submit\">Download the profile</button></form></details>",
	        idp, idp, ACC_PASSWORD_MAX);
	settings_text(r, m);
	if (r->acct.suspended)
		goto done;
	acc_out(r, "<details><summary>Change the password</summary><form method=\"post\" action=\"/mail/passwd\">");
	acc_csrf_field(r);
	acc_out(r, "<input type=\"hidden\" name=\"address\" value=\"");
	acc_esc(r, m->address);
	acc_out(r, "\">");
	acc_password_inputs(r, idp);
	acc_out(r, "<button type=\"submit\">Change password</button></form></details>"
	           "<p><a href=\"/mail/remove?address=");
	acc_esc_uri(r, m->address);
	acc_out(r, "\">Remove this mailbox&hellip;</a></p>");
done:
	acc_out(r, "</section>");
}

/* ---- the guides ---- */

struct guide {
	const char *client, *title;
	const char *const *steps;      /* NULL-terminated; %IN%/%OUT% stand for the server lines */
};

static const char *const thunderbird[] = {
	"Open the menu &#9776; and choose <b>Account Settings</b>, then <b>Account Actions</b> &rarr; "
	"<b>Add Mail Account</b>.",
	"Type your name, the e-mail address %ADDR% and its password, then <b>Continue</b>.",
	"Thunderbird looks up the settings by itself (this provider publishes them). Choose <b>POP3</b> "
	"if it asks, then <b>Done</b>.",
	"Only if it finds nothing: choose <b>Configure manually</b> and type %IN% and %OUT%, authentication "
	"<b>Normal password</b>, username %ADDR%.",
	NULL,
};
static const char *const outlook[] = {
	"Choose <b>File</b> &rarr; <b>Add Account</b> and type the e-mail address %ADDR%.",
	"Outlook asks this server for the settings (Autodiscover). If it asks for the account type, choose "
	"<b>POP</b>.",
	"Manually (<b>Advanced options</b> &rarr; <b>Let me set up my account manually</b> &rarr; "
	"<b>POP</b>): incoming %IN%, outgoing %OUT%; tick <b>This server requires an encrypted "
	"connection</b> and pick the encryption method shown.",
	"Type the mailbox password and choose <b>Connect</b>.",
	NULL,
};
static const char *const apple_mail[] = {
	"Easiest: download the <a href=\"%PROFILE%\">profile for this mailbox</a>, open it, then install it in "
	"<b>System Settings</b> &rarr; <b>Privacy &amp; Security</b> &rarr; <b>Profiles</b>; type the mailbox "
	"password when asked.",
	"By hand: in Mail choose <b>Mail</b> &rarr; <b>Add Account</b> &rarr; <b>Other Mail Account</b>, type "
	"your name, %ADDR% and the password.",
	"When Mail asks, choose account type <b>POP</b>, incoming %IN% and outgoing %OUT%, user name %ADDR%.",
	NULL,
};
static const char *const ios[] = {
	"On the iPhone or iPad, open this page in Safari, log in and tap the <a href=\"%PROFILE%\">profile for "
	"this mailbox</a>; allow the download.",
	"Open <b>Settings</b> &rarr; <b>Profile Downloaded</b> &rarr; <b>Install</b> and type the mailbox "
	"password when asked.",
	"By hand: <b>Settings</b> &rarr; <b>Mail</b> &rarr; <b>Accounts</b> &rarr; <b>Add Account</b> &rarr; "
	"<b>Other</b> &rarr; <b>Add Mail Account</b>, choose <b>POP</b>, incoming %IN%, outgoing %OUT%, "
	"user name %ADDR%.",
	NULL,
};
static const char *const android[] = {
	"In K-9 Mail or Thunderbird for Android, add an account and type the e-mail address %ADDR%.",
	"The app looks up the settings by itself (autoconfig). Type the mailbox password and confirm.",
	"Only if it asks: choose <b>POP3</b>, incoming %IN%, outgoing %OUT%, authentication <b>Normal "
	"password</b>, username %ADDR%.",
	NULL,
};

static const struct guide guides[] = {
	{ "thunderbird", "Set up Thunderbird", thunderbird },
	{ "outlook", "Set up Outlook", outlook },
	{ "apple-mail", "Set up Apple Mail on a Mac", apple_mail },
	{ "ios", "Set up an iPhone or iPad", ios },
	{ "android", "Set up Android (K-9 Mail, Thunderbird)", android },
};

static void server_words(struct acc_req *r, const struct client_settings *cs, const struct cs_server *list, int n)
{
	if (n == 0) {
		acc_out(r, "<b>(none)</b>");
		return;
	}
	acc_out(r, "<b class=\"srv\">");
	acc_esc(r, cs->host);
	acc_out(r, "</b> port <b>%d</b> with <b>%s</b>", list[0].port, cs_security_name(list[0].security));
}

/* A step: constant HTML with %ADDR%, %IN%, %OUT%, %PROFILE% filled in. */
static void step(struct acc_req *r, const char *text, const struct acc_mailbox_view *m)
{
	const char *p = text, *q;

	acc_out(r, "<li>");
	while ((q = strchr(p, '%')) != NULL) {
		acc_out(r, "%.*s", (int)(q - p), p);
		if (strncmp(q, "%ADDR%", 6) == 0) {
			acc_out(r, "<b>");
			acc_esc(r, m->address);
			acc_out(r, "</b>");
			p = q + 6;
		} else if (strncmp(q, "%IN%", 4) == 0) {
			server_words(r, &m->cs, m->cs.in, m->cs.nin);
			p = q + 4;
		} else if (strncmp(q, "%OUT%", 5) == 0) {
			server_words(r, &m->cs, m->cs.out, m->cs.nout);
			p = q + 5;
		} else if (strncmp(q, "%PROFILE%", 9) == 0) {
			acc_out(r, "/mail/profile.mobileconfig?address=");
			acc_esc_uri(r, m->address);
			p = q + 9;
		} else {
			acc_out(r, "%%");
			p = q + 1;
		}
	}
	acc_out(r, "%s</li>", p);
}

void acc_page_help(struct acc_req *r, const char *client, const struct acc_mailbox_view *m)
{
	const struct guide *g = NULL;

	for (size_t i = 0; i < sizeof guides / sizeof guides[0]; i++)
		if (strcmp(guides[i].client, client) == 0)
			g = &guides[i];
	if (!g) {
		acc_page_message(r, 404, "Not found", "There is no such page.");
		return;
	}
	acc_begin(r, 200, g->title);
	if (!m) {
		acc_out(r, "<section><p>This account has no mailboxes yet: add one on "
		           "<a href=\"/mail\">E-Mail Management</a> first.</p></section>");
		acc_end(r);
		return;
	}
	acc_out(r, "<section><p>For the mailbox <b id=\"address\">");
	acc_esc(r, m->address);
	acc_out(r, "</b>");
	if (r->nmb > 1) {
		acc_out(r, " (or: ");
		for (int i = 0, k = 0; i < r->nmb; i++) {
			if (strcmp(r->mb[i].address, m->address) == 0)
				continue;
			acc_out(r, "%s<a href=\"/help/%s?address=", k++ ? ", " : "", g->client);
			acc_esc_uri(r, r->mb[i].address);
			acc_out(r, "\">");
			acc_esc(r, r->mb[i].address);
			acc_out(r, "</a>");
			if (k == 10)
				break;
		}
		acc_out(r, ")");
	}
	acc_out(r, ":</p><ol class=\"steps\">");
	for (const char *const *s = g->steps; *s; s++)
		step(r, *s, m);
	acc_out(r, "</ol><p><a href=\"/mail\">All settings</a></p></section>");
	acc_end(r);
}
