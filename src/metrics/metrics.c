/*
 * metrics: the registry and its rendering (metrics.h).
 *
 * The series array only grows: a series is filled in under mu, then
 * published by a release store of n, so a reader that scans up to an
 * acquire load of n sees complete series without a lock. Values are
 * relaxed atomics: each is exact, a scrape is not one instant (as with
 * every Prometheus client library). A histogram keeps one count per
 * bucket (not cumulative: one increment per observation) and its sum in
 * microseconds, so that every update is one integer atomic.
 */
#include "metrics/metrics.h"
#include "util/buf.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
	enum metric_id id;
	char l[2][METRICS_LABEL_MAX];
	_Atomic int64_t v;                               /* counter, gauge; histogram count */
	_Atomic uint64_t bucket[METRICS_BUCKETS_MAX + 1]; /* the last one: +Inf only */
	_Atomic uint64_t sum_us;
};

struct metrics {
	pthread_mutex_t mu;
	_Atomic int n;
	struct series s[METRICS_SERIES_MAX];
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof *m);

	if (m)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const char *lv(const char *s)
{
	return s ? s : "";
}

static int same(const struct series *s, enum metric_id id, const char *l1, const char *l2)
{
	return s->id == id && strcmp(s->l[0], lv(l1)) == 0 && strcmp(s->l[1], lv(l2)) == 0;
}

static struct series *scan(struct metrics *m, int n, enum metric_id id, const char *l1, const char *l2)
{
	for (int i = 0; i < n; i++)
		if (same(&m->s[i], id, l1, l2))
			return &m->s[i];
	return NULL;
}

/* The series, made if new; NULL when the table is full (the event is not counted). */
static struct series *find(struct metrics *m, enum metric_id id, const char *l1, const char *l2)
{
	struct series *s;
	int n;

	if (!m || id < 0 || id >= M_COUNT)
		return NULL;
	if ((s = scan(m, atomic_load_explicit(&m->n, memory_order_acquire), id, l1, l2)))
		return s;
	pthread_mutex_lock(&m->mu);
	n = atomic_load_explicit(&m->n, memory_order_relaxed);
	if (!(s = scan(m, n, id, l1, l2)) && n < METRICS_SERIES_MAX) {
		s = &m->s[n];
		s->id = id;
		strncpy(s->l[0], lv(l1), METRICS_LABEL_MAX - 1);
		strncpy(s->l[1], lv(l2), METRICS_LABEL_MAX - 1);
		atomic_store_explicit(&m->n, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&m->mu);
	return s;
}

void metrics_add(struct metrics *m, enum metric_id id, const char *l1, const char *l2, int64_t v)
{
	struct series *s = find(m, id, l1, l2);

	if (s)
		atomic_fetch_add_explicit(&s->v, v, memory_order_relaxed);
}

void metrics_set(struct metrics *m, enum metric_id id, const char *l1, const char *l2, int64_t v)
{
	struct series *s = find(m, id, l1, l2);

	if (s)
		atomic_store_explicit(&s->v, v, memory_order_relaxed);
}

void metrics_touch(struct metrics *m, enum metric_id id, const char *l1, const char *l2)
{
	find(m, id, l1, l2);
}

void metrics_observe(struct metrics *m, enum metric_id id, const char *l1, const char *l2,
                     double seconds)
{
	const struct metric_desc *d;
	struct series *s = find(m, id, l1, l2);
	int b;

	if (!s)
		return;
	d = metric_desc(id);
	if (!(seconds >= 0))          /* NaN or a clock step: count it as 0 */
		seconds = 0;
	for (b = 0; b < d->nbuckets && seconds > d->buckets[b]; b++)
		;
	atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, (uint64_t)(seconds * 1e6 + 0.5), memory_order_relaxed);
	atomic_fetch_add_explicit(&s->v, 1, memory_order_relaxed);
}

int64_t metrics_value(struct metrics *m, enum metric_id id, const char *l1, const char *l2)
{
	struct series *s;

	if (!m || !(s = scan(m, atomic_load_explicit(&m->n, memory_order_acquire), id, l1, l2)))
		return 0;
	return atomic_load_explicit(&s->v, memory_order_relaxed);
}

