/*
 * throttle: per-client-IP login failure counting, shared by SMTP AUTH,
 * POP3 and the ACC. After max_failures failures within window seconds an
 * IP is blocked for block seconds. Fixed memory (a bounded table; the
 * oldest entry is evicted when full). Pure: the caller passes the time.
 * Used only from the event loop thread.
 */
#ifndef HM_THROTTLE_H
#define HM_THROTTLE_H
#include <time.h>

struct throttle;

struct throttle *throttle_new(int max_failures, int window, int block);
void throttle_free(struct throttle *t);
/* Seconds until ip may try again, 0 if not blocked. */
int throttle_blocked(struct throttle *t, const char *ip, time_t now);
/* Record a failure; returns 1 if this failure starts a block. */
int throttle_failure(struct throttle *t, const char *ip, time_t now);

/*
 * The same with attempts in flight counted too, so guesses sent in
 * parallel on many connections cannot get more verdicts than the limit:
 * throttle_begin returns 0 and counts the attempt, or the seconds to wait
 * (blocked, or failures + attempts in flight already at the limit).
 * Every successful begin is matched by one throttle_end; failed = 1 counts
 * a failure (returns 1 if it starts a block).
 */
int throttle_begin(struct throttle *t, const char *ip, time_t now);
int throttle_end(struct throttle *t, const char *ip, time_t now, int failed);

#endif
