/*
 * acc_server: the ACC's HTTPS server. libevent's evhttp parses HTTP on
 * the daemon's event loop; evhttp_set_bevcb gives every connection an
 * OpenSSL bufferevent with the daemon's certificates (SNI included). Each
 * request: session from the cookie, route from the table below, CSRF
 * check for every POST, then either a quick answer on the loop or a job
 * for a worker (acc_actions.c) whose result is sent from the loop.
 */
#include "acc/acc.h"
#include "acc/acc_forms.h"
#include "acc/acc_int.h"
#include "acc/acc_pages.h"
#include "acc/acc_session.h"
#include "auth/throttle.h"
#include "daemon/server.h"
#include "tls/tls.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define COOKIE_SESSION  "hm_session"
#define COOKIE_LOGIN    "hm_login"    /* the login form's double-submitted token */
#define LOGIN_TOKEN_AGE 3600
#define MAX_HEADERS     8192
#define HTTP_TIMEOUT    30            /* seconds */
#define COOKIE_FLAGS    "Path=/; Secure; HttpOnly; SameSite=Strict"

static void start_root(struct acc_req *r);
static void start_login_form(struct acc_req *r);
static void start_login(struct acc_req *r);
static void start_logout(struct acc_req *r);

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST

static const struct acc_route routes[] = {
	{ GET, "/", 0, start_root, NULL },
	{ GET, "/login", 0, start_login_form, NULL },
	{ POST, "/login", R_HASH, start_login, acc_work_login },
	{ POST, "/logout", R_LOGIN, start_logout, NULL },
	{ GET, "/overview", R_LOGIN, NULL, acc_work_overview },
	{ GET, "/mail", R_LOGIN, NULL, acc_work_mail },
	{ GET, "/mail/remove", R_LOGIN, NULL, acc_work_remove_confirm },
	{ POST, "/mail/add", R_LOGIN | R_CHANGE | R_HASH, NULL, acc_work_mailbox_add },
	{ POST, "/mail/passwd", R_LOGIN | R_CHANGE | R_HASH, NULL, acc_work_mailbox_passwd },
	{ POST, "/mail/remove", R_LOGIN | R_CHANGE, NULL, acc_work_mailbox_remove },
	{ GET, "/relay", R_LOGIN, NULL, acc_work_relay },
	{ GET, "/budget", R_LOGIN, NULL, acc_work_budget },
};

/* ---- answers ---- */

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

	if (r->ncookies >= 2)
		return;
	va_start(ap, fmt);
	vsnprintf(r->cookies[r->ncookies++], sizeof r->cookies[0], fmt, ap);
	va_end(ap);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
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
	config_unref(r->cfg);
	explicit_bzero(r, sizeof *r);
	free(r);
}

static void send_answer(struct acc_req *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out;
	int i;

	evhttp_add_header(h, "Content-Security-Policy", r->acc->csp);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
	for (i = 0; i < r->ncookies; i++)
		evhttp_add_header(h, "Set-Cookie", r->cookies[i]);
	if (r->location[0]) {
		evhttp_add_header(h, "Location", r->location);
		evhttp_send_reply(r->req, 303, reason(303), NULL);
		return;
	}
	if (r->body_err || r->body.len == 0) {
		log_warn("acc: ip=%s: page could not be rendered", r->ip);
		r->status = 500;
		buf_reset(&r->body);
		buf_puts(&r->body, "Internal error.\n");
	}
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	if (!(out = evbuffer_new())) {
		evhttp_send_error(r->req, 500, NULL);
		return;
	}
	evbuffer_add(out, r->body.data, r->body.len);
	evhttp_send_reply(r->req, r->status, reason(r->status), out);
	evbuffer_free(out);
}

/* Apply what the request did to its session, answer, and free r. */
static void finish(struct acc_req *r)
{
	struct acc_session *s = r->sid[0] ? acc_session_find(r->acc->sessions, r->sid, time(NULL)) : NULL;

	if (s && r->end_session) {
		acc_session_end(r->acc->sessions, s);
		s = NULL;
		acc_add_cookie(r, COOKIE_SESSION "=; Max-Age=0; " COOKIE_FLAGS);
	}
	if (s && r->new_flash_set)
		acc_session_flash(s, r->new_flash_error, r->new_flash);
	if (s)   /* the cookie's lifetime follows the server's idle timer */
		acc_add_cookie(r, COOKIE_SESSION "=%s; Max-Age=%d; " COOKIE_FLAGS, s->id, ACC_SESSION_IDLE);
	send_answer(r);
	req_free(r);
}

