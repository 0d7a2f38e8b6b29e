/* Unit tests for the recipient budgets in the store (store/store_rate.h:
 * rate_reserve, rate_release, rate_get, rate_add), on both backends
 * (store_backends.h): the limits, the windows' rollover, giving back, and
 * many threads on two stores (two nodes) reserving at once never passing
 * a limit by even one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_rate.h"
#include "store/store.h"
#include "store_backends.h"

#define T0 ((time_t)1767225600 + 600)     /* 2026-01-01 00:10 UTC */

static int setup(void **state)
{
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	return store_account_add(((struct tstore *)*state)->st, "acme", NULL, 1, err, sizeof err) ||
	       store_account_add(((struct tstore *)*state)->st, "other", NULL, 1, err, sizeof err) ? -1 : 0;
}

#define STORE(state) (((struct tstore *)*(state))->st)

static void test_hourly_limit(void **state)
{
	struct store *st = STORE(state);
	struct rate_use u;

	assert_int_equal(rate_reserve(st, "acme", T0, 3, 5, 10, &u), 0);
	assert_int_equal(u.hour, 3);
	assert_int_equal(u.day, 3);
	assert_int_equal(u.hour_reset, T0 - 600 + 3600);
	assert_int_equal(u.day_reset, T0 - 600 + 86400);
	assert_int_equal(rate_reserve(st, "acme", T0 + 1, 3, 5, 10, &u), 1);
	assert_int_equal(u.hour, 3);                 /* as it was: nothing counted */
	assert_int_equal(rate_reserve(st, "acme", T0 + 2, 2, 5, 10, &u), 0);
	assert_int_equal(u.hour, 5);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3, 1, 5, 10, &u), 1);
	assert_int_equal(rate_get(st, "acme", T0 + 4, &u), 0);
	assert_int_equal(u.hour, 5);
	assert_int_equal(u.day, 5);
	/* another account's budget is its own */
	assert_int_equal(rate_reserve(st, "other", T0, 5, 5, 10, &u), 0);
	assert_int_equal(u.hour, 5);
	/* a limit of 0 admits nobody; n larger than the limit never fits */
	assert_int_equal(rate_reserve(st, "other", T0 + 3600, 1, 0, 10, &u), 1);
	assert_int_equal(rate_reserve(st, "other", T0 + 3600, 6, 5, 10, &u), 1);
	assert_int_equal(rate_reserve(st, "other", T0 + 3600, 1, 5, 0, &u), 2);
	assert_int_equal(rate_reserve(st, "nobody", T0, 1, 5, 10, &u), STORE_ENOTFOUND);
	assert_int_equal(rate_reserve(st, "acme", T0, -1, 5, 10, &u), STORE_EINVAL);
}

static void test_daily_limit_and_rollover(void **state)
{
	struct store *st = STORE(state);
	struct rate_use u;

	assert_int_equal(rate_reserve(st, "acme", T0, 3, 3, 4, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0, 1, 3, 4, &u), 1);      /* the hour first */
	/* the next hour: its own count starts at 0, the day's goes on */
	assert_int_equal(rate_reserve(st, "acme", T0 + 3600, 1, 3, 4, &u), 0);
	assert_int_equal(u.hour, 1);
	assert_int_equal(u.day, 4);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3600, 1, 3, 4, &u), 2);
	assert_int_equal(u.day, 4);
	/* the next day: both start again */
	assert_int_equal(rate_reserve(st, "acme", T0 + 86400, 3, 3, 4, &u), 0);
	assert_int_equal(u.hour, 3);
	assert_int_equal(u.day, 3);
	assert_int_equal(rate_get(st, "acme", T0 + 86400 + 3600, &u), 0);
	assert_int_equal(u.hour, 0);
	assert_int_equal(u.day, 3);
}

static void test_release(void **state)
{
	struct store *st = STORE(state);
	struct rate_use u;

	assert_int_equal(rate_reserve(st, "acme", T0, 4, 10, 100, &u), 0);
	assert_int_equal(rate_release(st, "acme", T0 + 5, 3), 0);
	assert_int_equal(rate_get(st, "acme", T0 + 6, &u), 0);
	assert_int_equal(u.hour, 1);
	assert_int_equal(u.day, 1);
	assert_int_equal(rate_release(st, "acme", T0, 10), 0);       /* never below 0 */
	assert_int_equal(rate_get(st, "acme", T0, &u), 0);
	assert_int_equal(u.hour, 0);
	assert_int_equal(u.day, 0);
	/* reserved in one hour, given back in the next: only the day's count
	 * is still that window's */
	assert_int_equal(rate_reserve(st, "acme", T0, 2, 10, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3600, 5, 10, 100, &u), 0);
	assert_int_equal(rate_release(st, "acme", T0, 2), 0);
	assert_int_equal(rate_get(st, "acme", T0 + 3600, &u), 0);
	assert_int_equal(u.hour, 5);
	assert_int_equal(u.day, 5);
	assert_int_equal(rate_release(st, "nobody", T0, 1), 0);
}

