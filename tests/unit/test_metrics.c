/* Unit tests for src/metrics/: the registry and its text exposition
 * (format 0.0.4). Counters get _total and a 0 before their first event,
 * label values are escaped, histogram buckets are cumulative with the
 * count equal to +Inf, the refusal reasons map reply codes, and many
 * threads counting at once lose nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>
#include "metrics/metrics.h"
#include "util/buf.h"

static char *render(struct metrics *m, struct buf *b)
{
	buf_init(b, 0);
	assert_int_equal(metrics_render(m, b), 0);
	return b->data;
}

static void t_counter_and_help(void **st)
{
	struct metrics *m = metrics_new();
	struct buf b;
	char *t;

	(void)st;
	t = render(m, &b);
	assert_non_null(strstr(t, "# TYPE hostmail_messages_queued_total counter\n"));
	assert_non_null(strstr(t, "\nhostmail_messages_queued_total 0\n"));
	assert_non_null(strstr(t, "# TYPE hostmail_queue_messages gauge\n"));
	buf_free(&b);
	metrics_inc(m, M_MESSAGES_QUEUED, NULL, NULL);
	metrics_inc(m, M_MESSAGES_QUEUED, NULL, NULL);
	metrics_inc(m, M_LOGINS, "pop3", "failed");
	t = render(m, &b);
	assert_non_null(strstr(t, "\nhostmail_messages_queued_total 2\n"));
	assert_non_null(strstr(t, "\nhostmail_logins_total{service=\"pop3\",result=\"failed\"} 1\n"));
	assert_int_equal(metrics_value(m, M_LOGINS, "pop3", "failed"), 1);
	buf_free(&b);
	metrics_free(m);
}

static void t_gauge_set_and_add(void **st)
{
	struct metrics *m = metrics_new();
	struct buf b;

	(void)st;
	metrics_add(m, M_SESSIONS_OPEN, "smtp", NULL, 1);
	metrics_add(m, M_SESSIONS_OPEN, "smtp", NULL, 1);
	metrics_add(m, M_SESSIONS_OPEN, "smtp", NULL, -1);
	metrics_set(m, M_QUEUE_MESSAGES, NULL, NULL, 42);
	assert_non_null(strstr(render(m, &b), "\nhostmail_sessions_open{listener=\"smtp\"} 1\n"));
	assert_non_null(strstr(b.data, "\nhostmail_queue_messages 42\n"));
	buf_free(&b);
	metrics_free(m);
}

static void t_label_escaped(void **st)
{
	struct metrics *m = metrics_new();
	struct buf b;

	(void)st;
	metrics_inc(m, M_TLS_HANDSHAKES, "a\"b\\c", "x\ny");
	assert_non_null(strstr(render(m, &b),
	                       "hostmail_tls_handshakes_total{listener=\"a\\\"b\\\\c\",version=\"x\\ny\"} 1\n"));
	buf_free(&b);
	metrics_free(m);
}

static void t_histogram(void **st)
{
	struct metrics *m = metrics_new();
	struct buf b;
	char *t;

	(void)st;
	metrics_observe(m, M_SMTP_REPLY_SECONDS, "DATA", NULL, 0.003);
	metrics_observe(m, M_SMTP_REPLY_SECONDS, "DATA", NULL, 0.2);
	metrics_observe(m, M_SMTP_REPLY_SECONDS, "DATA", NULL, 1000);
	t = render(m, &b);
	assert_non_null(strstr(t, "# TYPE hostmail_smtp_reply_latency_seconds histogram\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_bucket{command=\"DATA\",le=\"0.0025\"} 0\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_bucket{command=\"DATA\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_bucket{command=\"DATA\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_bucket{command=\"DATA\",le=\"30\"} 2\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_bucket{command=\"DATA\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_sum{command=\"DATA\"} 1000.203000\n"));
	assert_non_null(strstr(t, "hostmail_smtp_reply_latency_seconds_count{command=\"DATA\"} 3\n"));
	buf_free(&b);
	metrics_free(m);
}

static void t_reasons(void **st)
{
	(void)st;
	assert_string_equal(metrics_refusal_reason(554, "5.7.1"), "relay");
	assert_string_equal(metrics_refusal_reason(553, "5.7.1"), "sender");
	assert_string_equal(metrics_refusal_reason(552, "5.3.4"), "size");
	assert_string_equal(metrics_refusal_reason(450, "4.7.1"), "budget");
	assert_string_equal(metrics_refusal_reason(530, "5.7.0"), "auth");
	assert_string_equal(metrics_refusal_reason(500, "5.5.2"), "other");
	assert_string_equal(metrics_refusal_reason(500, NULL), "other");
	assert_string_equal(metrics_listener_name(0), "smtp");
	assert_string_equal(metrics_listener_name(99), "other");
}

static void t_full_table_drops(void **st)
{
	struct metrics *m = metrics_new();
	char l[16];

	(void)st;
	for (int i = 0; i < METRICS_SERIES_MAX + 10; i++) {
		snprintf(l, sizeof l, "r%d", i);
		metrics_inc(m, M_SCRAPE_ERRORS, l, NULL);
	}
	assert_int_equal(metrics_value(m, M_SCRAPE_ERRORS, "r0", NULL), 1);
	assert_int_equal(metrics_value(m, M_SCRAPE_ERRORS, "r600", NULL), 0);
	metrics_free(m);
}

#define NTHREADS 4
#define NINC 20000
static struct metrics *shared;

static void *counting(void *arg)
{
	char l[8];

	snprintf(l, sizeof l, "t%d", (int)(intptr_t)arg % 2);
	for (int i = 0; i < NINC; i++) {
		metrics_inc(shared, M_DELIVERIES, "delivered", l);
		metrics_observe(shared, M_STORE_SECONDS, "lookup", NULL, 0.001);
	}
	return NULL;
}

static void t_threads(void **st)
{
	pthread_t t[NTHREADS];

	(void)st;
	shared = metrics_new();
	for (intptr_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, counting, (void *)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(metrics_value(shared, M_DELIVERIES, "delivered", "t0") +
	                 metrics_value(shared, M_DELIVERIES, "delivered", "t1"), NTHREADS * NINC);
	assert_int_equal(metrics_value(shared, M_STORE_SECONDS, "lookup", NULL), NTHREADS * NINC);
	metrics_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_counter_and_help),
		cmocka_unit_test(t_gauge_set_and_add),
		cmocka_unit_test(t_label_escaped),
		cmocka_unit_test(t_histogram),
		cmocka_unit_test(t_reasons),
		cmocka_unit_test(t_full_table_drops),
		cmocka_unit_test(t_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
