/* Unit tests for src/store/store_valid.c: what the account store accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "store/store_valid.h"

static void test_account_names(void **state)
{
	char err[256];
	static const char *good[] = { "a", "acme", "a-1", "0abc", "abcdefghijklmnopqrstuvwxyz012345" };
	static const char *bad[] = { "", "-a", "Acme", "a_b", "a.b", "a b", "abcdefghijklmnopqrstuvwxyz0123456",
	                             "é" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof *good; i++)
		assert_int_equal(valid_account_name(good[i], err, sizeof err), 0);
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		assert_int_equal(valid_account_name(bad[i], err, sizeof err), -1);
		assert_non_null(strstr(err, "invalid account name"));
	}
}

static void test_domains(void **state)
{
	char out[256], err[256];
	static const char *bad[] = { "", "com", "a..b", ".a.b", "a.b.", "-a.b", "a-.b", "a.-b", "a_b.c",
	                             "1.2.3.4", "a b.c", "a/b.c", "ex\xc3\xa4mple.com" };
	size_t i;

	(void)state;
	assert_int_equal(valid_domain("Example.COM", out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(valid_domain("xn--bcher-kva.example", out, sizeof out, err, sizeof err), 0);
	assert_int_equal(valid_domain("a1.b2.c3", out, sizeof out, err, sizeof err), 0);
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(valid_domain(bad[i], out, sizeof out, err, sizeof err), -1);
	/* a 64-character label is one too many */
	char longlabel[80];
	memset(longlabel, 'a', 64);
	memcpy(longlabel + 64, ".com", 5);
	assert_int_equal(valid_domain(longlabel, out, sizeof out, err, sizeof err), -1);
	memcpy(longlabel + 63, ".com", 5);
	assert_int_equal(valid_domain(longlabel, out, sizeof out, err, sizeof err), 0);
}

static void test_addresses(void **state)
{
	char l[65], d[256], err[512];
	static const char *good[] = { "a@b.c", "first.last@x.test", "o'neil+tag@x.test", "a!#$%&'*+-=?^_`{|}~@x.test" };
	static const char *bad[] = { "", "@x.test", "a@", "a", ".a@x.test", "a.@x.test", "a..b@x.test",
	                             "a/b@x.test", "../x@x.test", "a b@x.test", "\"a\"@x.test", "a@b@x",
	                             "a@x_y.test", "a\\b@x.test", "a@[127.0.0.1]" };
	size_t i;

	(void)state;
	assert_int_equal(valid_address("Alice.Smith@Example.ORG", l, sizeof l, d, sizeof d, err, sizeof err), 0);
	assert_string_equal(l, "alice.smith");
	assert_string_equal(d, "example.org");
	for (i = 0; i < sizeof good / sizeof *good; i++)
		assert_int_equal(valid_address(good[i], l, sizeof l, d, sizeof d, err, sizeof err), 0);
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(valid_address(bad[i], l, sizeof l, d, sizeof d, err, sizeof err), -1);
}

static void test_dates(void **state)
{
	char err[128];
	static const char *good[] = { "2011-06-01", "2000-02-29", "1970-01-01", "2024-12-31" };
	static const char *bad[] = { "", "2011-6-1", "2011-06-31", "1900-02-29", "2001-02-29", "2011-13-01",
	                             "2011-00-10", "2011-01-00", "1969-12-31", "2011/06/01", "2011-06-01x", "abcd-ef-gh" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof *good; i++)
		assert_int_equal(valid_date(good[i], err, sizeof err), 0);
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(valid_date(bad[i], err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_names),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
