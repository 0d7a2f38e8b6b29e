/*
 * store_vacation: a mailbox's autoresponder (schema version 5): its
 * subject, text and dates (table vacations), and who it answered when
 * (table vacation_replies), kept in the store so that every node of a
 * fleet answers a sender once per period, not once per node.
 * Blocking: from hostmaild call these on a worker.
 */
#ifndef HM_STORE_VACATION_H
#define HM_STORE_VACATION_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

#define VACATION_SUBJECT_MAX 256
#define VACATION_TEXT_MAX 8192

struct vacation {
	int enabled;
	char subject[VACATION_SUBJECT_MAX];   /* "" = "Auto: " + the original subject */
	char text[VACATION_TEXT_MAX];
	char start[11], end[11];              /* YYYY-MM-DD, inclusive, UTC; "" = open */
};

/* 0 with out (enabled 0 and empty when never set), STORE_ENOTFOUND (no
 * such mailbox) or STORE_EFAIL. */
int store_vacation_get(struct store *st, const char *address, struct vacation *out);
/* Set (or, with enabled 0, turn off) the autoresponder; a new setting
 * forgets who was answered. 0, STORE_ENOTFOUND, STORE_EINVAL (err), STORE_EFAIL. */
int store_vacation_set(struct store *st, const char *address, const struct vacation *v,
                       char *err, size_t errlen);
/* Note that address answers sender now, unless it did within period
 * seconds: 1 (answer; recorded), 0 (answered already), or a STORE_E* code.
 * One atomic statement, so two nodes cannot both answer. */
int store_vacation_note(struct store *st, const char *address, const char *sender, time_t now,
                        int period);

#endif
