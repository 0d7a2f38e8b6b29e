/*
 * acc_server: the ACC's requests, from a whole HTTP request (acc_http.c)
 * to its answer. On the loop: the form is read and, for a login, the
 * per-IP throttle is asked. Everything else runs in one job on a worker
 * (password checks on the hashing pool): the session from the store (so
 * a login made on one node of a fleet is valid on every node, and ends
 * everywhere when the account's password changes or it is suspended),
 * the route's login and CSRF requirements, the route's work (acc_actions.c),
 * and the session's changes (login, logout, the next page's message).
 * The answer goes out from the loop.
 */
#include "acc/acc.h"
#include "acc/acc_forms.h"
#include "acc/acc_http.h"
#include "acc/acc_dns.h"
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "auth/throttle.h"
#include "daemon/conn.h"
#include "daemon/server.h"
#include "store/store_acc_session.h"
#include "util/config.h"
#include "util/log.h"
#include "metrics/metrics.h"
#include "util/workers.h"
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* __Host-: only ever set by this origin over HTTPS, for the whole site
 * (RFC 6265bis 4.1.3.2), so a sibling host cannot plant one. */
#define COOKIE_SESSION  "__Host-hm_session"
#define COOKIE_LOGIN    "__Host-hm_login"    /* the login form's double-submitted token */
#define LOGIN_TOKEN_AGE 3600
#define COOKIE_FLAGS    "Path=/; Secure; HttpOnly; SameSite=Strict"
#define PURGE_SECONDS   600                  /* expired sessions leave the store */

static void work_root(struct acc_req *r);
static void work_login_form(struct acc_req *r);
static void work_logout(struct acc_req *r);

static const struct acc_route routes[] = {
	{ ACC_GET, "/", 0, work_root },
	{ ACC_GET, "/login", 0, work_login_form },
	{ ACC_POST, "/login", R_HASH, acc_work_login },
	{ ACC_POST, "/logout", R_LOGIN, work_logout },
	{ ACC_GET, "/overview", R_LOGIN, acc_work_overview },
	{ ACC_GET, "/mail", R_LOGIN, acc_work_mail },
	{ ACC_GET, "/mail/remove", R_LOGIN, acc_work_remove_confirm },
	{ ACC_POST, "/mail/add", R_LOGIN | R_CHANGE | R_HASH, acc_work_mailbox_add },
	{ ACC_POST, "/mail/passwd", R_LOGIN | R_CHANGE | R_HASH, acc_work_mailbox_passwd },
	{ ACC_POST, "/mail/remove", R_LOGIN | R_CHANGE, acc_work_mailbox_remove },
	{ ACC_GET, "/mail/vacation", R_LOGIN, acc_work_vacation_form },
	{ ACC_POST, "/mail/vacation", R_LOGIN | R_CHANGE, acc_work_vacation },
	{ ACC_GET, "/account", R_LOGIN, acc_work_account },
	{ ACC_POST, "/account/password", R_LOGIN | R_CHANGE | R_HASH, acc_work_account_password },
	{ ACC_GET, "/relay", R_LOGIN, acc_work_relay },
	{ ACC_GET, "/aliases", R_LOGIN, acc_work_aliases },
	{ ACC_POST, "/aliases/add", R_LOGIN | R_CHANGE, acc_work_alias_add },
	{ ACC_POST, "/aliases/remove", R_LOGIN | R_CHANGE, acc_work_alias_remove },
	{ ACC_POST, "/aliases/catchall", R_LOGIN | R_CHANGE, acc_work_catchall },
	{ ACC_GET, "/budget", R_LOGIN, acc_work_budget },
	{ ACC_GET, "/dns", R_LOGIN, acc_work_dns },
	{ ACC_GET, "/dns/check", R_LOGIN, acc_work_dns_check },
	{ ACC_GET, "/spam", R_LOGIN, acc_work_spam },
	{ ACC_POST, "/spam", R_LOGIN | R_CHANGE, acc_work_spam_set },
	{ ACC_GET, "/mail/settings.json", R_LOGIN, acc_work_settings_json },
	{ ACC_GET, "/mail/profile.mobileconfig", R_LOGIN, acc_work_mobileconfig },
	{ ACC_POST, "/mail/profile.mobileconfig", R_LOGIN, acc_work_mobileconfig },
	{ ACC_GET, "/help/thunderbird", R_LOGIN, acc_work_help },
	{ ACC_GET, "/help/outlook", R_LOGIN, acc_work_help },
	{ ACC_GET, "/help/apple-mail", R_LOGIN, acc_work_help },
	{ ACC_GET, "/help/ios", R_LOGIN, acc_work_help },
	{ ACC_GET, "/help/android", R_LOGIN, acc_work_help },
	/* mail programs setting themselves up: no login, and the answer
	 * depends on the domain only (never on whether a mailbox exists) */
	{ ACC_GET, "/mail/config-v1.1.xml", 0, acc_work_autoconfig },
	{ ACC_GET, "/.well-known/autoconfig/mail/config-v1.1.xml", 0, acc_work_autoconfig },
	{ ACC_POST, "/autodiscover/autodiscover.xml", R_RAW, acc_work_autodiscover },
	{ ACC_POST, "/Autodiscover/Autodiscover.xml", R_RAW, acc_work_autodiscover },
};

