/*
 * test_sched: the runner's in-memory schedule (src/queue/sched.c): order
 * by due time then id, moving and holding entries anywhere in the heap,
 * the index by id, data and flags, and a long random run checked against
 * a plain array after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "queue/sched.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void id_of(char out[QUEUE_ID_LEN + 1], unsigned n)
{
	snprintf(out, QUEUE_ID_LEN + 1, "%020u", n);
}

static void test_empty(void **state)
{
	struct sched *s = sched_new();

	(void)state;
	assert_non_null(s);
	assert_null(sched_first(s));
	assert_null(sched_pop_due(s, 1000));
	assert_null(sched_find(s, "00000000000000000001"));
	assert_int_equal(sched_count(s), 0);
	assert_int_equal(sched_nwaiting(s), 0);
	sched_free(s);
	sched_free(NULL);
}

static void test_order_by_due_then_id(void **state)
{
	struct sched *s = sched_new();
	struct sched_ent *e;

	(void)state;
	sched_wait(s, sched_add(s, "0000000000000000000C"), 30);
	sched_wait(s, sched_add(s, "0000000000000000000B"), 10);
	sched_wait(s, sched_add(s, "0000000000000000000A"), 30);
	sched_wait(s, sched_add(s, "0000000000000000000D"), 20);
	assert_int_equal(sched_nwaiting(s), 4);
	assert_string_equal(sched_id(sched_first(s)), "0000000000000000000B");
	assert_null(sched_pop_due(s, 9));
	assert_non_null(e = sched_pop_due(s, 10));
	assert_string_equal(sched_id(e), "0000000000000000000B");
	assert_false(sched_is_waiting(e));
	assert_int_equal(sched_count(s), 4);     /* held, still known */
	assert_int_equal(sched_nwaiting(s), 3);
	assert_null(sched_pop_due(s, 19));
	assert_string_equal(sched_id(sched_pop_due(s, 100)), "0000000000000000000D");
	/* same due time: the smaller id (the older message) first */
	assert_string_equal(sched_id(sched_pop_due(s, 100)), "0000000000000000000A");
	assert_string_equal(sched_id(sched_pop_due(s, 100)), "0000000000000000000C");
	assert_null(sched_pop_due(s, 100));
	sched_free(s);
}

static void test_add_find_move_hold_del(void **state)
{
	struct sched *s = sched_new();
	struct sched_ent *a, *b;
	int tag;

	(void)state;
	assert_non_null(a = sched_add(s, "AAAAAAAAAAAAAAAAAAAA"));
	assert_false(sched_is_waiting(a));
	assert_ptr_equal(sched_add(s, "AAAAAAAAAAAAAAAAAAAA"), a);   /* known: the same */
	assert_ptr_equal(sched_find(s, "AAAAAAAAAAAAAAAAAAAA"), a);
	assert_null(sched_find(s, "AAAAAAAAAAAAAAAAAAAB"));
	assert_int_equal(sched_count(s), 1);
	assert_int_equal(sched_nwaiting(s), 0);
	assert_null(sched_first(s));                                /* held: not in the heap */

	b = sched_add(s, "BBBBBBBBBBBBBBBBBBBB");
	sched_wait(s, a, 50);
	sched_wait(s, b, 40);
	assert_ptr_equal(sched_first(s), b);
	sched_wait(s, a, 10);                                       /* earlier */
	assert_ptr_equal(sched_first(s), a);
	assert_int_equal(sched_due(a), 10);
	sched_wait(s, a, 90);                                       /* later */
	assert_ptr_equal(sched_first(s), b);
	sched_hold(s, b);
	sched_hold(s, b);                                           /* twice: no harm */
	assert_ptr_equal(sched_first(s), a);
	assert_int_equal(sched_nwaiting(s), 1);

	sched_set_data(a, &tag);
	sched_set_flags(a, 5);
	assert_ptr_equal(sched_data(sched_find(s, "AAAAAAAAAAAAAAAAAAAA")), &tag);
	assert_int_equal(sched_flags(a), 5);

	sched_del(s, a);                                            /* waiting */
	assert_null(sched_find(s, "AAAAAAAAAAAAAAAAAAAA"));
	assert_null(sched_first(s));
	sched_del(s, b);                                            /* held */
	assert_int_equal(sched_count(s), 0);

	errno = 0;
	assert_null(sched_add(s, "AAAAAAAAAAAAAAAAAAAAA"));         /* 21 characters */
	assert_int_equal(errno, EINVAL);
	sched_free(s);
}

