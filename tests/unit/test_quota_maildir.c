/* Unit tests for the maildirsize file of a real Maildir
 * (delivery/quota_maildir.c): made by a recalculation from new/ and cur/,
 * kept by appended lines, recalculated when too long, damaged or for
 * another quota; a Maildir that does not exist yet is empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "delivery/quota.h"
#include "tmpdir.h"

static void put_file(const char *dir, const char *name, const char *text)
{
	char p[600];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void read_mds(const char *md, char *out, size_t outlen)
{
	char p[600];
	FILE *f;
	size_t n;

	snprintf(p, sizeof p, "%s/maildirsize", md);
	assert_non_null(f = fopen(p, "r"));
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void test_recalc_add_and_stale(void **state)
{
	char *md = tmpdir_make("quota"), sub[600], text[8192];
	struct quota_limit q = { 100000, 0 }, q2 = { 50000, 10 };
	struct quota_usage u;

	(void)state;
	for (const char *s = "new\0cur\0tmp\0"; *s; s += strlen(s) + 1) {
		snprintf(sub, sizeof sub, "%s/%s", md, s);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	snprintf(sub, sizeof sub, "%s/new", md);
	put_file(sub, "1.M1P1.h,S=1000,W=1020", "ignored: S= counts");
	snprintf(sub, sizeof sub, "%s/cur", md);
	put_file(sub, "2.M2P2.h:2,S", "twelve bytes");   /* no S=: its size */
	assert_int_equal(quota_maildir_usage(md, &q, &u), 0);
	assert_int_equal(u.bytes, 1012);
	assert_int_equal(u.messages, 2);
	read_mds(md, text, sizeof text);
	assert_string_equal(text, "100000S\n1012 2\n");
	/* a delivery and a deletion: appended, read back */
	assert_int_equal(quota_maildir_add(md, 500, 1), 0);
	assert_int_equal(quota_maildir_add(md, -12, -1), 0);
	assert_int_equal(quota_maildir_usage(md, &q, &u), 0);
	assert_int_equal(u.bytes, 1500);
	assert_int_equal(u.messages, 2);
	/* another quota: recalculated from the files (the 500 was never a file) */
	assert_int_equal(quota_maildir_usage(md, &q2, &u), 0);
	assert_int_equal(u.bytes, 1012);
	read_mds(md, text, sizeof text);
	assert_string_equal(text, "50000S,10C\n1012 2\n");
	/* too long: recalculated */
	for (int i = 0; i < 1400; i++)   /* 4 bytes each: past 5120 */
		assert_int_equal(quota_maildir_add(md, 1, 0), 0);
	assert_int_equal(quota_maildir_usage(md, &q2, &u), 0);
	assert_int_equal(u.bytes, 1012);
	/* damaged (a cut line): recalculated */
	put_file(md, "maildirsize", "50000S,10C\n99999 1\n12");
	assert_int_equal(quota_maildir_usage(md, &q2, &u), 0);
	assert_int_equal(u.bytes, 1012);
	tmpdir_rm(md);
	free(md);
}

static void test_missing_maildir(void **state)
{
	struct quota_limit q = { 1000, 0 };
	struct quota_usage u = { 7, 7 };
	char path[600];

	(void)state;
	assert_int_equal(quota_maildir_usage("/nonexistent/hm-quota-test", &q, &u), 0);
	assert_int_equal(u.bytes, 0);
	assert_int_equal(u.messages, 0);
	assert_int_equal(quota_maildir_add("/nonexistent/hm-quota-test", 5, 1), 0);
	assert_int_equal(quota_maildir_path("/data", "alice@acme.test", path, sizeof path), 0);
	assert_string_equal(path, "/data/mail/acme.test/alice");
	assert_int_equal(quota_maildir_path("/data", "../x@acme.test", path, sizeof path), -1);
	assert_int_equal(quota_maildir_path("/data", "a/b@acme.test", path, sizeof path), -1);
	assert_int_equal(quota_maildir_path("/data", "noat", path, sizeof path), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recalc_add_and_stale),
		cmocka_unit_test(test_missing_maildir),
	};
	return cmocka_run_group_tests_name("quota maildir", tests, NULL, NULL);
}
