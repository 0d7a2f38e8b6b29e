/*
 * rate: per-hosting-account recipient budgets (the "no mass mailing"
 * promise). Every recipient of a message sent by an authorized session
 * (SMTP AUTH or POP-before-SMTP) counts against its account's hourly and
 * daily budget, in fixed UTC windows (the hour from HH:00, the day from
 * 00:00), so the reset time is exact and easy to tell the customer.
 *
 * The counters live behind rate_get/rate_add (blocking; SQLite table
 * rate_counters now, a shared Redis later); rate_decide is pure.
 */
#ifndef HM_RATE_H
#define HM_RATE_H
#include <stddef.h>
#include <time.h>

struct store;

struct rate_use {
	int hour, day;            /* recipients counted in the current windows */
	time_t hour_reset, day_reset;
};

/* Current use of account's windows at now. 0 or STORE_EFAIL. */
int rate_get(struct store *st, const char *account, time_t now, struct rate_use *out);
/* Count n more recipients for account at now. 0 or STORE_EFAIL. */
int rate_add(struct store *st, const char *account, time_t now, int n);

/* Window starts for now. */
time_t rate_hour_start(time_t now);
time_t rate_day_start(time_t now);

/*
 * May one more recipient be accepted, with `pending` already accepted in
 * this transaction and not yet counted? 0 = yes; otherwise 1 (hour) or 2
 * (day), with why (for the 450 4.7.1 reply) naming the limit and its reset.
 * A limit of 0 means no recipients at all.
 */
int rate_decide(const struct rate_use *use, int per_hour, int per_day, int pending,
                char *why, size_t whylen);

#endif
