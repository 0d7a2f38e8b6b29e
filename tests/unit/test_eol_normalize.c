/* Unit tests for eol_normalize: bare CR/LF become CRLF, whatever the split. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "smtp/eol_normalize.h"

/* Normalize s fed in pieces of `step` bytes; result into out. */
static size_t run(const char *s, size_t step, char *out, unsigned long *fixed)
{
	struct eol_norm e;
	size_t n = strlen(s), i, o = 0;

	eol_norm_init(&e);
	for (i = 0; i < n; i += step)
		o += eol_norm_feed(&e, s + i, n - i < step ? n - i : step, out + o);
	o += eol_norm_finish(&e, out + o);
	out[o] = '\0';
	*fixed = e.fixed;
	return o;
}

static void check(const char *in, const char *want, unsigned long want_fixed)
{
	char out[256];
	unsigned long fixed;
	size_t step;

	for (step = 1; step <= strlen(in) + 1; step++) {
		run(in, step, out, &fixed);
		assert_string_equal(out, want);
		assert_int_equal(fixed, want_fixed);
	}
}

static void test_crlf_untouched(void **st)
{
	(void)st;
	check("a\r\nb\r\n", "a\r\nb\r\n", 0);
	check("", "", 0);
}

static void test_bare_lf(void **st)
{
	(void)st;
	check("a\nb\n", "a\r\nb\r\n", 2);
	check("x\n.\nMAIL FROM:<a@b>\r\n", "x\r\n.\r\nMAIL FROM:<a@b>\r\n", 2);
}

static void test_bare_cr(void **st)
{
	(void)st;
	check("a\rb", "a\r\nb", 1);
	check("a\r", "a\r\n", 1);
	check("\r\r\n", "\r\n\r\n", 1);
	check("a\r.\r", "a\r\n.\r\n", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crlf_untouched),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_bare_cr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
