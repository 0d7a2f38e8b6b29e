/*
 * fuzz_acc_form: what the Account Control Center itself reads from a
 * request besides the HTTP framing (http_parse has its own harness): the
 * Cookie header and the urlencoded form body (acc_forms.h), then what
 * acc_server.c's CSRF check does with them: the form's csrf field is
 * compared with the session's token, or for the login form with the
 * __Host-hm_login cookie (acc_csrf.h). Sessions live in the store (their
 * lookups are tested with it). Input: the Cookie header up to the first
 * LF, then the body.
 *
 * Checks: a cookie value fits its buffer, NUL-terminated; a form with a
 * NUL byte or %00 is refused; every parsed key and value is a string; a
 * CSRF token is accepted exactly when it equals the expected one (CSRF
 * below; the seeds carry it).
 */
#include <sys/queue.h>
#include "acc/acc_csrf.h"
#include "acc/acc_forms.h"
#include "fuzz_common.h"
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CSRF "c5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5af"

/* What check_csrf() of acc_server.c does with the cookies and the form. */
static void cookies_and_csrf(const char *hdr, const struct evkeyvalq *q)
{
	char sid[ACC_TOKEN_LEN + 1], login[ACC_TOKEN_LEN + 1];
	const char *tok = acc_form_get(q, "csrf");

	CHECK(tok != NULL);
	if (acc_cookie_get(hdr, "__Host-hm_session", sid, sizeof sid) == 0)
		CHECK(strlen(sid) <= ACC_TOKEN_LEN);
	CHECK(acc_token_eq(tok, CSRF) == (strcmp(tok, CSRF) == 0));
	if (acc_cookie_get(hdr, "__Host-hm_login", login, sizeof login) == 0)
		CHECK(acc_token_eq(tok, login) == (strcmp(tok, login) == 0 && strlen(tok) == ACC_TOKEN_LEN));
	CHECK(acc_token_eq(tok, tok) == (strlen(tok) == ACC_TOKEN_LEN));
	CHECK(!acc_token_valid(tok) || acc_token_eq(tok, tok));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size, blen = nl ? size - hlen - 1 : 0;
	char *hdr, *body, out[65];
	struct evkeyvalq q;
	struct evkeyval *kv;
	size_t outlen;

	hdr = malloc(hlen + 1);
	body = malloc(blen ? blen : 1);
	CHECK(hdr && body);
	memcpy(hdr, data, hlen);
	hdr[hlen] = '\0';
	if (blen)
		memcpy(body, nl + 1, blen);
	for (outlen = 1; outlen <= sizeof out; outlen += 32) {
		memset(out, 0x5a, sizeof out);
		if (acc_cookie_get(hdr, "__Host-hm_session", out, outlen) == 0)
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
		cookies_and_csrf(hdr, &q);
		evhttp_clear_headers(&q);
	} else {
		CHECK(TAILQ_EMPTY(&q));
	}
	free(hdr);
	free(body);
	return 0;
}
