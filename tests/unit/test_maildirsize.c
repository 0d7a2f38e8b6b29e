/* Unit tests for the Maildir++ maildirsize parser and formatter
 * (delivery/maildirsize.h) and the pure quota decisions
 * (delivery/quota.h): limits, the warning crossing, sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "delivery/maildirsize.h"
#include "delivery/quota.h"

static int parse(const char *s, struct maildirsize *m)
{
	return maildirsize_parse(s, strlen(s), m);
}

static void test_parse_courier_and_dovecot(void **state)
{
	struct maildirsize m;

	(void)state;
	assert_int_equal(parse("10485760S,1000C\n  2048   1\n 512 1\n-512 -1\n", &m), 0);
	assert_int_equal(m.quota_bytes, 10485760);
	assert_int_equal(m.quota_messages, 1000);
	assert_int_equal(m.bytes, 2048);
	assert_int_equal(m.messages, 1);
	assert_int_equal(m.lines, 3);
	assert_int_equal(parse("5000S\n", &m), 0);          /* Dovecot: no usage yet */
	assert_int_equal(m.quota_bytes, 5000);
	assert_int_equal(m.quota_messages, 0);
	assert_int_equal(parse("100C\n1 1\n", &m), 0);
	assert_int_equal(m.quota_messages, 100);
	assert_int_equal(m.quota_bytes, 0);
	assert_int_equal(parse("\n10 2\n", &m), 0);          /* no quota */
	assert_int_equal(m.bytes, 10);
}

static void test_parse_refuses_damage(void **state)
{
	struct maildirsize m;
	static const char *const bad[] = {
		"", "100S", "100S\n12", "100X\n", "S\n", ",\n", "100S\nabc 1\n", "100S\n1\n",
		"100S\n1 2 3\n", "100S\n99999999999999999999 1\n", "-5S\n", "100S\n1 1\r\n", "100S 200C\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(maildirsize_parse(bad[i], strlen(bad[i]), &m), -1);
}

static void test_format(void **state)
{
	char b[MAILDIRSIZE_LINE_MAX];
	struct maildirsize m;

	(void)state;
	assert_int_equal(maildirsize_quota_line(1000, 20, b, sizeof b), 0);
	assert_string_equal(b, "1000S,20C");
	assert_int_equal(maildirsize_quota_line(0, 20, b, sizeof b), 0);
	assert_string_equal(b, "20C");
	assert_int_equal(maildirsize_quota_line(0, 0, b, sizeof b), 0);
	assert_string_equal(b, "");
	assert_int_equal(maildirsize_quota_line(-1, 0, b, sizeof b), -1);
	assert_int_equal(maildirsize_usage_line(-300, -1, b, sizeof b), 8);
	assert_string_equal(b, "-300 -1\n");
	assert_int_equal(maildirsize_parse("7S\n-300 -1\n", 11, &m), 0);
	assert_int_equal(m.bytes, -300);
}

static void test_quota_decision(void **state)
{
	struct quota_limit q = { 1000, 0 }, none = { 0, 0 }, count = { 0, 3 };
	struct quota_usage u = { 900, 5 };

	(void)state;
	assert_false(quota_would_exceed(&q, &u, 100));
	assert_true(quota_would_exceed(&q, &u, 101));
	assert_false(quota_would_exceed(&none, &u, 1 << 30));
	u.bytes = 1000;
	assert_true(quota_would_exceed(&q, &u, 0));     /* full: nothing fits, no SIZE needed */
	u.bytes = 1500;                                  /* over (a soft limit was passed) */
	assert_true(quota_would_exceed(&q, &u, 1));
	u.messages = 2;
	assert_false(quota_would_exceed(&count, &u, 1 << 20));
	u.messages = 3;
	assert_true(quota_would_exceed(&count, &u, 1));
	assert_int_equal(quota_percent(&q, &(struct quota_usage){ 905, 1 }), 90);
	assert_int_equal(quota_percent(&none, &u), 0);
}

static void test_warning_crossing(void **state)
{
	struct quota_limit q = { 1000, 0 };
	struct quota_usage a = { 800, 1 }, b = { 900, 2 }, c = { 950, 3 };

	(void)state;
	assert_true(quota_warn_crossed(&q, &a, &b, 90));    /* reaches 90 % */
	assert_false(quota_warn_crossed(&q, &b, &c, 90));   /* already above: not again */
	assert_false(quota_warn_crossed(&q, &a, &b, 0));    /* off */
	assert_false(quota_warn_crossed(&q, &a, &(struct quota_usage){ 899, 2 }, 90));
	assert_true(quota_warn_crossed(&(struct quota_limit){ 0, 10 }, &(struct quota_usage){ 0, 8 },
	                               &(struct quota_usage){ 0, 9 }, 90));
}

static void test_sizes(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(quota_parse_size("10M", &v), 0);
	assert_int_equal(v, 10 << 20);
	assert_int_equal(quota_parse_size("5k", &v), 0);
	assert_int_equal(v, 5120);
	assert_int_equal(quota_parse_size("2GB", &v), 0);
	assert_int_equal(v, 2LL << 30);
	assert_int_equal(quota_parse_size("1234", &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(quota_parse_size("none", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(quota_parse_size("-1", &v), -1);
	assert_int_equal(quota_parse_size("1X", &v), -1);
	assert_int_equal(quota_parse_size("", &v), -1);
	assert_int_equal(quota_parse_size("99999999999999999999T", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_courier_and_dovecot),
		cmocka_unit_test(test_parse_refuses_damage),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_quota_decision),
		cmocka_unit_test(test_warning_crossing),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests_name("maildirsize and quota", tests, NULL, NULL);
}
