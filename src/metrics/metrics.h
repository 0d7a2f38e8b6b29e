/*
 * metrics: hostmaild's Prometheus metrics (docs/metrics.md), a registry of
 * counters, gauges and histograms that any thread updates with atomics,
 * and its rendering in the text exposition format 0.0.4. Pure: no I/O, no
 * clock; the listener (metrics_http.c) samples the gauges that live
 * elsewhere (the queue, the grants) and renders.
 *
 * A metric is a row of the table in metrics_table.c, named by enum
 * metric_id. A series is a metric with up to two label values (the label
 * names are the table's). Series are made on first use and never freed;
 * finding one is a lock-free scan, making one takes a mutex. Their number
 * is bounded (METRICS_SERIES_MAX): label values come from our own code
 * (listener names, reasons, TLS versions), never from a client.
 */
#ifndef HM_METRICS_H
#define HM_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;

#define METRICS_SERIES_MAX 512
#define METRICS_BUCKETS_MAX 16
#define METRICS_LABEL_MAX 32

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

enum metric_id {
	M_SESSIONS,              /* counter: listener */
	M_SESSIONS_OPEN,         /* gauge: listener */
	M_SESSIONS_REFUSED,      /* counter: listener, reason */
	M_MESSAGES_ACCEPTED,     /* counter: listener */
	M_MESSAGES_REFUSED,      /* counter: class, reason */
	M_MESSAGES_QUEUED,       /* counter */
	M_DELIVERIES,            /* counter: result (delivered, deferred, bounced), route */
	M_QUEUE_MESSAGES,        /* gauge */
	M_QUEUE_OLDEST,          /* gauge: seconds */
	M_DELIVERY_SECONDS,      /* histogram: route */
	M_SMTP_REPLY_SECONDS,    /* histogram: command */
	M_LOGINS,                /* counter: service, result */
	M_AUTH_CACHE,            /* counter: result (hit, miss) */
	M_BUDGET_TRIPS,          /* counter: window */
	M_GRANTS,                /* gauge */
	M_TLS_HANDSHAKES,        /* counter: listener, version */
	M_WORKER_QUEUE,          /* gauge: pool */
	M_STORE_SECONDS,         /* histogram: backend */
	M_SCRAPE_ERRORS,         /* counter: what */
	M_MILTER_RESULTS,        /* counter: result (continue, accept, reject, tempfail, discard, failed) */
	M_COUNT
};

struct metric_desc {
	const char *name;        /* without the hostmail_ prefix and the suffixes */
	enum metric_type type;
	const char *help;
	const char *labels[2];   /* NULL: unused */
	const double *buckets;   /* histograms: upper bounds, ascending, +Inf implied */
	int nbuckets;
};

/* The table (metrics_table.c). */
const struct metric_desc *metric_desc(enum metric_id id);
/* The listener label of a daemon/server.h listener_kind. */
const char *metrics_listener_name(int kind);
/* The reason label of a refusal by its reply code and enhanced code:
 * relay, sender, size, budget, auth, recipient, resources or other. */
const char *metrics_refusal_reason(int code, const char *enh);

struct metrics;
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Counters and gauges: add v (counters: v >= 0). l1, l2: label values as
 * the table names them (NULL for a missing one). m NULL: nothing. */
void metrics_add(struct metrics *m, enum metric_id id, const char *l1, const char *l2, int64_t v);
static inline void metrics_inc(struct metrics *m, enum metric_id id, const char *l1, const char *l2)
{
	metrics_add(m, id, l1, l2, 1);
}
/* Gauges: set to v. Counters read from elsewhere (the auth cache) too. */
void metrics_set(struct metrics *m, enum metric_id id, const char *l1, const char *l2, int64_t v);
/* Histograms: one observation of seconds. */
void metrics_observe(struct metrics *m, enum metric_id id, const char *l1, const char *l2,
                     double seconds);
/* Seconds from start (CLOCK_MONOTONIC) to now: for metrics_observe. */
double metrics_since(const struct timespec *start);
/* Make the series now, at 0 (so rate() has a start before the first event). */
void metrics_touch(struct metrics *m, enum metric_id id, const char *l1, const char *l2);

/* The exposition of every metric into out. 0, or -1 (out is full). */
int metrics_render(struct metrics *m, struct buf *out);

/* The value of a counter or gauge series, 0 if none (tests). */
int64_t metrics_value(struct metrics *m, enum metric_id id, const char *l1, const char *l2);

#endif
