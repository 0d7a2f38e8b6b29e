/*
 * test_pop3_update: the UPDATE state's decision in a fleet (pop3_update.h):
 * one node always removes; a recorded move, a home elsewhere, a store
 * error or a lock not taken remove nothing, with the right -ERR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pop3/pop3_update.h"
#include "store/store.h"
#include <string.h>

/* Node 13, the account homed here, no move, the lock held. */
static struct pop3_update_facts here(void)
{
	struct pop3_update_facts f = { 13, 1, 0, 13, STORE_ENOTFOUND };
	return f;
}

static void test_one_node_always_removes(void **state)
{
	struct pop3_update_facts f = { 0, 0, STORE_EFAIL, 0, STORE_EFAIL };

	(void)state;
	/* nothing is read without a fleet: whatever the rest says */
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_REMOVE);
	assert_null(pop3_update_refusal(POP3_UPDATE_REMOVE));
}

static void test_fleet_homed_here_removes(void **state)
{
	struct pop3_update_facts f = here();

	(void)state;
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_REMOVE);
	f.server_number = 0;                   /* no server number: served here */
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_REMOVE);
	f = here();
	f.account_rc = STORE_ENOTFOUND;        /* removed meanwhile: nothing moves it */
	f.server_number = 0;
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_REMOVE);
}

static void test_moving_removes_nothing(void **state)
{
	struct pop3_update_facts f = here();

	(void)state;
	f.move_rc = 0;                         /* begun, not switched yet */
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_MOVING);
	f.server_number = 12;                  /* switched, not ended */
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_MOVING);
	f.account_rc = STORE_EFAIL;            /* the move alone is enough */
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_MOVING);
	f = here();
	f.server_number = 12;                  /* ended: the home is another node now */
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_MOVING);
	assert_string_equal(pop3_update_refusal(POP3_UPDATE_MOVING),
	                    "-ERR [SYS/TEMP] deleted messages not removed: your mailbox is being moved, "
	                    "try again in a few minutes");
}

static void test_uncertain_removes_nothing(void **state)
{
	struct pop3_update_facts f = here();

	(void)state;
	f.locked = 0;
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_TEMPFAIL);
	f = here();
	f.move_rc = STORE_EFAIL;
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_TEMPFAIL);
	f = here();
	f.account_rc = STORE_EFAIL;
	assert_int_equal(pop3_update_decide(&f), POP3_UPDATE_TEMPFAIL);
	assert_non_null(strstr(pop3_update_refusal(POP3_UPDATE_TEMPFAIL), "-ERR [SYS/TEMP] deleted messages not removed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_node_always_removes),
		cmocka_unit_test(test_fleet_homed_here_removes),
		cmocka_unit_test(test_moving_removes_nothing),
		cmocka_unit_test(test_uncertain_removes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