/* ---- answers (helpers for the routes; they only fill r) ---- */

void acc_redirect(struct acc_req *r, const char *to)
{
	snprintf(r->location, sizeof r->location, "%s", to);
}

void acc_flash(struct acc_req *r, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->new_flash, sizeof r->new_flash, fmt, ap);
	va_end(ap);
	r->new_flash_set = 1;
	r->new_flash_error = error;
}

void acc_add_cookie(struct acc_req *r, const char *fmt, ...)
{
	va_list ap;

	if (r->ncookies >= (int)(sizeof r->cookies / sizeof r->cookies[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(r->cookies[r->ncookies++], sizeof r->cookies[0], fmt, ap);
	va_end(ap);
}

static void req_free(struct acc_req *r)
{
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, &r->form, next)
		explicit_bzero(kv->value, strlen(kv->value));
	evhttp_clear_headers(&r->form);
	buf_free(&r->body);
	free(r->domains);
	free(r->mb);
	free(r->grants);
	free(r->raw);
	config_unref(r->cfg);
	explicit_bzero(r, sizeof *r);
	free(r);
}

static void send_answer(struct acc_req *r)
{
	struct http_field f[8];
	size_t n = 0;

	for (int i = 0; i < r->ncookies; i++) {
		f[n].name = "Set-Cookie";
		f[n++].value = r->cookies[i];
	}
	if (r->retry_after[0]) {
		f[n].name = "Retry-After";
		f[n++].value = r->retry_after;
	}
	if (r->location[0]) {
		f[n].name = "Location";
		f[n++].value = r->location;
		acc_http_reply(r->ac, 303, f, n, NULL, 0);
		return;
	}
	if (r->body_err || r->body.len == 0) {
		log_warn("acc: ip=%s: page could not be rendered", r->ip);
		r->status = 500;
		buf_reset(&r->body);
		buf_puts(&r->body, "Internal error.\n");
	}
	if (r->disposition[0] && r->status == 200) {
		f[n].name = "Content-Disposition";
		f[n++].value = r->disposition;
	}
	f[n].name = "Content-Type";
	f[n++].value = r->content_type && r->status == 200 ? r->content_type : "text/html; charset=utf-8";
	acc_http_reply(r->ac, r->status, f, n, r->body.data, r->body.len);
}

/* ---- the session, on the worker ---- */

static void login_page_again(struct acc_req *r, int status, const char *error)
{
	char token[ACC_TOKEN_LEN + 1];

	if (acc_token_valid(r->csrf)) {
		snprintf(token, sizeof token, "%s", r->csrf);
	} else if (acc_token_new(token, sizeof token) == 0) {
		acc_add_cookie(r, COOKIE_LOGIN "=%s; Max-Age=%d; " COOKIE_FLAGS, token, LOGIN_TOKEN_AGE);
	} else {
		token[0] = '\0';
	}
	acc_page_login(r, status, token, error);
}

/* -1 when the store cannot say whether the cookie's session exists: the
 * customer gets an error page and keeps the cookie, rather than being sent
 * to the login form as if logged out. */
static int load_session(struct acc_req *r)
{
	char sid[ACC_TOKEN_LEN + 1];
	struct store_acc_session s;
	int rc;

	if (acc_cookie_get(r->cookie, COOKIE_SESSION, sid, sizeof sid) < 0)
		return 0;
	rc = store_acc_session_find(r->store, sid, r->now, ACC_SESSION_IDLE, ACC_SESSION_LIFETIME, &s);
	if (rc != 0)
		return rc == STORE_ENOTFOUND ? 0 : -1;
	r->logged_in = 1;
	snprintf(r->sid, sizeof r->sid, "%s", s.id);
	snprintf(r->csrf, sizeof r->csrf, "%s", s.csrf);
	snprintf(r->account, sizeof r->account, "%s", s.account);
	if (r->method == ACC_GET && s.flash[0] &&
	    store_acc_session_take_flash(r->store, sid, r->flash, sizeof r->flash, &r->flash_error) != 0)
		r->flash[0] = '\0';
	return 0;
}

/* A login's verdict: a new session (a new id at every login, so a planted
 * or old id is worthless), or the form again. */
static void login_result(struct acc_req *r)
{
	struct store_acc_session s;
	char safe[200];

	log_value(r->account, strlen(r->account), safe, sizeof safe);
	metrics_inc(r->acc->srv->metrics, M_LOGINS, "acc", r->login_failed ? "failed" : "ok");
	if (r->login_failed) {
		/* the one form of every service (fail2ban, docs/logging.md) */
		log_warn_key(r->ip, "acc authentication failed: ip=%s user=%s", r->ip, safe);
		login_page_again(r, 403, "Wrong account name or password.");
		return;
	}
	if (r->sid[0])
		store_acc_session_end(r->store, r->sid);
	if (store_acc_session_create(r->store, r->account, r->now, r->cfg->acc_sessions_per_account, &s) != 0) {
		acc_page_message(r, 503, "Temporarily unavailable", "Please try again in a minute.");
		return;
	}
	log_info("acc: account=%s ip=%s logged in", r->account, r->ip);
	snprintf(r->sid, sizeof r->sid, "%s", s.id);
	r->logged_in = 1;
	acc_add_cookie(r, COOKIE_LOGIN "=; Max-Age=0; " COOKIE_FLAGS);
	acc_redirect(r, "/overview");
}

/* What the request did to its session, and its cookie. */
static void session_after(struct acc_req *r)
{
	if (r->login_ok || r->login_failed)
		login_result(r);
	if (r->new_session && r->logged_in) {   /* the account password was changed here */
		struct store_acc_session s;

		if (store_acc_session_create(r->store, r->account, r->now, r->cfg->acc_sessions_per_account, &s) == 0)
			snprintf(r->sid, sizeof r->sid, "%s", s.id);
		else
			r->end_session = 1;
	}
	if (!r->sid[0])
		return;
	if (r->end_session) {
		store_acc_session_end(r->store, r->sid);
		acc_add_cookie(r, COOKIE_SESSION "=; Max-Age=0; " COOKIE_FLAGS);
		return;
	}
	if (r->new_flash_set)
		store_acc_session_set_flash(r->store, r->sid, r->new_flash_error, r->new_flash);
	/* the cookie's lifetime follows the server's idle timer */
	acc_add_cookie(r, COOKIE_SESSION "=%s; Max-Age=%d; " COOKIE_FLAGS, r->sid, ACC_SESSION_IDLE);
}

/* ---- routes answered without the account's data ---- */

static void work_root(struct acc_req *r)
{
	acc_redirect(r, r->logged_in ? "/overview" : "/login");
}

static void work_login_form(struct acc_req *r)
{
	char token[ACC_TOKEN_LEN + 1];

	if (r->logged_in) {
		acc_redirect(r, "/overview");
		return;
	}
	/* Keep a valid token from an earlier visit, so two open tabs both work. */
	if (acc_cookie_get(r->cookie, COOKIE_LOGIN, token, sizeof token) < 0 || !acc_token_valid(token))
		token[0] = '\0';
	snprintf(r->csrf, sizeof r->csrf, "%s", token);
	login_page_again(r, 200, NULL);
}

static void work_logout(struct acc_req *r)
{
	log_info("acc: account=%s ip=%s logged out", r->account, r->ip);
	r->end_session = 1;
	acc_redirect(r, "/login");
}

/* ---- one request's job ---- */

/* Every POST carries its form's token: the session's, or for the login form
 * the one in the login cookie. 0, or -1 with the answer set. */
static int check_csrf(struct acc_req *r)
{
	const char *tok = acc_form_get(&r->form, "csrf");
	char login_token[ACC_TOKEN_LEN + 1];
	int ok;

	if (r->route->work == acc_work_login) {
		ok = acc_cookie_get(r->cookie, COOKIE_LOGIN, login_token, sizeof login_token) == 0 &&
		     acc_token_eq(tok, login_token);
		if (ok)
			memcpy(r->csrf, login_token, sizeof r->csrf);   /* a valid token: 64 + NUL */
	} else {
		ok = acc_token_eq(tok, r->csrf);
	}
	if (ok)
		return 0;
	log_warn("acc: account=%s ip=%s %s refused: missing or wrong CSRF token",
	         r->logged_in ? r->account : "-", r->ip, r->route->path);
	if (r->route->work == acc_work_login) {
		r->csrf[0] = '\0';
		login_page_again(r, 403, "The login form had expired. Please log in again.");
	} else {
		acc_page_message(r, 403, "Form expired",
		                 "The form was out of date or did not come from this site. "
		                 "Please reload the page and try again.");
	}
	return -1;
}

/* The route's requirements, then its work. */
static void route_work(struct acc_req *r)
{
	int flags = r->route->flags;

	if ((flags & R_LOGIN) && !r->logged_in) {
		if (r->method == ACC_GET)
			acc_redirect(r, "/login");
		else
			acc_page_message(r, 403, "Not logged in", "Your session has ended. Please log in again.");
		return;
	}
	if (r->method == ACC_POST && !(flags & R_RAW) && check_csrf(r) < 0)
		return;
	if (r->route->work == acc_work_login) {
		snprintf(r->account, sizeof r->account, "%s", r->login_account);
		r->logged_in = 0;
	}
	if (flags & R_LOGIN) {
		if (acc_load_account(r) < 0)
			return;
		if ((flags & R_CHANGE) && r->acct.suspended) {
			log_warn("acc: account=%s ip=%s refused %s: account suspended", r->account, r->ip,
			         r->route->path);
			acc_page_message(r, 403, "Account suspended",
			                 "This account is suspended, so nothing can be changed. "
			                 "Please contact support.");
			return;
		}
	}
	r->route->work(r);
}

static void job_work(void *arg)
{
	struct acc_req *r = arg;

	if (load_session(r) < 0)
		acc_page_message(r, 503, "Temporarily unavailable",
		                 "The account database cannot be reached. Please try again in a minute.");
	else if (!r->route && r->path_known)
		acc_page_message(r, 405, "Not allowed", "That page does not take this kind of request.");
	else if (!r->route)
		acc_page_message(r, 404, "Not found", "There is no such page.");
	else if (!r->answered)
		route_work(r);
	session_after(r);
}

static void job_done(void *st, void *arg)
{
	struct acc_req *r = arg;

	/* a wrong password counts against the address; a store failure does not */
	if (r->throttled && throttle_end(r->acc->srv->auth_throttle, r->ip, time(NULL), r->login_failed))
		log_warn_key(r->ip, "acc: ip=%s blocked after repeated failed logins", r->ip);
	if (st)
		send_answer(r);
	req_free(r);
}

/* ---- request intake, on the loop ---- */

static void copy_field(struct acc_req *r, const char *key, char *out, size_t outlen)
{
	const char *v = acc_form_get(&r->form, key);

	if (snprintf(out, outlen, "%s", v) >= (int)outlen) {
		r->input_bad = 1;
		out[0] = '\0';
	}
}

static const struct acc_route *find_route(const char *path, enum acc_method method, int *path_known)
{
	*path_known = 0;
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		*path_known = 1;
		if (routes[i].method == method)
			return &routes[i];
	}
	return NULL;
}

/* The form (POST body or GET query) into r->form; -1 with the answer set. */
static int read_form(struct acc_req *r, const struct acc_http_req *q)
{
	int rc;

	if (r->route->flags & R_RAW) {          /* kept as it came (up to ACC_FORM_MAX) */
		if (!(r->raw = malloc(q->body_len + 1))) {
			acc_page_message(r, 503, "Temporarily unavailable", "Please try again in a minute.");
			return -1;
		}
		memcpy(r->raw, q->body, q->body_len);
		r->raw[q->body_len] = '\0';
		r->raw_len = q->body_len;
		return 0;
	}
	if (q->method == ACC_GET) {
		rc = acc_form_parse(q->query, strlen(q->query), &r->form);
	} else if (strncasecmp(q->content_type, "application/x-www-form-urlencoded", 33) != 0) {
		acc_page_message(r, 415, "Bad request", "Forms must be sent as application/x-www-form-urlencoded.");
		return -1;
	} else {
		rc = acc_form_parse(q->body_len ? q->body : NULL, q->body_len, &r->form);
	}
	if (rc < 0) {
		acc_page_message(r, 400, "Bad request", "The form could not be read.");
		return -1;
	}
	copy_field(r, "address", r->address, sizeof r->address);
	copy_field(r, "local", r->local, sizeof r->local);
	copy_field(r, "domain", r->domain, sizeof r->domain);
	copy_field(r, "targets", r->targets, sizeof r->targets);
	copy_field(r, "confirm", r->confirm, sizeof r->confirm);
	copy_field(r, "current", r->current, sizeof r->current);
	copy_field(r, "password", r->password, sizeof r->password);
	copy_field(r, "password2", r->password2, sizeof r->password2);
	copy_field(r, "account", r->login_account, sizeof r->login_account);
	copy_field(r, "emailaddress", r->emailaddress, sizeof r->emailaddress);
	return 0;
}

/* A login: refused at once when the address is blocked (no hash computed);
 * 0 to go on, or -1 with the answer set. */
static int login_throttle(struct acc_req *r)
{
	int wait;

	for (char *p = r->login_account; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (r->input_bad || !r->login_account[0] || !r->password[0]) {
		r->csrf[0] = '\0';
		login_page_again(r, 400, "Give the account name and its password.");
		return -1;
	}
	/* Attempts in flight count too: parallel guesses get no more verdicts. */
	if ((wait = throttle_begin(r->acc->srv->auth_throttle, r->ip, r->now)) > 0) {
		log_warn_key(r->ip, "acc: ip=%s login refused: blocked for %d more seconds", r->ip, wait);
		snprintf(r->retry_after, sizeof r->retry_after, "%d", wait);
		r->csrf[0] = '\0';
		login_page_again(r, 429, "Too many failed logins from your address. "
		                 "Please wait a few minutes before you try again.");
		return -1;
	}
	r->throttled = 1;
	return 0;
}

void acc_handle(struct acc *a, struct acc_conn *ac, const struct acc_http_req *q)
{
	struct server *srv = a->srv;
	struct acc_req *r = calloc(1, sizeof *r);
	int rc;

	if (!r) {
		acc_http_reply(ac, 503, NULL, 0, NULL, 0);
		return;
	}
	buf_init(&r->body, ACC_BODY_MAX);
	TAILQ_INIT(&r->form);
	r->acc = a;
	r->ac = ac;
	r->cfg = config_ref(srv->cfg);
	r->store = srv->store;
	r->now = time(NULL);
	r->method = q->method;
	snprintf(r->ip, sizeof r->ip, "%s", acc_http_ip(ac));
	snprintf(r->cookie, sizeof r->cookie, "%s", q->cookie);
	snprintf(r->host, sizeof r->host, "%s", q->host);
	r->route = find_route(q->path[0] ? q->path : "/", q->method, &r->path_known);
	if (r->route && read_form(r, q) < 0)
		r->answered = 1;
	else if (r->route && r->route->work == acc_work_login && r->method == ACC_POST && login_throttle(r) < 0)
		r->answered = 1;
	/* password checks wait their turn with SMTP's and POP3's */
	if (r->route && (r->route->flags & R_HASH) && !r->answered)
		/* a login is keyed by the account it names; a password change's
		 * account is known only once its session is read: keyed by "" */
		rc = acc_http_login_job(ac, srv->logins, r->login_account, job_work, job_done, r);
	else
		rc = acc_http_job(ac, srv->workers, job_work, job_done, r);
	if (rc == 0)
		return;
	if (r->throttled)
		throttle_end(srv->auth_throttle, r->ip, time(NULL), 0);
	if (r->route && (r->route->flags & R_HASH) && !r->answered) {
		log_warn_key(r->ip, "acc: ip=%s request refused: too many password checks waiting", r->ip);
		snprintf(r->retry_after, sizeof r->retry_after, "%d", ACC_BUSY_RETRY_AFTER);
		acc_page_message(r, 503, "Temporarily unavailable",
		                 "Too many requests are waiting. Please try again in a moment.");
	} else {
		acc_page_message(r, 503, "Temporarily unavailable", "Please try again in a minute.");
	}
	send_answer(r);
	req_free(r);
}

/* ---- the service ---- */

static void purge_work(void *arg)
{
	struct acc *a = arg;

	store_acc_session_purge(a->srv->store, time(NULL), ACC_SESSION_IDLE, ACC_SESSION_LIFETIME);
}

static void purge_done(void *arg)
{
	((struct acc *)arg)->purging = 0;
}

static void on_purge(evutil_socket_t fd, short what, void *arg)
{
	struct acc *a = arg;

	(void)fd;
	(void)what;
	if (!a->purging && a->srv->workers && workers_submit(a->srv->workers, purge_work, purge_done, a) == 0)
		a->purging = 1;
}

/* "sha256-BASE64" of text, for the CSP. */
static int csp_hash(const char *text, char *out, size_t outlen)
{
	unsigned char md[32], b64[64];
	unsigned int mdlen = 0;

	if (!EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	EVP_EncodeBlock(b64, md, 32);
	snprintf(out, outlen, "'sha256-%s'", b64);
	return 0;
}

/* The stylesheet and the copy buttons' script, by their SHA-256; nothing
 * else (the provider's logo is added per answer: acc_http.c). */
static int make_csp(struct acc *a)
{
	return csp_hash(acc_stylesheet(), a->style_hash, sizeof a->style_hash) < 0 ||
	       csp_hash(acc_script(), a->script_hash, sizeof a->script_hash) < 0 ? -1 : 0;
}

int acc_start(struct server *srv)
{
	struct timeval tv = { PURGE_SECONDS, 0 };
	struct acc *a;

	if (srv->cfg->acc.n == 0)
		return 0;
	if (!srv->tls) {
		log_warn("acc: [listen] acc needs [tls] certificate and key: the ACC is served over HTTPS only");
		return -1;
	}
	if (!(a = calloc(1, sizeof *a)) || make_csp(a) < 0 ||
	    !(a->purge = event_new(srv->base, -1, EV_PERSIST, on_purge, a))) {
		log_warn("acc: cannot set up the HTTP server");
		free(a);
		return -1;
	}
	a->srv = srv;
	event_add(a->purge, &tv);
	srv->acc = a;
	return 0;
}

void acc_stop(struct server *srv)
{
	if (srv->acc && srv->acc->purge) {
		event_free(srv->acc->purge);
		srv->acc->purge = NULL;
	}
}
