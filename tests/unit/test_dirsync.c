/*
 * dirsync: the group commit of directory fsyncs. Checks that every caller
 * is answered, that concurrent callers never cost more fsyncs than calls,
 * that a failure reaches the caller with its errno, and that directories
 * are independent of each other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "util/dirsync.h"
#include "tmpdir.h"

static int setup(void **state)
{
	char *d = tmpdir_make("dirsync");

	if (d == NULL)
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_teardown(state);
}

#define THREADS 8
#define CALLS 200

struct arg {
	char dir[PATH_MAX];
	int failures;
};

static void *hammer(void *p)
{
	struct arg *a = p;

	for (int i = 0; i < CALLS; i++)
		if (dirsync(a->dir) < 0)
			a->failures++;
	return NULL;
}

static void test_concurrent_callers_all_answered(void **state)
{
	pthread_t t[THREADS];
	struct arg a[THREADS];
	uint64_t calls0, fsyncs0, calls1, fsyncs1;

	dirsync_stats(&calls0, &fsyncs0);
	for (int i = 0; i < THREADS; i++) {
		/* two directories, so rounds of one never answer the other */
		snprintf(a[i].dir, sizeof a[i].dir, "%s/d%d", (char *)*state, i % 2);
		mkdir(a[i].dir, 0700);
		a[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &a[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
	dirsync_stats(&calls1, &fsyncs1);
	assert_int_equal(calls1 - calls0, THREADS * CALLS);
	assert_true(fsyncs1 - fsyncs0 >= 2);
	assert_true(fsyncs1 - fsyncs0 <= calls1 - calls0);
	printf("%d calls, %llu fsyncs\n", THREADS * CALLS, (unsigned long long)(fsyncs1 - fsyncs0));
}

static void test_failure_reaches_caller(void **state)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/missing", (char *)*state);
	errno = 0;
	assert_int_equal(dirsync(p), -1);
	assert_int_equal(errno, ENOENT);
	/* the failed round is sticky only for its own tickets: once the
	 * directory exists, a new call succeeds */
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(dirsync(p), 0);
}

static void test_parent(void **state)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/some-file", (char *)*state);
	assert_int_equal(dirsync_parent(p), 0);
	snprintf(p, sizeof p, "%s/no-such-dir/some-file", (char *)*state);
	assert_int_equal(dirsync_parent(p), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent_callers_all_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_reaches_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