/* ---- rendering ---- */

/* A label value as the format wants it: \\, \" and \n escaped. */
static int put_label_value(struct buf *out, const char *v)
{
	int r = 0;

	for (; *v && r == 0; v++) {
		if (*v == '\\')
			r = buf_puts(out, "\\\\");
		else if (*v == '"')
			r = buf_puts(out, "\\\"");
		else if (*v == '\n')
			r = buf_puts(out, "\\n");
		else
			r = buf_append(out, v, 1);
	}
	return r;
}

/* {a="x",b="y"} with an extra le="..." for a bucket; nothing if no labels. */
static int put_labels(struct buf *out, const struct metric_desc *d, const struct series *s, const char *le)
{
	int first = 1, r = 0;

	for (int i = 0; i < 2 && r == 0; i++) {
		if (!d->labels[i])
			continue;
		r = buf_printf(out, "%s%s=\"", first ? "{" : ",", d->labels[i]) ||
		    put_label_value(out, s->l[i]) || buf_puts(out, "\"");
		first = 0;
	}
	if (le && r == 0) {
		r = buf_printf(out, "%sle=\"%s\"", first ? "{" : ",", le);
		first = 0;
	}
	if (!first && r == 0)
		r = buf_puts(out, "}");
	return r;
}

static int put_histogram(struct buf *out, const char *name, const struct metric_desc *d,
                         struct series *s)
{
	uint64_t cum = 0, sum;
	char le[32];
	int r = 0;

	for (int b = 0; b <= d->nbuckets && r == 0; b++) {
		cum += atomic_load_explicit(&s->bucket[b], memory_order_relaxed);
		if (b < d->nbuckets)
			snprintf(le, sizeof le, "%g", d->buckets[b]);
		else
			strcpy(le, "+Inf");
		r = buf_printf(out, "%s_bucket", name) || put_labels(out, d, s, le) ||
		    buf_printf(out, " %llu\n", (unsigned long long)cum);
	}
	/* the count is the +Inf bucket, so that the two always agree */
	sum = atomic_load_explicit(&s->sum_us, memory_order_relaxed);
	if (r == 0)
		r = buf_printf(out, "%s_sum", name) || put_labels(out, d, s, NULL) ||
		    buf_printf(out, " %llu.%06llu\n", (unsigned long long)(sum / 1000000),
		               (unsigned long long)(sum % 1000000)) ||
		    buf_printf(out, "%s_count", name) || put_labels(out, d, s, NULL) ||
		    buf_printf(out, " %llu\n", (unsigned long long)cum);
	return r;
}

static int put_family(struct metrics *m, int n, enum metric_id id, struct buf *out)
{
	const struct metric_desc *d = metric_desc(id);
	const char *suffix = d->type == METRIC_COUNTER ? "_total" : "";
	static const char *types[] = { "counter", "gauge", "histogram" };
	char name[128];
	int r, any = 0;

	snprintf(name, sizeof name, "hostmail_%s%s", d->name, suffix);
	r = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, d->help, name, types[d->type]);
	for (int i = 0; i < n && r == 0; i++) {
		struct series *s = &m->s[i];

		if (s->id != id)
			continue;
		any = 1;
		if (d->type == METRIC_HISTOGRAM)
			r = put_histogram(out, name, d, s);
		else
			r = buf_puts(out, name) || put_labels(out, d, s, NULL) ||
			    buf_printf(out, " %lld\n", (long long)atomic_load_explicit(&s->v, memory_order_relaxed));
	}
	/* an unlabelled counter or gauge exists from the start */
	if (!any && r == 0 && !d->labels[0] && d->type != METRIC_HISTOGRAM)
		r = buf_printf(out, "%s 0\n", name);
	return r;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	int n = atomic_load_explicit(&m->n, memory_order_acquire);

	for (int id = 0; id < M_COUNT; id++)
		if (put_family(m, n, (enum metric_id)id, out) != 0)
			return -1;
	return 0;
}

double metrics_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}
