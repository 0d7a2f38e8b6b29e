/* Unit tests for src/util/password.c: new hashes are yescrypt, imported ones verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "util/password.h"

static void test_yescrypt_roundtrip(void **state)
{
	char h1[256], h2[256];

	(void)state;
	assert_int_equal(password_hash("s3cret pass", h1, sizeof h1), 0);
	assert_memory_equal(h1, "$y$", 3);
	assert_int_equal(password_hash("s3cret pass", h2, sizeof h2), 0);
	assert_string_not_equal(h1, h2);  /* fresh salt each time */
	assert_int_equal(password_verify("s3cret pass", h1), 1);
	assert_int_equal(password_verify("s3cret pasS", h1), 0);
	assert_int_equal(password_verify("", h1), 0);
}

static void test_refusals(void **state)
{
	char h[256], tiny[10];

	(void)state;
	assert_int_equal(password_hash("", h, sizeof h), -1);
	assert_int_equal(password_hash("x", tiny, sizeof tiny), -1);
	assert_int_equal(password_verify("x", ""), 0);
	assert_int_equal(password_verify("x", "*"), 0);
	assert_int_equal(password_verify("x", "!locked"), 0);
	assert_int_equal(password_verify("x", "$unknown$abc"), 0);
}

static void test_imported(void **state)
{
	(void)state;
	/* made elsewhere with crypt(3): SHA-512, SHA-256, bcrypt */
	static const char *h6 = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
	static const char *h5 = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA";
	static const char *h2b = "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a";

	assert_int_equal(password_verify("secret", h6), 1);
	assert_int_equal(password_verify("Secret", h6), 0);
	assert_int_equal(password_verify("secret", h5), 1);
	assert_int_equal(password_verify("secret", h2b), 1);
	assert_int_equal(password_verify("secreT", h2b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yescrypt_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_imported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
