/* Unit tests for the routing data in the store (store/store_alias.h), on
 * both backends (store_backends.h): aliases set, replaced, listed and
 * removed, with their targets normalized; catch-all on and off; the
 * account contact with its default (the first mailbox); a removed domain
 * or account taking its rows along; a second store (another node) seeing
 * the same data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "store/store_alias.h"
#include "store_backends.h"

#define STORE(state) (((struct tstore *)*(state))->st)

static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	return store_account_add(t->st, "acme", NULL, 1, err, sizeof err) ||
	       store_domain_add(t->st, "acme", "acme.test", err, sizeof err) ||
	       store_mailbox_add(t->st, "bob@acme.test", "$6$x$y", err, sizeof err) ||
	       store_mailbox_add(t->st, "alice@acme.test", "$6$x$y", err, sizeof err) ? -1 : 0;
}

static void test_targets_normalize(void **state)
{
	char out[ALIAS_TARGETS_LEN], err[256];
	int n;

	(void)state;
	assert_int_equal(alias_targets_normalize("Bob@ACME.test, x@other.example,bob@acme.test", out, sizeof out,
	                                         &n, err, sizeof err), 0);
	assert_string_equal(out, "bob@acme.test,x@other.example");
	assert_int_equal(n, 2);
	assert_int_equal(alias_targets_normalize(" , ", out, sizeof out, &n, err, sizeof err), STORE_EINVAL);
	assert_int_equal(alias_targets_normalize("not-an-address", out, sizeof out, &n, err, sizeof err),
	                 STORE_EINVAL);
	assert_int_equal(alias_targets_normalize("a@b.example,<c@d.example>", out, sizeof out, &n, err, sizeof err),
	                 STORE_EINVAL);
}

static int collect(const struct alias *a, void *arg)
{
	char *out = arg;

	strcat(out, a->address);
	strcat(out, "=");
	strcat(out, a->targets);
	strcat(out, ";");
	return 0;
}

static void test_alias_crud(void **state)
{
	struct store *st = STORE(state);
	struct alias a;
	char err[256], got[2048] = "";

	assert_int_equal(store_alias_set(st, "Sales@acme.test", "bob@acme.test,ext@remote.example", err, sizeof err), 0);
	assert_int_equal(store_alias_get(st, "sales@ACME.test", &a), 0);
	assert_string_equal(a.address, "sales@acme.test");
	assert_string_equal(a.domain, "acme.test");
	assert_string_equal(a.account, "acme");
	assert_string_equal(a.targets, "bob@acme.test,ext@remote.example");
	/* set again replaces */
	assert_int_equal(store_alias_set(st, "sales@acme.test", "alice@acme.test", err, sizeof err), 0);
	assert_int_equal(store_alias_get(st, "sales@acme.test", &a), 0);
	assert_string_equal(a.targets, "alice@acme.test");
	assert_int_equal(store_alias_set(st, "info@acme.test", "info@acme.test,bob@acme.test", err, sizeof err), 0);
	assert_int_equal(store_alias_list(st, "acme.test", collect, got), 0);
	assert_string_equal(got, "info@acme.test=info@acme.test,bob@acme.test;sales@acme.test=alice@acme.test;");
	assert_int_equal(store_alias_set(st, "x@nothosted.example", "bob@acme.test", err, sizeof err),
	                 STORE_ENOTFOUND);
	assert_int_equal(store_alias_remove(st, "sales@acme.test", err, sizeof err), 0);
	assert_int_equal(store_alias_remove(st, "sales@acme.test", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_alias_get(st, "sales@acme.test", &a), STORE_ENOTFOUND);
	/* the domain takes its aliases along */
	assert_int_equal(store_domain_remove(st, "acme.test", err, sizeof err), 0);
	assert_int_equal(store_alias_get(st, "info@acme.test", &a), STORE_ENOTFOUND);
}

static void test_catchall(void **state)
{
	struct tstore *t = *state;
	struct store *other;
	char err[256], out[320];

	assert_int_equal(store_catchall_get(t->st, "acme.test", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(store_catchall_set(t->st, "acme.test", "Bob@acme.test", err, sizeof err), 0);
	assert_int_equal(store_catchall_set(t->st, "acme.test", "alice@acme.test", err, sizeof err), 0);
	assert_non_null(other = tstore_open(t));
	assert_int_equal(store_catchall_get(other, "ACME.test", out, sizeof out), 0);
	assert_string_equal(out, "alice@acme.test");
	store_close(other);
	assert_int_equal(store_catchall_set(t->st, "acme.test", NULL, err, sizeof err), 0);
	assert_int_equal(store_catchall_get(t->st, "acme.test", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(store_catchall_set(t->st, "nothosted.example", "a@acme.test", err, sizeof err),
	                 STORE_ENOTFOUND);
	assert_int_equal(store_catchall_set(t->st, "acme.test", "bad", err, sizeof err), STORE_EINVAL);
}

static void test_contact(void **state)
{
	struct store *st = STORE(state);
	char err[256], out[320];
	int dflt = -1;

	assert_int_equal(store_account_get_contact(st, "acme", out, sizeof out, &dflt), 0);
	assert_string_equal(out, "alice@acme.test");    /* the first mailbox */
	assert_int_equal(dflt, 1);
	assert_int_equal(store_account_set_contact(st, "acme", "Admin@Elsewhere.example", err, sizeof err), 0);
	assert_int_equal(store_account_get_contact(st, "acme", out, sizeof out, &dflt), 0);
	assert_string_equal(out, "admin@elsewhere.example");
	assert_int_equal(dflt, 0);
	assert_int_equal(store_account_set_contact(st, "acme", NULL, err, sizeof err), 0);
	assert_int_equal(store_account_get_contact(st, "acme", out, sizeof out, &dflt), 0);
	assert_string_equal(out, "alice@acme.test");
	assert_int_equal(store_account_set_contact(st, "nobody", "a@b.example", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_account_get_contact(st, "nobody", out, sizeof out, NULL), STORE_ENOTFOUND);
	assert_int_equal(store_account_add(st, "empty", NULL, 1, err, sizeof err), 0);
	assert_int_equal(store_account_get_contact(st, "empty", out, sizeof out, &dflt), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets_normalize),
		cmocka_unit_test_setup_teardown(test_alias_crud, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_catchall, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_contact, setup, tstore_teardown),
	};
	return tstore_run_groups("store alias", tests);
}
