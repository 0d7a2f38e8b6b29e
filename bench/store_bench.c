/*
 * store_bench: calls per second of the store's hot paths on each backend,
 * THREADS threads sharing one struct store as hostmaild's workers do:
 * store_rcpt_lookup (every RCPT TO), store_mailbox_get (every login),
 * relay_auth_lookup (every SMTP connection), rate_reserve (what an
 * authorized RCPT adds to its lookup: one recipient of the account's
 * budget; the limit high enough never to refuse), rate_release (what an
 * uncommitted transaction gives back). Each call is timed: the median and
 * 99th percentile are the latency a session waits for it. Run with one
 * thread (the latency alone) and with THREADS (all on one account, so the
 * reservations queue on its row). Not part of the test run: `make
 * bench-store` starts a private PostgreSQL (tests/pg/pgctl.sh) and runs it
 * on SQLite and on PostgreSQL. Output: one line per backend, threads and
 * call.
 *
 *   store_bench DATA_DIR [DSN]     threads and calls from THREADS, CALLS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "store/store_rate.h"
#include "store/relay_auth.h"
#include "store/store.h"
#include "util/config.h"

enum op { RCPT, MAILBOX, GRANT, RESERVE, RELEASE, NOPS };
static const char *const op_names[NOPS] = { "rcpt_lookup", "mailbox_get", "relay_lookup", "rate_reserve",
                                            "rate_release" };

struct job {
	struct store *st;
	enum op op;
	int calls, failed;
	double *lat;               /* each call's seconds */
};

static double now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void *run(void *arg)
{
	struct job *j = arg;
	struct mailbox m;
	struct relay_grant g;
	struct rate_use u;
	char addr[64];
	int i, hosted, exists, rc = 0;
	double t;

	for (i = 0; i < j->calls; i++) {
		t = now_s();
		snprintf(addr, sizeof addr, "user%d@acme.test", i % 1000);
		switch (j->op) {
		case RCPT: rc = store_rcpt_lookup(j->st, addr, "acme.test", &hosted, &exists); break;
		case MAILBOX: rc = store_mailbox_get(j->st, addr, &m); break;
		case GRANT: rc = relay_auth_lookup(j->st, "192.0.2.1", time(NULL), &g); break;
		case RESERVE: rc = rate_reserve(j->st, "acme", time(NULL), 1, 100000000, 100000000, &u); break;
		case RELEASE: rc = rate_release(j->st, "acme", time(NULL), 1); break;
		default: break;
		}
		j->lat[i] = now_s() - t;
		j->failed += rc != 0;
	}
	return NULL;
}

static int populate(struct store *st)
{
	char addr[64], err[256];
	int i;

	if (store_account_add(st, "acme", NULL, 1, err, sizeof err) ||
	    store_domain_add(st, "acme", "acme.test", err, sizeof err))
		return fprintf(stderr, "store_bench: %s\n", err), -1;
	for (i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "user%d@acme.test", i);
		if (store_mailbox_add(st, addr, "$y$j9T$bench$bench", err, sizeof err))
			return fprintf(stderr, "store_bench: %s\n", err), -1;
	}
	return relay_auth_grant(st, "192.0.2.1", "user1@acme.test", time(NULL) + 3600) ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Every call in threads threads, calls each: one line. */
static void bench_op(struct store *st, enum op op, int threads, int calls, double *lat)
{
	pthread_t th[64];
	struct job jobs[64];
	double t0, dt;
	int i, n = threads * calls, failed = 0;

	t0 = now_s();
	for (i = 0; i < threads; i++) {
		jobs[i] = (struct job){ st, op, calls, 0, lat + (size_t)i * calls };
		pthread_create(&th[i], NULL, run, &jobs[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		failed += jobs[i].failed;
	}
	dt = now_s() - t0;
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	printf("%-10s %-13s %2d threads: %8.0f calls/s  p50 %6.0f us  p99 %6.0f us  (%d calls, %.2f s, %d failed)\n",
	       store_backend(st), op_names[op], threads, n / dt, lat[n / 2] * 1e6, lat[n - 1 - n / 100] * 1e6, n, dt,
	       failed);
	fflush(stdout);
}

static int bench(const struct config *cfg, int threads, int calls)
{
	struct store *st;
	char err[512];
	double *lat;
	int op, round;

	if (!(st = store_open(cfg, err, sizeof err)))
		return fprintf(stderr, "store_bench: %s\n", err), -1;
	if (populate(st) < 0 || !(lat = calloc((size_t)threads * calls, sizeof *lat)))
		return -1;
	for (round = 0; round < 2; round++)
		for (op = 0; op < NOPS; op++)
			bench_op(st, (enum op)op, round ? threads : 1, calls, lat);
	free(lat);
	store_close(st);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	int threads = getenv("THREADS") ? atoi(getenv("THREADS")) : 8;
	int calls = getenv("CALLS") ? atoi(getenv("CALLS")) : 2000;
	int from, to;
	char err[512];

	if (argc < 2 || threads < 1 || threads > 64 || calls < 1) {
		fprintf(stderr, "usage: store_bench DATA_DIR [DSN]  (THREADS=1..64, CALLS=n)\n");
		return 2;
	}
	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", argv[1]);
	cfg.store_pool_size = threads;
	if (bench(&cfg, threads, calls) < 0)
		return 1;
	if (argc < 3)
		return 0;
	cfg.store_backend = STORE_POSTGRESQL;
	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "%s", argv[2]);
	if (store_schema_init(&cfg, &from, &to, err, sizeof err) != 0)
		return fprintf(stderr, "store_bench: %s\n", err), 1;
	return bench(&cfg, threads, calls) < 0 ? 1 : 0;
}
