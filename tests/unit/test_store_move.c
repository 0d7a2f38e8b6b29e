/* Unit tests for account moves in the store (store/store_move.h), on both
 * backends (store_backends.h): begin records from and to once (again: the
 * same move), a move to another node meanwhile is refused, a move to the
 * node it lives on is refused, the switch changes the server number in the
 * same step and is idempotent, end forgets the move, removing the account
 * removes its move; and the file names a move may carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "cluster/move_recv.h"
#include "store/store_move.h"
#include "store_backends.h"

#define STORE(state) (((struct tstore *)*(state))->st)

static int server_of(struct store *st, const char *name)
{
	struct account a;

	assert_int_equal(store_account_get(st, name, &a), 0);
	return a.server_number;
}

static void test_begin_switch_end(void **state)
{
	struct store *st = STORE(state);
	struct account_move mv;
	char err[256];

	assert_int_equal(store_account_add(st, "acme", NULL, 13, err, sizeof err), 0);
	assert_int_equal(store_move_get(st, "acme", &mv), STORE_ENOTFOUND);
	assert_int_equal(store_move_begin(st, "nobody", 12, 1000, &mv, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_move_begin(st, "acme", 13, 1000, &mv, err, sizeof err), STORE_EINVAL);
	assert_non_null(strstr(err, "lives on node 13 already"));
	assert_int_equal(store_move_begin(st, "acme", 0, 1000, &mv, err, sizeof err), STORE_EINVAL);

	assert_int_equal(store_move_begin(st, "acme", 12, 1000, &mv, err, sizeof err), 0);
	assert_string_equal(mv.account, "acme");
	assert_int_equal(mv.from_node, 13);
	assert_int_equal(mv.to_node, 12);
	assert_int_equal(mv.switched, 0);
	/* again: the same move, as it was */
	assert_int_equal(store_move_begin(st, "acme", 12, 2000, &mv, err, sizeof err), 0);
	assert_int_equal(mv.started, 1000);
	assert_int_equal(store_move_begin(st, "acme", 11, 2000, &mv, err, sizeof err), STORE_EEXIST);
	assert_non_null(strstr(err, "being moved to node 12"));
	assert_int_equal(mv.to_node, 12);
	assert_int_equal(server_of(st, "acme"), 13);

	assert_int_equal(store_move_switch(st, "acme", err, sizeof err), 0);
	assert_int_equal(server_of(st, "acme"), 12);
	assert_int_equal(store_move_get(st, "acme", &mv), 0);
	assert_int_equal(mv.switched, 1);
	assert_int_equal(mv.from_node, 13);
	assert_int_equal(store_move_switch(st, "acme", err, sizeof err), 0);     /* idempotent */
	assert_int_equal(server_of(st, "acme"), 12);

	assert_int_equal(store_move_end(st, "acme", err, sizeof err), 0);
	assert_int_equal(store_move_get(st, "acme", &mv), STORE_ENOTFOUND);
	assert_int_equal(store_move_end(st, "acme", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_move_switch(st, "acme", err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(server_of(st, "acme"), 12);
}

static void test_removed_with_its_account(void **state)
{
	struct store *st = STORE(state);
	struct account_move mv;
	char err[256];

	assert_int_equal(store_account_add(st, "acme", NULL, 13, err, sizeof err), 0);
	assert_int_equal(store_move_begin(st, "acme", 12, 1000, &mv, err, sizeof err), 0);
	assert_int_equal(store_account_remove(st, "acme", err, sizeof err), 0);
	assert_int_equal(store_account_add(st, "acme", NULL, 13, err, sizeof err), 0);
	assert_int_equal(store_move_get(st, "acme", &mv), STORE_ENOTFOUND);
}

static void test_move_names(void **state)
{
	(void)state;
	assert_true(move_name_ok("1733400000.M1P2Q3.node13,S=120,W=124:2,S"));
	assert_true(move_name_ok("x"));
	assert_false(move_name_ok(""));
	assert_false(move_name_ok(".hidden"));
	assert_false(move_name_ok("a/b"));
	assert_false(move_name_ok("a b"));
	assert_false(move_name_ok("a\nb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_names),
		cmocka_unit_test_setup_teardown(test_begin_switch_end, tstore_setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_removed_with_its_account, tstore_setup, tstore_teardown),
	};
	return tstore_run_groups("store move", tests);
}