/* rate_add (the old way: count after the fact) and rate_reserve share the counts. */
static void test_add_and_reserve_agree(void **state)
{
	struct store *st = STORE(state);
	struct rate_use u;

	assert_int_equal(rate_add(st, "acme", T0, 4), 0);
	assert_int_equal(rate_reserve(st, "acme", T0, 2, 5, 100, &u), 1);
	assert_int_equal(u.hour, 4);
	assert_int_equal(rate_reserve(st, "acme", T0, 1, 5, 100, &u), 0);
	assert_int_equal(rate_add(st, "acme", T0, 3), 0);             /* add never refuses */
	assert_int_equal(rate_get(st, "acme", T0, &u), 0);
	assert_int_equal(u.hour, 8);
	assert_int_equal(rate_add(st, "nobody", T0, 1), 0);
	assert_int_equal(rate_get(st, "nobody", T0, &u), 0);
	assert_int_equal(u.hour, 0);
}

/* A node whose clock is a little behind counts into the newer window
 * another node already started, instead of restarting it. */
static void test_clock_skew(void **state)
{
	struct store *st = STORE(state);
	struct rate_use u;

	assert_int_equal(rate_reserve(st, "acme", T0 + 3600, 3, 5, 100, &u), 0);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3000, 3, 5, 100, &u), 1);
	assert_int_equal(rate_reserve(st, "acme", T0 + 3000, 2, 5, 100, &u), 0);
	assert_int_equal(rate_get(st, "acme", T0 + 3600, &u), 0);
	assert_int_equal(u.hour, 5);
}

#define THREADS 8
#define TRIES 150
#define PER_HOUR 400
#define PER_DAY 450

struct racer {
	struct store *st;
	unsigned seed;
	int reserved, refused, failed;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct rate_use u;
	int i, n, rc;

	for (i = 0; i < TRIES; i++) {
		n = 1 + (int)(rand_r(&r->seed) % 3);
		rc = rate_reserve(r->st, "acme", T0 + i % 60, n, PER_HOUR, PER_DAY, &u);
		if (rc == 0) {
			r->reserved += n;
			if (u.hour > PER_HOUR || u.day > PER_DAY)
				r->failed++;
		} else if (rc == 1 || rc == 2) {
			r->refused++;
		} else {
			r->failed++;
		}
		/* now and then give one back, as an aborted transaction does */
		if (rc == 0 && i % 10 == 0) {
			if (rate_release(r->st, "acme", T0 + i % 60, 1) == 0)
				r->reserved--;
			else
				r->failed++;
		}
	}
	return NULL;
}

/* THREADS threads, half on a second store (another node or process),
 * reserve far more than the budget: what they were granted adds up to the
 * stored count exactly, never over the hourly limit, and the limit is
 * reached (within the largest request). */
static void test_concurrent_reservations(void **state)
{
	struct tstore *t = *state;
	struct store *other = tstore_open(t);
	struct racer r[THREADS];
	pthread_t th[THREADS];
	struct rate_use u;
	int i, total = 0, refused = 0;

	assert_non_null(other);
	for (i = 0; i < THREADS; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].st = i % 2 ? other : t->st;
		r[i].seed = (unsigned)i * 7919u + 1;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].failed, 0);
		total += r[i].reserved;
		refused += r[i].refused;
	}
	assert_int_equal(rate_get(t->st, "acme", T0 + 60, &u), 0);
	assert_int_equal(u.hour, total);
	assert_int_equal(u.day, total);
	assert_true(total <= PER_HOUR);
	assert_true(total > PER_HOUR - 3);
	assert_true(refused > 0);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hourly_limit, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_daily_limit_and_rollover, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_add_and_reserve_agree, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_clock_skew, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_reservations, setup, tstore_teardown),
	};
	return tstore_run_groups("store rate", tests);
}
