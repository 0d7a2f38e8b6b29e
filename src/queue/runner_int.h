/*
 * runner_int: what the parts of the queue runner share (not a public
 * API). On the event loop: runner.c (the schedule, jobs, the
 * administrator's requests) and runner_remote.c (remote deliveries within
 * the connection limits); on workers: runner_work.c (envelopes, local
 * delivery, recording results, reports, removal).
 */
#ifndef HM_RUNNER_INT_H
#define HM_RUNNER_INT_H
#include "queue/queue.h"
#include "delivery/smtp_client.h"
#include <openssl/ssl.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

struct server;
struct runner;
struct sched;
struct sched_ent;
struct dns;
struct conn_cache;
struct ctl_server;
struct event;
struct msg_job;
struct domain_run;

TAILQ_HEAD(run_list, domain_run);

/* The runner's state, on the event loop. */
struct runner {
	struct server *srv;
	struct sched *sched;             /* every queued message, by id and due time */
	struct event *timer;             /* for the earliest due message */
	time_t timer_at;                 /* when it is armed for; 0 = not armed */
	int njobs;                       /* messages in flight */
	int loading;                     /* the start-up scan is running */
	int flush_on_load;               /* a whole-queue flush came meanwhile */
	struct dns *dns;
	SSL_CTX *tls;
	struct conn_cache *conns;        /* idle outbound sessions, by domain */
	struct run_list waiting, active;
	int nactive;
	LIST_HEAD(, msg_job) jobs;       /* the messages in flight */
	struct ctl_server *ctl;          /* the control socket, NULL if none */
};

enum { ADMIN_NONE = 0, ADMIN_DELETE, ADMIN_BOUNCE };

/* Seconds before a message is looked at again when a step could not
 * decide its next time (a read, record or removal failed). */
#define RUNNER_TROUBLE_WAIT 60
/* New queue entries one worker step may make: two reports (failure,
 * delay) and two forwarded copies (routing) per forwarded recipient. */
#define RUNNER_NEW_MAX 10

/* Autoresponder replies one job may queue, one per local recipient
 * that has one, beyond RUNNER_NEW_MAX. */
#define RUNNER_REPLIES_MAX 16

/* The configuration a job needs, copied on the loop (a SIGHUP reload
 * replaces srv->cfg there while workers may be reading). */
struct job_cfg {
	int retry_schedule[16];
	int retry_schedule_n;
	int max_age;
	int delay_warning;
	char hostname[256];
	char data_dir[512];
	int quota_full_temporary, quota_warning, vacation_period;   /* docs/quotas.md, docs/vacation.md */
	int dkim_sign;
};

struct remote_rcpt {
	size_t idx;                      /* in the envelope */
	char addr[320];
	char domain[256];                /* lower case */
};

/* One message on its way through the runner (it is "in flight"; its
 * schedule entry is held, with the job as its data). */
struct msg_job {
	struct runner *r;
	struct server *srv;
	struct job_cfg cfg;
	LIST_ENTRY(msg_job) link;        /* the runner's live jobs */
	struct sched_ent *ent;           /* the message in the runner's schedule */
	char id[QUEUE_ID_LEN + 1];
	int force;                       /* flushed: ignore the retry times */
	/* loop side only */
	int on_worker;                   /* a worker step is running */
	int reflush;                     /* flushed while in flight: go again */
	int admin;                       /* taken over: ADMIN_DELETE or ADMIN_BOUNCE */
	void (*admin_done)(void *arg, int err);
	void *admin_arg;
	int admin_err;                   /* from job_delete / job_bounce: 0 or errno */
	/* from job_prepare */
	time_t started;                  /* when it began */
	int gone;                        /* no envelope (delivered, deleted) */
	int held;                        /* on hold: out of the schedule until released */
	char sender[320];
	uint64_t size;
	char msg_path[700];
	uint64_t msg_offset;             /* where the message starts in msg_path */
	size_t nremote;                  /* due remote recipients, sorted by domain */
	struct remote_rcpt *remote;
	struct smtpc_rcpt *res;          /* their results, same order */
	int domains_left;                /* remote deliveries not finished */
	/* from the last worker step (settle) */
	time_t next;                     /* when the message is due again (the past:
	                                    at once); 0 = unknown (trouble) */
	int nnew;
	char new_ids[RUNNER_NEW_MAX + RUNNER_REPLIES_MAX][QUEUE_ID_LEN + 1];  /* reports, forwarded copies, autoreplies */
};

/* runner_remote.c: the remote deliveries of jobs, one run per recipient
 * domain, started as the [delivery] connection limits allow. start: the
 * runs of j->remote (sorted by domain); job_remote_done(j) once all have
 * ended. cancel: abort j's runs (the administrator takes it over; an SMTP
 * session closed before the final dot delivers nothing). pump: start what
 * the limits allow now. stop: free every run (the runner stops). */
void remote_runs_start(struct msg_job *j);
void remote_runs_cancel(struct runner *r, struct msg_job *j);
void remote_runs_pump(struct runner *r);
void remote_runs_stop(struct runner *r);
/* runner.c: every remote run of j has ended, its results are in j->res. */
void job_remote_done(struct msg_job *j);

/* Worker steps (work_fn). prepare: local deliveries, due remote recipients
 * into j->remote; record: j->res into the envelope. Both then send the
 * reports that are due and remove the message once every recipient is
 * final (j->gone); the job's last step also decides when the message is
 * due again (j->next) and records it in the file's mtime (queue.h). */
void job_prepare(void *job);
void job_record(void *job);
/* The administrator's steps (hostmailctl queue delete / bounce), result in
 * j->admin_err (ENOENT: not queued). delete: remove the message, no report.
 * bounce: every pending recipient fails ("returned by the administrator"),
 * then the usual report to the sender and removal. */
void job_delete(void *job);
void job_bounce(void *job);

#endif
