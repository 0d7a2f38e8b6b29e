/*
 * vacation_send: the autoresponder at delivery time (docs/vacation.md).
 * After the queue runner delivered a message into a mailbox, it calls
 * vacation_after_delivery: if the mailbox's autoresponder is in force
 * and RFC 3834 allows a reply (routing/vacation.h) and the sender was not
 * answered within the period (the store decides, atomically, for the
 * whole fleet), a reply is queued like any message: envelope sender <>
 * (RFC 3834 3.3), DKIM-signed when the mailbox's domain has keys, and
 * the runner delivers it. Blocking: call on a worker.
 */
#ifndef HM_VACATION_SEND_H
#define HM_VACATION_SEND_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

struct vacation_delivery {
	const char *queue_id;      /* the delivered message, for the log */
	const char *mailbox;       /* lower-case local@domain */
	const char *sender;        /* its envelope sender ("" = <>) */
	const char *msg_path;      /* the queued message: size bytes at offset */
	uint64_t offset, size;
	const char *hostname;      /* for the reply's Message-ID */
	int period;                /* seconds: one reply per sender per period */
	int dkim_sign;             /* [dkim] sign */
	time_t now;
};

/* 1 with the reply's queue id in new_id, 0 when no reply is due, -1 on
 * trouble (logged; the delivery itself stands). */
int vacation_after_delivery(struct store *st, const char *queue_dir, const struct vacation_delivery *d,
                            char *new_id, size_t idlen);

#endif
