/* Unit tests for src/acc/acc_forms.c (form bodies, cookies), acc_csrf.c
 * (tokens) and the HTML escaping of acc_pages.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/http.h>
#include <string.h>
#include "acc/acc_csrf.h"
#include "acc/acc_forms.h"
#include "acc/acc_pages.h"

static void test_form_decodes(void **st)
{
	struct evkeyvalq q;
	const char *b = "csrf=ab&address=a%2Bb%40x.test&password=p+w%26%3D&empty=";

	(void)st;
	assert_int_equal(acc_form_parse(b, strlen(b), &q), 0);
	assert_string_equal(acc_form_get(&q, "csrf"), "ab");
	assert_string_equal(acc_form_get(&q, "address"), "a+b@x.test");
	assert_string_equal(acc_form_get(&q, "password"), "p w&=");
	assert_string_equal(acc_form_get(&q, "empty"), "");
	assert_string_equal(acc_form_get(&q, "absent"), "");
	evhttp_clear_headers(&q);
	assert_int_equal(acc_form_parse("", 0, &q), 0);
	evhttp_clear_headers(&q);
}

static void test_form_refuses(void **st)
{
	static char big[ACC_FORM_MAX + 10];
	struct evkeyvalq q;

	(void)st;
	assert_int_equal(acc_form_parse("a=1%00b", 7, &q), -1);
	assert_int_equal(acc_form_parse("a=1\0b", 5, &q), -1);
	memset(big, 'a', sizeof big);
	big[1] = '=';
	assert_int_equal(acc_form_parse(big, sizeof big, &q), -1);
	assert_int_equal(acc_form_parse(big, ACC_FORM_MAX, &q), 0);
	evhttp_clear_headers(&q);
}

static void test_cookie(void **st)
{
	char v[16];

	(void)st;
	assert_int_equal(acc_cookie_get("a=1; hm_session=xyz; b=2", "hm_session", v, sizeof v), 0);
	assert_string_equal(v, "xyz");
	assert_int_equal(acc_cookie_get("hm_session=xyz", "hm_session", v, sizeof v), 0);
	assert_string_equal(v, "xyz");
	assert_int_equal(acc_cookie_get("xhm_session=1; hm_sessionx=2", "hm_session", v, sizeof v), -1);
	assert_int_equal(acc_cookie_get("hm_session=0123456789abcdefXX", "hm_session", v, sizeof v), -1);
	assert_int_equal(acc_cookie_get("", "hm_session", v, sizeof v), -1);
	assert_int_equal(acc_cookie_get("hm_session=", "hm_session", v, sizeof v), 0);
	assert_string_equal(v, "");
}

static void test_tokens(void **st)
{
	char a[ACC_TOKEN_LEN + 1], b[ACC_TOKEN_LEN + 1];

	(void)st;
	assert_int_equal(acc_token_new(a, sizeof a), 0);
	assert_int_equal(acc_token_new(b, sizeof b), 0);
	assert_int_equal(strlen(a), ACC_TOKEN_LEN);
	assert_true(acc_token_valid(a));
	assert_true(acc_token_eq(a, a));
	assert_false(acc_token_eq(a, b));
	assert_false(acc_token_eq(a, ""));
	assert_false(acc_token_eq(NULL, a));
	assert_false(acc_token_eq("", ""));
	assert_false(acc_token_valid("abc"));
	assert_int_equal(acc_token_new(a, ACC_TOKEN_LEN), -1);
}

static void test_html_escape(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(acc_html_escape(&b, "<a href=\"x\">O'Neil & co</a>"), 0);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
	buf_free(&b);
	buf_init(&b, 8);
	assert_int_equal(acc_html_escape(&b, "<<<<<<<<"), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_decodes),
		cmocka_unit_test(test_form_refuses),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_html_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
