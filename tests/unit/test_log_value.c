/* Unit tests for log_value() in src/util/log.c: a client's text as the
 * value of a key=value pair. Plain tokens stay bare; anything with a
 * space, a quote, '=' or a backslash is quoted and escaped, so no client
 * text can add a key (a second ip=) or end the quoted value early. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "util/log.h"

static const char *val(const char *s, char *out, size_t cap)
{
	return log_value(s, strlen(s), out, cap);
}

static void t_plain_bare(void **st)
{
	char out[64];

	(void)st;
	assert_string_equal(val("alice@example.com", out, sizeof out), "alice@example.com");
	assert_string_equal(val("192.0.2.1", out, sizeof out), "192.0.2.1");
}

static void t_forged_key_quoted(void **st)
{
	char out[64];

	(void)st;
	assert_string_equal(val("evil ip=6.6.6.6", out, sizeof out), "\"evil ip=6.6.6.6\"");
	assert_string_equal(val("a=b", out, sizeof out), "\"a=b\"");
	assert_string_equal(val("", out, sizeof out), "\"\"");
}

static void t_quotes_and_backslashes_escaped(void **st)
{
	char out[64];

	(void)st;
	/* a closing quote of its own, then a forged key: stays inside */
	assert_string_equal(val("x\" ip=6.6.6.6", out, sizeof out), "\"x\\\" ip=6.6.6.6\"");
	assert_string_equal(val("a\\\" ip=1", out, sizeof out), "\"a\\\\\\\" ip=1\"");
	assert_string_equal(val("tab\there\r\n", out, sizeof out), "\"tab\\x09here\\x0d\\x0a\"");
}

static void t_cut_short_keeps_quote(void **st)
{
	char out[10];

	(void)st;
	val("evil ip=6.6.6.6", out, sizeof out);
	assert_true(strlen(out) < sizeof out);
	assert_int_equal(out[0], '"');
	assert_int_equal(out[strlen(out) - 1], '"');
	/* never an escape cut in half before the closing quote */
	val("\"\"\"\"\"\"\"\"", out, sizeof out);
	assert_string_equal(out, "\"\\\"\\\"\\\"\"");
}

static void t_log_safe_unchanged(void **st)
{
	char out[64];

	(void)st;
	assert_string_equal(log_safe("a b\\c", 5, out, sizeof out), "a b\\x5cc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_plain_bare),
		cmocka_unit_test(t_forged_key_quoted),
		cmocka_unit_test(t_quotes_and_backslashes_escaped),
		cmocka_unit_test(t_cut_short_keeps_quote),
		cmocka_unit_test(t_log_safe_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
