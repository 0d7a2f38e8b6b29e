/*
 * smtp_commit: the queue commit of a message at the end of DATA/BDAT
 * (smtp_txn.c), shared with the milter step that may run before it
 * (smtp_milter.c): the job, its worker part and its reply on the loop.
 */
#ifndef HM_SMTP_COMMIT_H
#define HM_SMTP_COMMIT_H
#include <stdint.h>
#include <time.h>
#include "queue/queue.h"
#include "util/buf.h"

struct server;
struct spool;
struct budget_give;
struct smtp_milter;

struct commit_job {
	struct server *srv;
	struct spool *spool;
	struct buf tail;         /* message bytes not written yet */
	struct envelope env;
	struct budget_give *budget;  /* reserved at RCPT: kept, or given back on failure */
	unsigned long long sid;
	const char *listener;        /* metrics label */
	struct timespec started;     /* the end of data: the reply's latency */
	int ok, err;
	char dkim_domain[256];       /* sign as this domain ("" = do not sign) */
	int dkim_rc;                 /* SMTP_DKIM_*, for the log */
	char dkim_info[256];         /* the selectors, or why not signed */
	int milter_wanted;           /* the [milter] filters see it first (smtp_milter.c) */
	struct smtp_milter *milter;  /* their edits, applied before DKIM signing; NULL: none */
	char data_dir[512];          /* mailbox quotas (delivery/quota.h) */
	uint64_t data_bytes;         /* the message as sent */
	int quota_full;              /* every recipient's mailbox is full: refused */
	int quota_temp;              /* [limits] quota_full = temporary */
};

/* On a worker: write the tail, apply the filters' edits, sign, commit
 * (or give the budget back). */
void txn_commit_work(void *p);
/* On the loop: log, reply 250 (or 4xx) to the session st (NULL: gone), free c. */
void txn_commit_done(void *st, void *p);

#endif
