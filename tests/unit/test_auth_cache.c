/* auth_cache: verdicts keyed by (address, stored hash, password), bounded, expiring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include "auth/auth_cache.h"

static const char *H1 = "$y$j9T$salt$hash-one", *H2 = "$y$j9T$salt$hash-two";

static void t_hit_only_for_the_same_three(void **state)
{
	struct auth_cache *c = auth_cache_new(64, 3600, 300);
	int ok = -1;

	(void)state;
	assert_non_null(c);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "secret", 1000, &ok), 0);
	auth_cache_put(c, "a@x.test", H1, "secret", 1, 1000);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "secret", 1001, &ok), 1);
	assert_int_equal(ok, 1);
	/* a wrong password, another mailbox, a changed password hash: misses */
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "secreT", 1001, &ok), 0);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "secret ", 1001, &ok), 0);
	assert_int_equal(auth_cache_get(c, "b@x.test", H1, "secret", 1001, &ok), 0);
	assert_int_equal(auth_cache_get(c, "a@x.test", H2, "secret", 1001, &ok), 0);
	/* no ambiguity at the separators */
	auth_cache_put(c, "a@x.test", "", "pw", 1, 1000);
	assert_int_equal(auth_cache_get(c, "a@x.test", "pw", "", 1001, &ok), 0);
	auth_cache_free(c);
}

static void t_expiry_and_negative_ttl(void **state)
{
	struct auth_cache *c = auth_cache_new(64, 100, 10), *off = auth_cache_new(64, 100, 0);
	struct auth_cache_stats st;
	int ok = -1;

	(void)state;
	auth_cache_put(c, "a@x.test", H1, "right", 1, 1000);
	auth_cache_put(c, "a@x.test", H1, "wrong", 0, 1000);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "wrong", 1009, &ok), 1);
	assert_int_equal(ok, 0);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "wrong", 1010, &ok), 0);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "right", 1099, &ok), 1);
	assert_int_equal(ok, 1);
	assert_int_equal(auth_cache_get(c, "a@x.test", H1, "right", 1100, &ok), 0);
	auth_cache_stats(c, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 2);
	/* negative_ttl 0: wrong passwords are not kept */
	auth_cache_put(off, "a@x.test", H1, "wrong", 0, 1000);
	assert_int_equal(auth_cache_get(off, "a@x.test", H1, "wrong", 1000, &ok), 0);
	/* no cache at all: nothing is ever found */
	auth_cache_put(NULL, "a@x.test", H1, "right", 1, 1000);
	assert_int_equal(auth_cache_get(NULL, "a@x.test", H1, "right", 1000, &ok), 0);
	auth_cache_free(c);
	auth_cache_free(off);
}

/* A storm of wrong guesses through a small cache never evicts a right
 * password's verdict while a wrong one's can go instead. */
static void t_storm_does_not_evict_customers(void **state)
{
	struct auth_cache *c = auth_cache_new(8, 3600, 3600);
	struct auth_cache_stats st;
	char addr[64], guess[64];
	int ok = -1, found = 0;

	(void)state;
	auth_cache_put(c, "customer@x.test", H1, "right", 1, 1000);
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof addr, "victim%d@x.test", i % 50);
		snprintf(guess, sizeof guess, "guess%d", i);
		auth_cache_put(c, addr, H2, guess, 0, 1001 + i / 100);
	}
	found = auth_cache_get(c, "customer@x.test", H1, "right", 1100, &ok);
	assert_int_equal(found, 1);
	assert_int_equal(ok, 1);
	auth_cache_stats(c, &st);
	assert_true(st.evictions > 4900);                /* the table stayed 8 entries */
	auth_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_hit_only_for_the_same_three),
		cmocka_unit_test(t_expiry_and_negative_ttl),
		cmocka_unit_test(t_storm_does_not_evict_customers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
