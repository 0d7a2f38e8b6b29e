/* Unit tests for the per-domain spam choice (store/store_spam.h) on both
 * backends (store_backends.h): the default, each choice set and read back
 * (also by another store: another node), back to the default, bad input,
 * unknown domains, a removed domain taking its choice along. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "store/store_spam.h"
#include "store_backends.h"

static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	return store_account_add(t->st, "acme", NULL, 1, err, sizeof err) ||
	       store_domain_add(t->st, "acme", "acme.test", err, sizeof err) ||
	       store_domain_add(t->st, "acme", "other.test", err, sizeof err) ? -1 : 0;
}

static const char *get(struct store *st, const char *domain)
{
	static char out[STORE_SPAM_ACTION_MAX];

	strcpy(out, "junk");
	assert_int_equal(store_domain_spam_action(st, domain, out, sizeof out), 0);
	return out;
}

static void test_set_and_get(void **state)
{
	struct tstore *t = *state;
	static const char *const choices[] = { "subject", "refuse", "headers" };
	struct store *other;
	char err[256];

	assert_string_equal(get(t->st, "acme.test"), "");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(store_domain_set_spam_action(t->st, "acme.test", choices[i], err, sizeof err), 0);
		assert_string_equal(get(t->st, "ACME.test"), choices[i]);
	}
	assert_string_equal(get(t->st, "other.test"), "");    /* per domain */
	assert_non_null(other = tstore_open(t));
	assert_string_equal(get(other, "acme.test"), "headers");
	store_close(other);
	assert_int_equal(store_domain_set_spam_action(t->st, "acme.test", "default", err, sizeof err), 0);
	assert_string_equal(get(t->st, "acme.test"), "");
	assert_int_equal(store_domain_set_spam_action(t->st, "acme.test", "", err, sizeof err), 0);
	assert_string_equal(get(t->st, "acme.test"), "");
}

static void test_refused(void **state)
{
	struct tstore *t = *state;
	char err[256], out[STORE_SPAM_ACTION_MAX];

	assert_int_equal(store_domain_set_spam_action(t->st, "acme.test", "delete", err, sizeof err), STORE_EINVAL);
	assert_non_null(strstr(err, "delete is not a spam choice"));
	assert_int_equal(store_domain_set_spam_action(t->st, "acme.test", "Refuse", err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_domain_set_spam_action(t->st, "nope.test", "refuse", err, sizeof err),
	                 STORE_ENOTFOUND);
	assert_string_equal(err, "domain nope.test does not exist");
	assert_int_equal(store_domain_set_spam_action(t->st, "nope.test", "default", err, sizeof err),
	                 STORE_ENOTFOUND);
	assert_string_equal(err, "domain nope.test does not exist");
	assert_int_equal(store_domain_set_spam_action(t->st, "bad..name", "refuse", err, sizeof err),
	                 STORE_ENOTFOUND);
	assert_int_equal(store_domain_spam_action(t->st, "nope.test", out, sizeof out), STORE_ENOTFOUND);
	assert_string_equal(out, "");
	assert_int_equal(store_domain_spam_action(t->st, "", out, sizeof out), STORE_ENOTFOUND);
}

static void test_removed_with_domain(void **state)
{
	struct tstore *t = *state;
	char err[256];

	assert_int_equal(store_domain_set_spam_action(t->st, "acme.test", "refuse", err, sizeof err), 0);
	assert_int_equal(store_domain_remove(t->st, "acme.test", err, sizeof err), 0);
	assert_int_equal(store_domain_add(t->st, "acme", "acme.test", err, sizeof err), 0);
	assert_string_equal(get(t->st, "acme.test"), "");     /* the old choice went with it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_and_get, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_removed_with_domain, setup, tstore_teardown),
	};
	return tstore_run_groups("store spam", tests);
}
