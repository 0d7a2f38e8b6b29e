/* Unit tests for src/util/log.c: the flood limits. An identical warning is
 * written once per window and then summed up; keyed lines (per client)
 * get a burst per key and per format; info lines and distinct warnings
 * pass; many threads logging at once lose no count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>
#include "util/log.h"

static long long fake_ms;
static long long fake_clock(void) { return fake_ms; }

static char *out_buf;
static size_t out_len, out_cap;

static void sink(const char *line)
{
	size_t n = strlen(line);

	if (out_len + n + 1 > out_cap) {
		out_cap = (out_len + n + 1) * 2;
		out_buf = realloc(out_buf, out_cap);
		assert_non_null(out_buf);
	}
	memcpy(out_buf + out_len, line, n + 1);
	out_len += n;
}

static int setup(void **st)
{
	(void)st;
	fake_ms = 1000000;
	out_len = 0;
	log_set_test_hooks(sink, fake_clock);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	log_set_test_hooks(NULL, NULL);
	free(out_buf);
	out_buf = NULL;
	out_len = out_cap = 0;
	return 0;
}

static size_t count(const char *needle)
{
	size_t n = 0;
	const char *p = out_buf;

	while (p && (p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static void t_identical_warning_once_then_summed(void **st)
{
	(void)st;
	for (int i = 0; i < 81234; i++)
		log_warn("accept: %s", "Too many open files");
	assert_int_equal(count("accept: Too many open files"), 1);
	fake_ms += LOG_WINDOW_S * 1000;
	log_tick();
	assert_int_equal(count("accept: Too many open files (repeated 81233 times in the last 10 s)"), 1);
	/* a new window: written again */
	log_warn("accept: %s", "Too many open files");
	assert_int_equal(count("accept: Too many open files"), 3);
	fake_ms += LOG_WINDOW_S * 1000;
	log_tick();                               /* nothing suppressed: no summary */
	assert_int_equal(count("repeated"), 1);
}

static void t_distinct_and_info_pass(void **st)
{
	(void)st;
	log_warn("one");
	log_warn("two");
	log_info("reload: done");
	log_info("reload: done");
	assert_int_equal(count("warning: one"), 1);
	assert_int_equal(count("warning: two"), 1);
	assert_int_equal(count("info: reload: done"), 2);
}

static void t_keyed_burst_per_client(void **st)
{
	(void)st;
	for (int i = 0; i < 1000; i++)
		log_warn_key("10.0.0.5", "pop3 authentication failed: ip=%s user=%s", "10.0.0.5", "a@b");
	log_warn_key("10.0.0.6", "pop3 authentication failed: ip=%s user=%s", "10.0.0.6", "a@b");
	/* fail2ban still sees each of the first failures */
	assert_int_equal(count("failed: ip=10.0.0.5 user=a@b\n"), LOG_KEY_BURST);
	assert_int_equal(count("failed: ip=10.0.0.6 user=a@b\n"), 1);
	fake_ms += LOG_WINDOW_S * 1000 + 1;
	log_tick();
	assert_int_equal(count("(and 995 more such lines for 10.0.0.5 in the last 10 s)"), 1);
	assert_int_equal(count("more such lines for 10.0.0.6"), 0);
}

static void t_keyed_cap_per_format(void **st)
{
	char ip[32];

	(void)st;
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof ip, "10.1.%d.%d", i / 256, i % 256);
		log_warn_key(ip, "smtp: ip=%s refused: too many connections", ip);
	}
	assert_int_equal(count("refused: too many connections\n"), LOG_FMT_BURST);
	fake_ms += LOG_WINDOW_S * 1000;
	log_warn("later");                        /* any line retires the window */
	assert_int_equal(count("(and 800 more such lines from other addresses in the last 10 s)"), 1);
}

static void t_bounded_bytes(void **st)
{
	char ip[32];

	(void)st;
	/* a minute of a flood from 50 addresses, 1000 lines each a second */
	for (int s = 0; s < 60; s++) {
		for (int i = 0; i < 50 * 1000; i++) {
			snprintf(ip, sizeof ip, "10.2.0.%d", i % 50);
			log_warn_key(ip, "acc: ip=%s login failed for account=%s", ip, "x");
			log_warn("accept: Too many open files");
		}
		fake_ms += 1000;
	}
	/* per window: 5 lines and a summary per address, 2 lines for the repeat */
	assert_true(out_len < 6 * (50 * 6 + 2) * 200);
}

#define NTHREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		log_warn("worker: the same thing");
	return NULL;
}

static void t_threads(void **st)
{
	pthread_t t[NTHREADS];
	char want[128];

	(void)st;
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	fake_ms += LOG_WINDOW_S * 1000;
	log_tick();
	snprintf(want, sizeof want, "worker: the same thing (repeated %d times", NTHREADS * PER_THREAD - 1);
	assert_int_equal(count(want), 1);
	assert_int_equal(count("worker: the same thing"), 2);
}

static void t_full_table_evicts_with_summary(void **st)
{
	char msg[64];

	(void)st;
	log_warn("first");
	log_warn("first");
	for (int i = 0; i < 100; i++) {
		fake_ms++;
		snprintf(msg, sizeof msg, "distinct %d", i);
		log_warn("%s", msg);
	}
	/* "first" was the oldest: evicted, its count not lost */
	assert_int_equal(count("first (repeated 1 times"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_identical_warning_once_then_summed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_distinct_and_info_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(t_keyed_burst_per_client, setup, teardown),
		cmocka_unit_test_setup_teardown(t_keyed_cap_per_format, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bounded_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(t_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(t_full_table_evicts_with_summary, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