static void count_and_flag(struct sched *s, struct sched_ent *e, void *arg)
{
	(*(size_t *)arg)++;
	sched_set_flags(e, 1);
	sched_wait(s, e, 0);          /* moving entries while walking is allowed */
}

/* Grows past many table and heap sizes; every entry found and visited once. */
static void test_many_and_each(void **state)
{
	enum { N = 100000 };
	struct sched *s = sched_new();
	char id[QUEUE_ID_LEN + 1];
	size_t seen = 0;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		id_of(id, i);
		struct sched_ent *e = sched_add(s, id);
		assert_non_null(e);
		if (i % 3)
			sched_wait(s, e, (time_t)(N - i));
	}
	assert_int_equal(sched_count(s), N);
	for (unsigned i = 0; i < N; i += 997) {
		id_of(id, i);
		assert_non_null(sched_find(s, id));
	}
	sched_each(s, count_and_flag, &seen);
	assert_int_equal(seen, N);
	assert_int_equal(sched_nwaiting(s), N);
	/* all due at 0 now: they come out by id */
	for (unsigned i = 0; i < N; i++) {
		struct sched_ent *e = sched_pop_due(s, 0);
		assert_non_null(e);
		id_of(id, i);
		assert_string_equal(sched_id(e), id);
		assert_int_equal(sched_flags(e), 1);
		sched_del(s, e);
	}
	assert_int_equal(sched_count(s), 0);
	sched_free(s);
}

/* Random adds, moves, holds, deletes and pops, checked after each step
 * against a plain array: the first entry is the minimum of (due, id) of
 * the waiting ones, and every entry is found with what it was given. */
struct model {
	int known, waiting;
	time_t due;
};

static void check_model(struct sched *s, const struct model *m, size_t n)
{
	size_t known = 0, waiting = 0, best = SIZE_MAX;
	char id[QUEUE_ID_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		struct sched_ent *e;
		id_of(id, (unsigned)i);
		e = sched_find(s, id);
		if (!m[i].known) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		known++;
		assert_int_equal(sched_is_waiting(e), m[i].waiting);
		if (!m[i].waiting)
			continue;
		waiting++;
		assert_int_equal(sched_due(e), m[i].due);
		if (best == SIZE_MAX || m[i].due < m[best].due)
			best = i;           /* ties: the lower index is the lower id */
	}
	assert_int_equal(sched_count(s), known);
	assert_int_equal(sched_nwaiting(s), waiting);
	if (best == SIZE_MAX) {
		assert_null(sched_first(s));
	} else {
		id_of(id, (unsigned)best);
		assert_string_equal(sched_id(sched_first(s)), id);
	}
}

static void test_random_against_model(void **state)
{
	enum { N = 300, STEPS = 20000 };
	static struct model m[N];
	struct sched *s = sched_new();
	char id[QUEUE_ID_LEN + 1];
	unsigned seed = 12345;

	(void)state;
	memset(m, 0, sizeof m);
	for (int step = 0; step < STEPS; step++) {
		size_t i = (size_t)rand_r(&seed) % N;
		time_t t = rand_r(&seed) % 50;
		struct sched_ent *e;

		id_of(id, (unsigned)i);
		switch (rand_r(&seed) % 5) {
		case 0: /* add and wait */
		case 1:
			assert_non_null(e = sched_add(s, id));
			sched_wait(s, e, t);
			m[i] = (struct model){ 1, 1, t };
			break;
		case 2: /* hold */
			if ((e = sched_find(s, id))) {
				sched_hold(s, e);
				m[i].waiting = 0;
			}
			break;
		case 3: /* forget */
			if ((e = sched_find(s, id))) {
				sched_del(s, e);
				m[i] = (struct model){ 0, 0, 0 };
			}
			break;
		default: /* pop what is due by t */
			if ((e = sched_pop_due(s, t))) {
				size_t k = (size_t)strtoul(sched_id(e), NULL, 10);
				assert_true(m[k].waiting && m[k].due <= t);
				m[k].waiting = 0;
			}
			break;
		}
		check_model(s, m, N);
	}
	sched_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_by_due_then_id),
		cmocka_unit_test(test_add_find_move_hold_del),
		cmocka_unit_test(test_many_and_each),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
