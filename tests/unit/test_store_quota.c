/* Unit tests for mailbox quotas and autoresponders in the store
 * (store/store_quota.h, store/store_vacation.h), on both backends
 * (store_backends.h): the account default and the mailbox's own limit,
 * the autoresponder's setting, and one reply per sender per period seen
 * the same from a second store (another node). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "store/store_quota.h"
#include "store/store_vacation.h"
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
	       store_mailbox_add(t->st, "alice@acme.test", "$y$fake", err, sizeof err) ? -1 : 0;
}

#define STORE(state) (((struct tstore *)*(state))->st)

static void test_quota_default_and_own(void **state)
{
	struct store *st = STORE(state);
	struct store_quota q;
	char err[256];

	assert_int_equal(store_quota_get(st, "Alice@ACME.test", &q), 0);
	assert_true(q.bytes == 0 && q.messages == 0 && q.mailbox_bytes == -1);
	assert_int_equal(store_account_set_mailbox_quota(st, "acme", 1000000, -2, err, sizeof err), 0);
	assert_int_equal(store_quota_get(st, "alice@acme.test", &q), 0);
	assert_true(q.bytes == 1000000 && q.account_bytes == 1000000 && q.messages == 0);
	assert_int_equal(store_quota_set(st, "alice@acme.test", 5000, 10, err, sizeof err), 0);
	assert_int_equal(store_quota_get(st, "alice@acme.test", &q), 0);
	assert_true(q.bytes == 5000 && q.messages == 10 && q.mailbox_bytes == 5000);
	assert_int_equal(store_quota_set(st, "alice@acme.test", -1, -2, err, sizeof err), 0);
	assert_int_equal(store_quota_get(st, "alice@acme.test", &q), 0);
	assert_true(q.bytes == 1000000 && q.messages == 10);
	assert_int_equal(store_quota_set(st, "nobody@acme.test", 1, 1, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_quota_set(st, "alice@acme.test", -7, 1, err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_account_set_mailbox_quota(st, "nope", 1, 1, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_quota_get(st, "nobody@acme.test", &q), STORE_ENOTFOUND);
}

static void test_vacation_setting(void **state)
{
	struct store *st = STORE(state);
	struct vacation v, got;
	char err[256];

	assert_int_equal(store_vacation_get(st, "alice@acme.test", &got), 0);
	assert_false(got.enabled);
	memset(&v, 0, sizeof v);
	v.enabled = 1;
	strcpy(v.subject, "Away");
	strcpy(v.text, "Back on Monday.\nAlice");
	strcpy(v.start, "2026-12-01");
	strcpy(v.end, "2026-12-24");
	assert_int_equal(store_vacation_set(st, "alice@acme.test", &v, err, sizeof err), 0);
	assert_int_equal(store_vacation_get(st, "alice@acme.test", &got), 0);
	assert_true(got.enabled);
	assert_string_equal(got.text, v.text);
	assert_string_equal(got.end, "2026-12-24");
	strcpy(v.end, "2026-11-01");
	assert_int_equal(store_vacation_set(st, "alice@acme.test", &v, err, sizeof err), STORE_EINVAL);
	strcpy(v.end, "");
	strcpy(v.subject, "two\nlines");
	assert_int_equal(store_vacation_set(st, "alice@acme.test", &v, err, sizeof err), STORE_EINVAL);
	strcpy(v.subject, "x");
	assert_int_equal(store_vacation_set(st, "nobody@acme.test", &v, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_vacation_get(st, "nobody@acme.test", &got), STORE_ENOTFOUND);
}

static void test_once_per_period_across_nodes(void **state)
{
	struct tstore *t = *state;
	struct store *other = tstore_open(t);
	struct vacation v;
	char err[256];
	time_t now = 1796428800;

	assert_non_null(other);
	assert_int_equal(store_vacation_note(t->st, "alice@acme.test", "Bob@x.test", now, 3600), 1);
	assert_int_equal(store_vacation_note(other, "alice@acme.test", "bob@x.test", now + 10, 3600), 0);
	assert_int_equal(store_vacation_note(t->st, "alice@acme.test", "carol@x.test", now + 10, 3600), 1);
	assert_int_equal(store_vacation_note(other, "alice@acme.test", "bob@x.test", now + 3600, 3600), 1);
	assert_int_equal(store_vacation_note(t->st, "alice@acme.test", "bob@x.test", now + 3601, 3600), 0);
	/* a new setting forgets who was answered */
	memset(&v, 0, sizeof v);
	v.enabled = 1;
	strcpy(v.text, "x");
	assert_int_equal(store_vacation_set(other, "alice@acme.test", &v, err, sizeof err), 0);
	assert_int_equal(store_vacation_note(t->st, "alice@acme.test", "bob@x.test", now + 3602, 3600), 1);
	assert_int_equal(store_vacation_note(t->st, "nobody@acme.test", "bob@x.test", now, 3600), 0);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quota_default_and_own, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_vacation_setting, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_once_per_period_across_nodes, setup, tstore_teardown),
	};
	return tstore_run_groups("store quota", tests);
}