static void message(struct acc_req *r, int status, const char *title, const char *msg)
{
	acc_page_message(r, status, title, msg);
	finish(r);
}

/* ---- work on a worker ---- */

static void job_work(void *arg)
{
	struct acc_req *r = arg;

	if (r->route->flags & R_LOGIN) {
		if (acc_load_account(r) < 0)
			return;
		if ((r->route->flags & R_CHANGE) && r->acct.suspended) {
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

static void login_done(struct acc_req *r)
{
	struct acc_sessions *t = r->acc->sessions;
	struct acc_session *s;
	char safe[200];

	log_safe(r->account, strlen(r->account), safe, sizeof safe);
	if (r->login_failed) {
		r->throttled = 0;
		if (throttle_end(r->acc->srv->auth_throttle, r->ip, time(NULL), 1))
			log_warn("acc: ip=%s blocked after repeated failed logins", r->ip);
		log_warn("acc: ip=%s login failed for account=%s", r->ip, safe);
		login_page_again(r, 403, "Wrong account name or password.");
		return;
	}
	/* A new id at every login: a planted or old session id is worthless. */
	if (r->sid[0] && (s = acc_session_find(t, r->sid, time(NULL))))
		acc_session_end(t, s);
	if (!(s = acc_session_create(t, r->account, time(NULL)))) {
		acc_page_message(r, 503, "Temporarily unavailable", "Please try again in a minute.");
		return;
	}
	log_info("acc: account=%s ip=%s logged in", r->account, r->ip);
	snprintf(r->sid, sizeof r->sid, "%s", s->id);
	acc_add_cookie(r, COOKIE_LOGIN "=; Max-Age=0; " COOKIE_FLAGS);
	acc_redirect(r, "/overview");
}

static void job_done(void *arg)
{
	struct acc_req *r = arg;

	if (r->login_ok || r->login_failed)
		login_done(r);
	if (r->throttled)       /* a success, or no verdict (the store failed) */
		throttle_end(r->acc->srv->auth_throttle, r->ip, time(NULL), 0);
	finish(r);
}

static void submit(struct acc_req *r)
{
	struct server *srv = r->acc->srv;
	struct workers *w = (r->route->flags & R_HASH) && srv->auth_workers ? srv->auth_workers : srv->workers;

	if (w && workers_submit(w, job_work, job_done, r) == 0)
		return;
	if (r->throttled)
		throttle_end(srv->auth_throttle, r->ip, time(NULL), 0);
	message(r, 503, "Temporarily unavailable", "Please try again in a minute.");
}

/* ---- routes answered on the loop ---- */

static void start_root(struct acc_req *r)
{
	acc_redirect(r, r->logged_in ? "/overview" : "/login");
	finish(r);
}

static void start_login_form(struct acc_req *r)
{
	const char *ch = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Cookie");
	char token[ACC_TOKEN_LEN + 1];

	if (r->logged_in) {
		acc_redirect(r, "/overview");
		finish(r);
		return;
	}
	/* Keep a valid token from an earlier visit, so two open tabs both work. */
	if (!ch || acc_cookie_get(ch, COOKIE_LOGIN, token, sizeof token) < 0 || !acc_token_valid(token))
		token[0] = '\0';
	snprintf(r->csrf, sizeof r->csrf, "%s", token);
	login_page_again(r, 200, NULL);
	finish(r);
}

static void start_login(struct acc_req *r)
{
	int wait, i;
	char retry[16];

	for (i = 0; r->account[i]; i++)
		r->account[i] = (char)tolower((unsigned char)r->account[i]);
	if (r->input_bad || !r->account[0] || !r->password[0]) {
		login_page_again(r, 400, "Give the account name and its password.");
		finish(r);
		return;
	}
	/* Attempts in flight count too: parallel guesses get no more verdicts. */
	if ((wait = throttle_begin(r->acc->srv->auth_throttle, r->ip, r->now)) > 0) {
		log_warn("acc: ip=%s login refused: blocked for %d more seconds", r->ip, wait);
		snprintf(retry, sizeof retry, "%d", wait);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", retry);
		login_page_again(r, 429, "Too many failed logins from your address. "
		                 "Please wait a few minutes before you try again.");
		finish(r);
		return;
	}
	r->throttled = 1;
	submit(r);
}

static void start_logout(struct acc_req *r)
{
	log_info("acc: account=%s ip=%s logged out", r->account, r->ip);
	r->end_session = 1;
	acc_redirect(r, "/login");
	finish(r);
}

/* ---- request intake ---- */

static void copy_field(struct acc_req *r, const char *key, char *out, size_t outlen)
{
	const char *v = acc_form_get(&r->form, key);

	if (snprintf(out, outlen, "%s", v) >= (int)outlen) {
		r->input_bad = 1;
		out[0] = '\0';
	}
}

static const struct acc_route *find_route(const char *path, int method, int *path_known)
{
	size_t i;

	*path_known = 0;
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		*path_known = 1;
		if (routes[i].method == method)
			return &routes[i];
	}
	return NULL;
}

static void load_session(struct acc_req *r)
{
	const char *ch = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Cookie");
	char sid[ACC_TOKEN_LEN + 1];
	struct acc_session *s;

	if (!ch || acc_cookie_get(ch, COOKIE_SESSION, sid, sizeof sid) < 0 ||
	    !(s = acc_session_find(r->acc->sessions, sid, r->now)))
		return;
	r->logged_in = 1;
	snprintf(r->sid, sizeof r->sid, "%s", s->id);
	snprintf(r->csrf, sizeof r->csrf, "%s", s->csrf);
	snprintf(r->account, sizeof r->account, "%s", s->account);
	if (evhttp_request_get_command(r->req) == GET && s->flash[0]) {
		snprintf(r->flash, sizeof r->flash, "%s", s->flash);
		r->flash_error = s->flash_error;
		s->flash[0] = '\0';
	}
}

/* The form (POST body or GET query) into r->form; -1 with the answer sent. */
static int read_form(struct acc_req *r, const struct evhttp_uri *uri)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	const char *ct, *q;
	size_t len;
	int rc;

	if (evhttp_request_get_command(r->req) == GET) {
		q = evhttp_uri_get_query(uri);
		rc = acc_form_parse(q ? q : "", q ? strlen(q) : 0, &r->form);
	} else {
		ct = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Content-Type");
		if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
			message(r, 415, "Bad request", "Forms must be sent as application/x-www-form-urlencoded.");
			return -1;
		}
		len = evbuffer_get_length(in);
		rc = len > ACC_FORM_MAX ? -1 :
		     acc_form_parse((const char *)evbuffer_pullup(in, (ev_ssize_t)len), len, &r->form);
	}
	if (rc < 0) {
		message(r, 400, "Bad request", "The form could not be read.");
		return -1;
	}
	copy_field(r, "address", r->address, sizeof r->address);
	copy_field(r, "local", r->local, sizeof r->local);
	copy_field(r, "domain", r->domain, sizeof r->domain);
	copy_field(r, "confirm", r->confirm, sizeof r->confirm);
	copy_field(r, "password", r->password, sizeof r->password);
	copy_field(r, "password2", r->password2, sizeof r->password2);
	return 0;
}

