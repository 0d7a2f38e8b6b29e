/*
 * runner_int: what the two halves of the queue runner share (not a public
 * API). runner.c is the event-loop half (scheduling, connection limits,
 * remote deliveries); runner_work.c is the worker half (envelopes, local
 * delivery, recording results, reports, removal).
 */
#ifndef HM_RUNNER_INT_H
#define HM_RUNNER_INT_H
#include "queue/queue.h"
#include "delivery/smtp_client.h"
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

struct server;
struct runner;

enum { ADMIN_NONE = 0, ADMIN_DELETE, ADMIN_BOUNCE };

/* The configuration a job needs, copied on the loop (a SIGHUP reload
 * replaces srv->cfg there while workers may be reading). */
struct job_cfg {
	int retry_schedule[16];
	int retry_schedule_n;
	int max_age;
	int delay_warning;
	char hostname[256];
};

struct remote_rcpt {
	size_t idx;                      /* in the envelope */
	char addr[320];
	char domain[256];                /* lower case */
};

/* One message on its way through the runner (it is "in flight"). */
struct msg_job {
	struct runner *r;
	struct server *srv;
	struct job_cfg cfg;
	LIST_ENTRY(msg_job) link;        /* the runner's live jobs */
	char id[QUEUE_ID_LEN + 1];
	int force;                       /* flushed: ignore the retry times */
	/* loop side only */
	int on_worker;                   /* a worker step is running */
	int reflush;                     /* flushed while in flight: go again */
	int due_again;                   /* a retry came due while it ran: go again */
	time_t deferred_until;           /* earliest retry this step scheduled; 0 = none */
	int admin;                       /* taken over: ADMIN_DELETE or ADMIN_BOUNCE */
	void (*admin_done)(void *arg, int err);
	void *admin_arg;
	int admin_err;                   /* from job_delete / job_bounce: 0 or errno */
	/* from job_prepare */
	int gone;                        /* no envelope (delivered, deleted) */
	char sender[320];
	uint64_t size;
	char msg_path[700];
	uint64_t msg_offset;             /* where the message starts in msg_path */
	size_t nremote;                  /* due remote recipients, sorted by domain */
	struct remote_rcpt *remote;
	struct smtpc_rcpt *res;          /* their results, same order */
	int domains_left;                /* remote deliveries not finished */
	/* from either worker step */
	time_t wake;                     /* earliest later attempt; 0 = none */
	int nnew;
	char new_ids[2][QUEUE_ID_LEN + 1];  /* reports queued */
};

/* Worker steps (work_fn). prepare: local deliveries, due remote recipients
 * into j->remote; record: j->res into the envelope. Both then send the
 * reports that are due and remove the message once every recipient is final. */
void job_prepare(void *job);
void job_record(void *job);
/* The administrator's steps (hostmailctl queue delete / bounce), result in
 * j->admin_err (ENOENT: not queued). delete: remove the message, no report.
 * bounce: every pending recipient fails ("returned by the administrator"),
 * then the usual report to the sender and removal. */
void job_delete(void *job);
void job_bounce(void *job);

#endif
