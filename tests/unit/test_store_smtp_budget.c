/* Unit tests for src/smtp/smtp_budget.c, on both store backends
 * (store_backends.h; named test_store_* so make unit-pg runs it too): what
 * a transaction reserved at RCPT is taken from it once (never given back
 * twice) and given back to the windows it was reserved in, also when the
 * transaction lasted past HH:00. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_rate.h"
#include "smtp/smtp_session_int.h"
#include "store/store.h"
#include "store_backends.h"

#define T0 ((time_t)1767225600 + 600)     /* 2026-01-01 00:10 UTC; T0 + 3000 is 01:00 */
#define STORE(state) (((struct tstore *)*(state))->st)

static int setup(void **state)
{
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	return store_account_add(STORE(state), "acme", NULL, 1, err, sizeof err) ? -1 : 0;
}

/* A transaction whose recipients were reserved at these times (0: none). */
static struct smtp_tx *tx_with(const time_t *at, size_t n)
{
	struct smtp_tx *tx = calloc(1, sizeof *tx);

	assert_non_null(tx);
	assert_non_null(tx->rcpts = calloc(n, sizeof *tx->rcpts));
	tx->nrcpt = tx->rcpt_cap = n;
	for (size_t i = 0; i < n; i++) {
		tx->rcpts[i].reserved_at = at[i];
		tx->nreserved += at[i] != 0;
	}
	return tx;
}

static void tx_done(struct smtp_tx *tx)
{
	free(tx->rcpts);
	free(tx);
}

static void test_take_once_and_give_back(void **state)
{
	struct store *st = STORE(state);
	const time_t at[] = { T0 + 10, 0, T0 + 20 };
	struct smtp_tx *tx = tx_with(at, 3);
	struct rate_use u;

	assert_int_equal(rate_reserve(st, "acme", T0 + 10, 1, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 20, 1, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 30, 3, 10, 100, &u), 0);   /* another transaction's */
	struct budget_give *g = budget_take(st, "acme", tx);
	assert_non_null(g);
	assert_int_equal(tx->nreserved, 0);
	for (size_t i = 0; i < tx->nrcpt; i++)
		assert_int_equal(tx->rcpts[i].reserved_at, 0);
	assert_null(budget_take(st, "acme", tx));          /* nothing left to give twice */
	budget_give_now(g);
	assert_int_equal(rate_get(st, "acme", T0 + 40, &u), 0);
	assert_int_equal(u.hour, 3);
	assert_int_equal(u.day, 3);
	/* one reservation no recipient took */
	assert_int_equal(rate_reserve(st, "acme", T0 + 50, 1, 10, 100, &u), 0);
	budget_give_now(budget_one(st, "acme", T0 + 50));
	assert_int_equal(rate_get(st, "acme", T0 + 60, &u), 0);
	assert_int_equal(u.hour, 3);
	/* kept (committed): only freed */
	tx_done(tx);
	tx = tx_with(at, 3);
	budget_free(budget_take(st, "acme", tx));
	assert_null(budget_take(st, "acme", tx));
	assert_null(budget_take(st, "acme", NULL));
	tx_done(tx);
}

/* A transaction open across 01:00: each reservation goes back to its own
 * hour (the one gone by is not touched) and to the day. */
static void test_give_back_across_the_hour(void **state)
{
	struct store *st = STORE(state);
	const time_t at[] = { T0 + 2990, T0 + 2995, T0 + 3010, T0 + 3020 };
	struct smtp_tx *tx = tx_with(at, 4);
	struct rate_use u;

	assert_int_equal(rate_reserve(st, "acme", T0 + 2990, 1, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 2995, 1, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3010, 1, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3020, 1, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3030, 5, 10, 100, &u), 0);  /* someone else's */
	assert_int_equal(rate_get(st, "acme", T0 + 3040, &u), 0);
	assert_int_equal(u.hour, 7);
	assert_int_equal(u.day, 9);
	budget_give_now(budget_take(st, "acme", tx));
	assert_int_equal(rate_get(st, "acme", T0 + 3040, &u), 0);
	assert_int_equal(u.hour, 5);
	assert_int_equal(u.day, 5);
	tx_done(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_once_and_give_back, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_give_back_across_the_hour, setup, tstore_teardown),
	};
	return tstore_run_groups("smtp budget", tests);
}
