/* Unit tests for src/store/ (both backends, store_backends.h): normalization,
 * RCPT lookups, errors, cascades, reopening, threads sharing one store,
 * the rules kept by triggers, and the schema's version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"
#include "policy/relay_auth.h"
#include <time.h>

#include "store_backends.h"

/* A fresh store with account acme, its domain acme.test and alice. */
static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	if (store_account_add(t->st, "acme", "2015-01-01", 3, err, sizeof err) ||
	    store_domain_add(t->st, "acme", "Acme.Test", err, sizeof err) ||
	    store_mailbox_add(t->st, "Alice@acme.test", "$y$fake", err, sizeof err))
		return -1;
	return 0;
}

#define teardown tstore_teardown
#define STORE(state) (((struct tstore *)*(state))->st)

static void test_rcpt_lookup(void **state)
{
	struct store *st = STORE(state);
	int hosted, exists;

	assert_int_equal(store_rcpt_lookup(st, "ALICE", "ACME.TEST", &hosted, &exists), 0);
	assert_true(hosted && exists);
	assert_int_equal(store_rcpt_lookup(st, "bob", "acme.test", &hosted, &exists), 0);
	assert_true(hosted && !exists);
	assert_int_equal(store_rcpt_lookup(st, "alice", "other.test", &hosted, &exists), 0);
	assert_true(!hosted && !exists);
	assert_int_equal(store_rcpt_lookup(st, "alice' OR 1=1 --", "acme.test", &hosted, &exists), 0);
	assert_true(hosted && !exists);
	assert_int_equal(store_rcpt_lookup(st, "a", "[127.0.0.1]", &hosted, &exists), 0);
	assert_false(hosted);
}

static void test_get_and_suspend(void **state)
{
	struct store *st = STORE(state);
	struct mailbox m;
	struct account a;
	char owner[STORE_NAME_MAX], err[256];

	assert_int_equal(store_mailbox_get(st, "alice@ACME.test", &m), 0);
	assert_string_equal(m.address, "alice@acme.test");
	assert_string_equal(m.domain, "acme.test");
	assert_string_equal(m.account, "acme");
	assert_string_equal(m.password_hash, "$y$fake");
	assert_int_equal(m.account_suspended, 0);
	assert_int_equal(store_account_set_suspended(st, "acme", 1, err, sizeof err), 0);
	assert_int_equal(store_mailbox_get(st, "alice@acme.test", &m), 0);
	assert_int_equal(m.account_suspended, 1);
	assert_int_equal(store_account_get(st, "acme", &a), 0);
	assert_true(a.suspended);
	assert_string_equal(a.created, "2015-01-01");
	assert_int_equal(a.server_number, 3);
	assert_int_equal(store_domain_owner(st, "ACME.test", owner, sizeof owner), 0);
	assert_string_equal(owner, "acme");
	assert_int_equal(store_domain_owner(st, "nope.test", owner, sizeof owner), STORE_ENOTFOUND);
	assert_int_equal(store_account_get(st, "nope", &a), STORE_ENOTFOUND);
}

static void test_errors(void **state)
{
	struct store *st = STORE(state);
	char err[256];

	assert_int_equal(store_account_add(st, "other", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_domain_add(st, "other", "acme.test", err, sizeof err), STORE_EEXIST);
	assert_non_null(strstr(err, "acme"));
	assert_int_equal(store_domain_add(st, "ghost", "g.test", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_add(st, "x@unhosted.test", "$y$h", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_add(st, "ALICE@acme.test", "$y$h", err, sizeof err), STORE_EEXIST);
	assert_int_equal(store_mailbox_add(st, "a/b@acme.test", "$y$h", err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_mailbox_add(st, "b@acme.test", "plain", err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_account_add(st, "x", "2011-02-30", 1, err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_mailbox_set_password(st, "zz@acme.test", "$y$h", err, sizeof err), STORE_ENOTFOUND);
}

static int count_cb(const struct mailbox *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

struct nest { struct store *st; int mailboxes; };

/* A callback that queries the store again (the mutex is recursive). */
static int nested_cb(const char *domain, const char *account, void *arg)
{
	struct nest *n = arg;

	(void)account;
	return store_mailbox_list(n->st, domain, count_cb, &n->mailboxes) ? 1 : 0;
}

static void test_nested_and_cascade(void **state)
{
	struct store *st = STORE(state);
	struct nest n = { st, 0 };
	int hosted, exists, count = 0;
	char err[256];

	assert_int_equal(store_domain_list(st, "acme", nested_cb, &n), 0);
	assert_int_equal(n.mailboxes, 1);
	assert_int_equal(store_account_remove(st, "acme", err, sizeof err), 0);
	assert_int_equal(store_rcpt_lookup(st, "alice", "acme.test", &hosted, &exists), 0);
	assert_false(hosted);
	assert_int_equal(store_mailbox_list(st, NULL, count_cb, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(store_account_remove(st, "acme", err, sizeof err), STORE_ENOTFOUND);
}

static void test_reopen(void **state)
{
	struct store *st2;
	struct mailbox m;

	st2 = tstore_open(*state);
	assert_non_null(st2);
	assert_int_equal(store_mailbox_get(st2, "alice@acme.test", &m), 0);
	store_close(st2);
}

static void *reader(void *arg)
{
	struct store *st = arg;
	int hosted, exists, i, bad = 0;

	for (i = 0; i < 300; i++)
		if (store_rcpt_lookup(st, "alice", "acme.test", &hosted, &exists) || !exists)
			bad++;
	return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
	struct store *st = STORE(state);
	pthread_t t[4];
	char addr[64], err[256];
	void *bad;
	int i, count = 0;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, st), 0);
	for (i = 0; i < 100; i++) {
		snprintf(addr, sizeof addr, "u%d@acme.test", i);
		assert_int_equal(store_mailbox_add(st, addr, "$y$h", err, sizeof err), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	assert_int_equal(store_mailbox_list(st, "acme.test", count_cb, &count), 0);
	assert_int_equal(count, 101);
}

/* A POP-before-SMTP grant ends with its mailbox: removed, removed with
 * its domain, or given a new password; other mailboxes' grants stay. */
static void test_relay_grant_follows_mailbox(void **state)
{
	struct store *st = STORE(state);
	struct relay_grant g;
	char err[256];
	time_t now = time(NULL);

	assert_int_equal(store_mailbox_add(st, "bob@acme.test", "$y$fake", err, sizeof err), 0);
	assert_int_equal(relay_auth_grant(st, "192.0.2.1", "alice@acme.test", now + 600), 0);
	assert_int_equal(relay_auth_grant(st, "192.0.2.2", "bob@acme.test", now + 600), 0);
	assert_int_equal(store_mailbox_set_password(st, "alice@acme.test", "$y$fake", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.1", now, &g), 0);   /* same hash: kept */
	assert_int_equal(store_mailbox_set_password(st, "alice@acme.test", "$y$new", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.1", now, &g), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.2", now, &g), 0);
	assert_string_equal(g.account, "acme");
	assert_int_equal(store_mailbox_remove(st, "bob@acme.test", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.2", now, &g), STORE_ENOTFOUND);
	assert_int_equal(relay_auth_grant(st, "192.0.2.1", "alice@acme.test", now + 600), 0);
	assert_int_equal(store_domain_remove(st, "acme.test", err, sizeof err), 0);
	assert_int_equal(relay_auth_lookup(st, "192.0.2.1", now, &g), STORE_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rcpt_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_and_suspend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_and_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_grant_follows_mailbox, setup, teardown),
	};
	return tstore_run_groups("store", tests);
}
