/* Unit tests for src/acc/acc_session.c: ids, idle and absolute expiry,
 * eviction when full, logout, flash messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "acc/acc_session.h"

static void test_create_find(void **st)
{
	struct acc_sessions *t = acc_sessions_new(10);
	struct acc_session *a, *b;
	char id[ACC_TOKEN_LEN + 1];

	(void)st;
	a = acc_session_create(t, "acme", 1000);
	b = acc_session_create(t, "other", 1000);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(acc_token_valid(a->id) && acc_token_valid(a->csrf));
	assert_string_not_equal(a->id, b->id);
	assert_string_not_equal(a->id, a->csrf);
	assert_ptr_equal(acc_session_find(t, a->id, 1001), a);
	assert_string_equal(acc_session_find(t, b->id, 1001)->account, "other");
	assert_null(acc_session_find(t, a->csrf, 1001));
	assert_null(acc_session_find(t, "", 1001));
	assert_null(acc_session_find(t, NULL, 1001));
	memcpy(id, a->id, sizeof id);
	acc_session_end(t, a);
	assert_null(acc_session_find(t, id, 1002));
	assert_int_equal(acc_sessions_count(t), 1);
	acc_sessions_free(t);
}

static void test_expiry(void **st)
{
	struct acc_sessions *t = acc_sessions_new(10);
	struct acc_session *a;
	char id[ACC_TOKEN_LEN + 1];
	time_t now = 1000;

	(void)st;
	a = acc_session_create(t, "acme", now);
	memcpy(id, a->id, sizeof id);
	/* used every 20 minutes: alive until the absolute lifetime */
	while (now + 20 * 60 < 1000 + ACC_SESSION_LIFETIME) {
		now += 20 * 60;
		assert_non_null(acc_session_find(t, id, now));
	}
	assert_null(acc_session_find(t, id, 1000 + ACC_SESSION_LIFETIME));
	assert_int_equal(acc_sessions_count(t), 0);

	a = acc_session_create(t, "acme", 5000);
	memcpy(id, a->id, sizeof id);
	assert_non_null(acc_session_find(t, id, 5000 + ACC_SESSION_IDLE - 1));
	assert_null(acc_session_find(t, id, 5000 + 2 * ACC_SESSION_IDLE));
	/* a clock that went backwards ends it too */
	a = acc_session_create(t, "acme", 9000);
	memcpy(id, a->id, sizeof id);
	assert_null(acc_session_find(t, id, 8000));
	acc_sessions_free(t);
}

static void test_eviction_and_flash(void **st)
{
	struct acc_sessions *t = acc_sessions_new(3);
	struct acc_session *s[4];
	char first[ACC_TOKEN_LEN + 1], second[ACC_TOKEN_LEN + 1];

	(void)st;
	s[0] = acc_session_create(t, "a", 100);
	s[1] = acc_session_create(t, "b", 101);
	s[2] = acc_session_create(t, "a", 102);
	memcpy(first, s[0]->id, sizeof first);
	memcpy(second, s[1]->id, sizeof second);
	assert_non_null(acc_session_find(t, first, 103));     /* now the most recent */
	s[3] = acc_session_create(t, "c", 104);               /* evicts b, the least recent */
	assert_int_equal(acc_sessions_count(t), 3);
	assert_null(acc_session_find(t, second, 105));
	assert_non_null(acc_session_find(t, first, 105));
	acc_session_end(t, acc_session_find(t, first, 105));
	assert_int_equal(acc_sessions_count(t), 2);
	acc_session_flash(s[3], 1, "hello");
	assert_string_equal(s[3]->flash, "hello");
	assert_int_equal(s[3]->flash_error, 1);
	acc_sessions_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_find),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_eviction_and_flash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
