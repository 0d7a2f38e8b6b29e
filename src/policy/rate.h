/*
 * rate: per-hosting-account recipient budgets (the "no mass mailing"
 * promise). Every recipient of a message sent by an authorized session
 * (SMTP AUTH or POP-before-SMTP) counts against its account's hourly and
 * daily budget, in fixed UTC windows (the hour from HH:00, the day from
 * 00:00), so the reset time is exact and easy to tell the customer.
 *
 * The counters live in the store (blocking; table rate_budget of the
 * SQLite or the shared PostgreSQL store: store/store_rate.h). This header
 * is the pure part: the windows and rate_decide.
 *
 * Two ways to count (store/store_rate.h). rate_get at RCPT and rate_add
 * once the message is accepted let sessions of one account running at the
 * same moment overshoot by the recipients in flight. rate_reserve checks and counts in
 * one atomic step (one statement in PostgreSQL, shared by every node; one
 * IMMEDIATE transaction in SQLite), so no interleaving of sessions, threads
 * or nodes can ever pass a limit; rate_release gives back what a
 * transaction reserved but did not commit.
 */
#ifndef HM_RATE_H
#define HM_RATE_H
#include <stddef.h>
#include <time.h>

struct rate_use {
	int hour, day;            /* recipients counted in the current windows */
	time_t hour_reset, day_reset;
};

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