/* Every POST carries its form's token: the session's, or for the login form
 * the one in the hm_login cookie. 0, or -1 with a 403 sent. */
static int check_csrf(struct acc_req *r)
{
	const char *tok = acc_form_get(&r->form, "csrf");
	const char *ch = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Cookie");
	char login_token[ACC_TOKEN_LEN + 1];
	int ok;

	if (r->route->start == start_login) {
		ok = ch && acc_cookie_get(ch, COOKIE_LOGIN, login_token, sizeof login_token) == 0 &&
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
	if (r->route->start == start_login) {
		r->csrf[0] = '\0';
		login_page_again(r, 403, "The login form had expired. Please log in again.");
		finish(r);
	} else {
		message(r, 403, "Form expired",
		        "The form was out of date or did not come from this site. "
		        "Please reload the page and try again.");
	}
	return -1;
}

static int is_tls(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	return bev && bufferevent_openssl_get_ssl(bev) != NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct acc *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	int known, method = evhttp_request_get_command(req);
	ev_uint16_t port;
	char *peer = NULL;
	struct acc_req *r;

	if (!is_tls(req)) {            /* only if no SSL could be made for it */
		evhttp_send_error(req, 403, "HTTPS only");
		return;
	}
	if (!(r = calloc(1, sizeof *r))) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	buf_init(&r->body, ACC_BODY_MAX);
	TAILQ_INIT(&r->form);
	r->acc = a;
	r->req = req;
	r->cfg = config_ref(a->srv->cfg);
	r->store = a->srv->store;
	r->now = time(NULL);
	if (c)
		evhttp_connection_get_peer(c, &peer, &port);
	snprintf(r->ip, sizeof r->ip, "%s", peer ? peer : "?");
	load_session(r);
	if (!path || !(r->route = find_route(path[0] ? path : "/", method, &known))) {
		if (path && known)
			message(r, 405, "Not allowed", "That page does not take this kind of request.");
		else
			message(r, 404, "Not found", "There is no such page.");
		return;
	}
	if (read_form(r, uri) < 0)
		return;
	if ((r->route->flags & R_LOGIN) && !r->logged_in) {
		if (method == GET) {
			acc_redirect(r, "/login");
			finish(r);
		} else {
			message(r, 403, "Not logged in", "Your session has ended. Please log in again.");
		}
		return;
	}
	if (method == POST && check_csrf(r) < 0)
		return;
	if (r->route->start == start_login) {
		copy_field(r, "account", r->account, sizeof r->account);
		r->logged_in = 0;
	}
	if (r->route->start)
		r->route->start(r);
	else
		submit(r);
}

/* ---- the listener ---- */

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct acc *a = arg;
	struct bufferevent *bev;
	SSL *ssl;

	/* srv->tls is read per connection, so a SIGHUP's new certificates apply. */
	if (!a->srv->tls || !(ssl = tls_server_new_ssl(a->srv->tls)))
		return NULL;       /* evhttp then makes a plain one, which on_request refuses */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* Browsers often close without a TLS close_notify: not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* CSP allowing exactly our stylesheet (by its SHA-256), nothing else. */
static int make_csp(struct acc *a)
{
	const char *css = acc_stylesheet();
	unsigned char md[32], b64[64];
	unsigned int mdlen = 0;

	if (!EVP_Digest(css, strlen(css), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	EVP_EncodeBlock(b64, md, 32);
	snprintf(a->csp, sizeof a->csp,
	         "default-src 'none'; style-src 'sha256-%s'; form-action 'self'; "
	         "frame-ancestors 'none'; base-uri 'none'", b64);
	return 0;
}

int acc_start(struct server *srv)
{
	const struct listen_list *ll = &srv->cfg->acc;
	struct acc *a;
	int i, fd;

	if (ll->n == 0)
		return 0;
	if (!srv->tls) {
		log_warn("acc: [listen] acc needs [tls] certificate and key: the ACC is served over HTTPS only");
		return -1;
	}
	if (!(a = calloc(1, sizeof *a)) || !(a->sessions = acc_sessions_new(ACC_SESSION_MAX)) ||
	    !(a->http = evhttp_new(srv->base)) || make_csp(a) < 0) {
		log_warn("acc: cannot set up the HTTP server");
		return -1;
	}
	a->srv = srv;
	evhttp_set_gencb(a->http, on_request, a);
	evhttp_set_bevcb(a->http, make_bev, a);
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_max_headers_size(a->http, MAX_HEADERS);
	evhttp_set_max_body_size(a->http, ACC_FORM_MAX);
	evhttp_set_timeout(a->http, HTTP_TIMEOUT);
	evhttp_set_default_content_type(a->http, "text/html; charset=utf-8");
	srv->acc = a;
	for (i = 0; i < ll->n && i < (int)(sizeof a->bound / sizeof a->bound[0]); i++) {
		if ((fd = server_bind(&ll->a[i])) < 0)
			return -1;
		if (!(a->bound[a->nbound] = evhttp_accept_socket_with_handle(a->http, fd))) {
			close(fd);
			return -1;
		}
		a->nbound++;
		log_info("listening for acc (HTTPS) on %s%s%s:%s", strchr(ll->a[i].host, ':') ? "[" : "",
		         ll->a[i].host, strchr(ll->a[i].host, ':') ? "]" : "", ll->a[i].port);
	}
	return 0;
}

void acc_stop(struct server *srv)
{
	struct acc *a = srv->acc;
	int i;

	if (!a)
		return;
	for (i = 0; i < a->nbound; i++)
		evhttp_del_accept_socket(a->http, a->bound[i]);
	a->nbound = 0;
}
