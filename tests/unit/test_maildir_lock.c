/*
 * test_maildir_lock: the Maildir lock between a POP3 QUIT and an account
 * move (delivery/maildir_lock.h): exclusive (two opens in one process
 * exclude each other, as two processes do), the wait bounded (ETIMEDOUT),
 * free again once released, a missing directory an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "delivery/maildir_lock.h"
#include "tmpdir.h"
#include <errno.h>

static int setup(void **state)
{
	*state = tmpdir_make("mdlock");
	return 0;
}

static void test_exclusive_and_bounded(void **state)
{
	const char *dir = *state;
	int a, b;

	a = maildir_lock(dir, 0);
	assert_true(a >= 0);
	errno = 0;
	assert_int_equal(maildir_lock(dir, 100), -1);
	assert_int_equal(errno, ETIMEDOUT);
	maildir_unlock(a);
	b = maildir_lock(dir, 0);
	assert_true(b >= 0);
	maildir_unlock(b);
	maildir_unlock(-1);                    /* ignored */
}

static void test_missing_directory(void **state)
{
	char path[512];

	snprintf(path, sizeof path, "%s/none", (const char *)*state);
	errno = 0;
	assert_int_equal(maildir_lock(path, 0), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exclusive_and_bounded),
		cmocka_unit_test(test_missing_directory),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
