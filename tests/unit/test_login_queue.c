/* Unit tests for src/auth/login_queue.c: checks leave round-robin across
 * services, then across addresses; the per-service and per-address bounds
 * refuse at once; what still waits at the end runs in login_queue_free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <event2/event.h>
#include <cmocka.h>
#include "auth/login_queue.h"
#include "util/workers.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char order[64][8];
static int nrun, ndone;

static void work(void *arg)
{
	pthread_mutex_lock(&mu);
	snprintf(order[nrun++], sizeof order[0], "%s", (const char *)arg);
	pthread_mutex_unlock(&mu);
}

static void done(void *arg)
{
	(void)arg;
	ndone++;
}

static int submit_as(struct login_queue *q, enum login_service svc, const char *ip, const char *user,
                     const char *name)
{
	return login_queue_submit(q, svc, ip, user, 8, 4, work, done, (void *)name);
}

static int submit(struct login_queue *q, enum login_service svc, const char *ip, const char *name)
{
	return submit_as(q, svc, ip, "someone@x.test", name);
}

/* Run the loop until n checks are done, check their order, free it all. */
static void run_expecting(struct event_base *base, struct login_queue *q, struct workers *w,
                          const char *const *want, int n)
{
	for (int loops = 0; ndone < n && loops < 1000; loops++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(ndone, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(order[i], want[i]);
	login_queue_free(q);
	workers_stop(w);
	event_base_free(base);
}

static void t_round_robin(void **st)
{
	struct event_base *base = event_base_new();
	struct workers *w = workers_start(base, 1);
	struct login_queue *q = login_queue_new(w, 1);
	static const char *want[] = { "A1", "D1", "C1", "A2", "B1", "A3", "A4", "A5" };

	(void)st;
	nrun = ndone = 0;
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.1", "A1"), 0);     /* runs at once */
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.1", "A2"), 0);
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.1", "A3"), 0);
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.1", "A4"), 0);
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.1", "A5"), 0);
	/* four from 10.0.0.1 wait: the fifth is refused, whatever the service */
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.1", "A6"), -1);
	assert_int_equal(submit(q, LOGIN_POP3, "10.0.0.1", "A7"), -1);
	assert_int_equal(submit(q, LOGIN_ACC, "10.0.0.2", "B1"), 0);
	assert_int_equal(submit(q, LOGIN_POP3, "10.0.0.3", "C1"), 0);
	assert_int_equal(submit(q, LOGIN_SMTP, "10.0.0.4", "D1"), 0);
	assert_int_equal(login_queue_waiting(q), 7);
	run_expecting(base, q, w, want, 8);
}

static void t_service_bound_and_free_runs_the_rest(void **st)
{
	struct event_base *base = event_base_new();
	struct workers *w = workers_start(base, 1);
	struct login_queue *q = login_queue_new(w, 1);
	char ips[16][24];

	(void)st;
	nrun = ndone = 0;
	for (int i = 0; i < 9; i++) {                 /* one running, eight waiting */
		snprintf(ips[i], sizeof ips[i], "10.0.1.%d", i);
		assert_int_equal(submit(q, LOGIN_SMTP, ips[i], "x"), 0);
	}
	/* SMTP's share is full; POP3's is not */
	assert_int_equal(submit(q, LOGIN_SMTP, "10.0.2.1", "y"), -1);
	assert_int_equal(submit(q, LOGIN_POP3, "10.0.2.1", "z"), 0);
	assert_int_equal(login_queue_waiting(q), 9);
	workers_stop(w);                              /* the running one's done() */
	login_queue_free(q);                          /* the waiting ones, here */
	assert_int_equal(ndone, 10);
	assert_int_equal(nrun, 10);
	event_base_free(base);
}

/* A storm from many addresses guessing at one mailbox: another
 * mailbox's check is next after one of the storm's, whatever the number
 * of addresses; within the attacked mailbox, its addresses take turns. */
static void t_usernames_then_addresses(void **st)
{
	struct event_base *base = event_base_new();
	struct workers *w = workers_start(base, 1);
	struct login_queue *q = login_queue_new(w, 1);
	static const char *want[] = { "S0", "S1", "C1", "S2", "S3", "S4", "S5", "V1" };
	char ip[24];

	(void)st;
	nrun = ndone = 0;
	for (int i = 0; i < 6; i++) {                /* S0 runs at once */
		static const char *names[] = { "S0", "S1", "S2", "S3", "S4", "S5" };

		snprintf(ip, sizeof ip, "198.51.100.%d", i);
		assert_int_equal(submit_as(q, LOGIN_POP3, ip, "Victim@x.test", names[i]), 0);
	}
	assert_int_equal(submit_as(q, LOGIN_POP3, "192.0.2.7", "customer@x.test", "C1"), 0);
	/* the same mailbox in other case, from a storm address: its turn */
	assert_int_equal(submit_as(q, LOGIN_POP3, "198.51.100.1", "victim@X.TEST", "V1"), 0);
	run_expecting(base, q, w, want, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_round_robin),
		cmocka_unit_test(t_usernames_then_addresses),
		cmocka_unit_test(t_service_bound_and_free_runs_the_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
