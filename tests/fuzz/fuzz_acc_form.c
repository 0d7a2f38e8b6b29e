/*
 * fuzz_acc_form: what the Account Control Center itself reads from a
 * request (the HTTP framing, URL and header parsing are libevent's evhttp):
 * the Cookie header and the urlencoded form body (acc_forms.h), then what
 * acc_server.c does with them: the hm_session cookie looks up a session
 * (acc_session.h), the form's csrf field is compared with the session's
 * token, or for the login form with the hm_login cookie (acc_csrf.h).
 * Input: the Cookie header up to the first LF, then the body.
 *
 * One session with a fixed, known id and CSRF token (SID, CSRF below; the
 * seeds carry them) lives for the whole run. Checks: a cookie value fits
 * its buffer, NUL-terminated; a form with a NUL byte or %00 is refused;
 * every parsed key and value is a string; the session is found exactly
 * when the cookie carries its id, and a CSRF token is accepted exactly
 * when it equals the expected one.
 */
#include <sys/queue.h>
#include "acc/acc_csrf.h"
#include "acc/acc_forms.h"
#include "acc/acc_session.h"
#include "fuzz_common.h"
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SID  "5e551015e551015e551015e551015e551015e551015e551015e551015e551015"
#define CSRF "c5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5af"

static struct acc_sessions *sessions;
static time_t now;

static void setup(void)
{
	struct acc_session *s;

	CHECK((sessions = acc_sessions_new(8)) != NULL);
	now = time(NULL);
	CHECK((s = acc_session_create(sessions, "acme", now)) != NULL);
	CHECK(acc_token_valid(s->id) && acc_token_valid(s->csrf));
	memcpy(s->id, SID, sizeof s->id);
	memcpy(s->csrf, CSRF, sizeof s->csrf);
	CHECK(acc_token_valid(SID) && acc_token_valid(CSRF));
}

/* What load_session() and check_csrf() of acc_server.c do. */
static void session_and_csrf(const char *hdr, const struct evkeyvalq *q)
{
	char sid[ACC_TOKEN_LEN + 1], login[ACC_TOKEN_LEN + 1];
	const char *tok = acc_form_get(q, "csrf");
	struct acc_session *s = NULL;
	int have_sid, have_login;

	CHECK(tok != NULL);
	have_sid = acc_cookie_get(hdr, "hm_session", sid, sizeof sid) == 0;
	if (have_sid) {
		CHECK(strlen(sid) <= ACC_TOKEN_LEN);
		s = acc_session_find(sessions, sid, now);
		CHECK((s != NULL) == (strcmp(sid, SID) == 0));
		if (s)
			CHECK(strcmp(s->account, "acme") == 0);
	}
	CHECK(acc_token_eq(tok, CSRF) == (strcmp(tok, CSRF) == 0));
	have_login = acc_cookie_get(hdr, "hm_login", login, sizeof login) == 0;
	if (have_login)
		CHECK(acc_token_eq(tok, login) == (strcmp(tok, login) == 0 && strlen(tok) == ACC_TOKEN_LEN));
	CHECK(acc_token_eq(tok, tok) == (strlen(tok) == ACC_TOKEN_LEN));
	CHECK(!acc_token_valid(tok) || acc_token_eq(tok, tok));
	CHECK(acc_sessions_count(sessions) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size, blen = nl ? size - hlen - 1 : 0;
	char *hdr, *body, out[65];
	struct evkeyvalq q;
	struct evkeyval *kv;
	size_t outlen;

	if (!sessions)
		setup();
	hdr = malloc(hlen + 1);
	body = malloc(blen ? blen : 1);
	CHECK(hdr && body);
	memcpy(hdr, data, hlen);
	hdr[hlen] = '\0';
	if (blen)
		memcpy(body, nl + 1, blen);
	for (outlen = 1; outlen <= sizeof out; outlen += 32) {
		memset(out, 0x5a, sizeof out);
		if (acc_cookie_get(hdr, "hm_session", out, outlen) == 0)
			CHECK(memchr(out, '\0', outlen) != NULL);
	}
	/* an empty body as evbuffer_pullup gives it: NULL */
	if (acc_form_parse(blen ? body : NULL, blen, &q) == 0) {
		CHECK(memchr(body, '\0', blen) == NULL);
		TAILQ_FOREACH(kv, &q, next) {
			CHECK(kv->key != NULL && kv->value != NULL);
			(void)strlen(kv->key);
			(void)strlen(kv->value);
		}
		(void)acc_form_get(&q, "password");
		session_and_csrf(hdr, &q);
		evhttp_clear_headers(&q);
	} else {
		CHECK(TAILQ_EMPTY(&q));
	}
	free(hdr);
	free(body);
	return 0;
}
