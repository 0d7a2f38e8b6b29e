/*
 * lmtp_deliver: what the LMTP listener (lmtp_server.c) hands its workers:
 * a received message and its accepted recipients. lmtp_deliver() checks
 * the hop header (lmtp_proto.h: two or more, 554 5.4.6 for all), then for
 * each recipient the dedup marker of (hop id, recipient), the Maildir
 * write and the marker, and fills each recipient's reply; it removes the
 * message file. Blocking: on a worker.
 */
#ifndef HM_LMTP_DELIVER_H
#define HM_LMTP_DELIVER_H
#include <stddef.h>
#include <stdint.h>

struct store;
struct runner;

struct lmtp_rcpt {
	char addr[520];
	char local[256];
	char domain[256];
	int code;                 /* after DATA */
	char reply[700];
	char vacation_id[24];     /* the autoresponder's reply queued ("" = none): scheduled on the loop */
};

struct lmtp_delivery {
	char data_dir[512];
	char tmp[800];                   /* the message: CRLF line ends, dot-unstuffed */
	char sender[600];                /* "" for <> */
	uint64_t size;
	struct lmtp_rcpt *rcpt;          /* owned */
	size_t nrcpt;
	unsigned long long id;           /* the session, for log lines */
	int max_age;                     /* [queue] max_age: markers are kept a day longer */
	struct store *store;             /* the mailbox quotas (delivery/quota.h) */
	int quota_warning;               /* [limits] quota_warning */
	int quota_temp;                  /* [limits] quota_full = temporary: 452, else 552 */
	char hostname[256];              /* the quota warning's From:, the autoreply's Message-ID */
	char queue_dir[600];             /* where an autoresponder's reply is queued */
	int vacation_period;             /* [delivery] vacation_period */
	int dkim_sign;                   /* [dkim] sign */
	struct runner *runner;           /* schedules the replies (data_done, on the loop) */
};

/* Worker job: arg is a struct lmtp_delivery. */
void lmtp_deliver(void *arg);
/* Make data_dir/cluster/{tmp,seen}, remove what tmp/ holds (never
 * answered) and old markers: 0, or -1 (logged). */
int lmtp_spool_prepare(const char *data_dir, int max_age);

#endif
