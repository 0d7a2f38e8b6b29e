/* Unit tests for src/policy/limits.c: an account's effective limits from its
 * overrides (-1 = the default) and the [limits] defaults (docs/limits.md,
 * docs/configuration.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "policy/limits.h"

/* The configured defaults of docs/configuration.md. */
static const struct account_limits dflt = { 500, 2000, 100 };

static struct account_limits eff(int hour, int day, int max)
{
	struct account_limits ov = { hour, day, max }, out = { -7, -7, -7 };

	account_limits(&ov, &dflt, &out);
	return out;
}

static void test_no_overrides_gives_defaults(void **state)
{
	struct account_limits l = eff(-1, -1, -1);

	(void)state;
	assert_int_equal(l.per_hour, 500);
	assert_int_equal(l.per_day, 2000);
	assert_int_equal(l.max_recipients, 100);
}

static void test_overrides_raise_and_lower(void **state)
{
	struct account_limits l = eff(2000, 10000, 500);   /* docs/limits.md's example */

	(void)state;
	assert_int_equal(l.per_hour, 2000);
	assert_int_equal(l.per_day, 10000);
	assert_int_equal(l.max_recipients, 500);
	l = eff(1, 1, 1);
	assert_int_equal(l.per_hour, 1);
	assert_int_equal(l.per_day, 1);
	assert_int_equal(l.max_recipients, 1);
}

/* Each override is independent: one set, the others default. */
static void test_overrides_independent(void **state)
{
	struct account_limits l = eff(7, -1, -1);

	(void)state;
	assert_int_equal(l.per_hour, 7);
	assert_int_equal(l.per_day, 2000);
	assert_int_equal(l.max_recipients, 100);
	l = eff(-1, 9, -1);
	assert_int_equal(l.per_hour, 500);
	assert_int_equal(l.per_day, 9);
	assert_int_equal(l.max_recipients, 100);
	l = eff(-1, -1, 3);
	assert_int_equal(l.per_hour, 500);
	assert_int_equal(l.per_day, 2000);
	assert_int_equal(l.max_recipients, 3);
}

/* A budget override of 0 is real: no recipients at all (rate.h, limits.h),
 * never "unset" and never "unlimited". */
static void test_zero_budget_is_none(void **state)
{
	struct account_limits l = eff(0, 0, -1);

	(void)state;
	assert_int_equal(l.per_hour, 0);
	assert_int_equal(l.per_day, 0);
	assert_int_equal(l.max_recipients, 100);
}

/* A per-message cap is at least 1 (hostmailctl and the store refuse 0): a
 * 0 or negative one that got into the store anyway means the default. */
static void test_max_recipients_below_one_is_default(void **state)
{
	(void)state;
	assert_int_equal(eff(-1, -1, 0).max_recipients, 100);
	assert_int_equal(eff(-1, -1, -5).max_recipients, 100);
}

/* Any negative budget override is "the default", not a limit. */
static void test_negative_budget_is_default(void **state)
{
	struct account_limits l = eff(-2, -1000, -1);

	(void)state;
	assert_int_equal(l.per_hour, 500);
	assert_int_equal(l.per_day, 2000);
}

/* The defaults pass through as configured, a 0 budget included. */
static void test_defaults_as_configured(void **state)
{
	struct account_limits ov = { -1, -1, -1 }, d = { 0, 0, 1 }, out;

	(void)state;
	account_limits(&ov, &d, &out);
	assert_int_equal(out.per_hour, 0);
	assert_int_equal(out.per_day, 0);
	assert_int_equal(out.max_recipients, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_overrides_gives_defaults),
		cmocka_unit_test(test_overrides_raise_and_lower),
		cmocka_unit_test(test_overrides_independent),
		cmocka_unit_test(test_zero_budget_is_none),
		cmocka_unit_test(test_max_recipients_below_one_is_default),
		cmocka_unit_test(test_negative_budget_is_default),
		cmocka_unit_test(test_defaults_as_configured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
