/*
 * workers: a small pool of threads for the blocking work (fsync, SQLite,
 * password hashing, Maildir writes) so the event loop never stalls. A job
 * runs work(arg) on a worker, then done(arg) back on the event loop thread.
 * The submitter owns arg until done() runs; done() always runs (at the
 * latest in workers_stop), so it is the one place to release what the job used.
 */
#ifndef HM_WORKERS_H
#define HM_WORKERS_H

struct event_base;
struct workers;

typedef void (*work_fn)(void *arg);
typedef void (*done_fn)(void *arg);

struct workers *workers_start(struct event_base *base, int nthreads);
/* 0, or -1 on allocation failure or once the pool is stopping (nothing will run). */
int workers_submit(struct workers *w, work_fn work, done_fn done, void *arg);
/* The same, ahead of every job submitted the other way: for work a client
 * is waiting on (an SMTP reply), before background work (deliveries). */
int workers_submit_urgent(struct workers *w, work_fn work, done_fn done, void *arg);
/* Jobs waiting or running. */
int workers_pending(const struct workers *w);
/* Stop: refuse new jobs, join the threads (running jobs finish), then run
 * what is still queued on the calling thread and call every pending done(),
 * so each job's arg is released. Call after the event loop has stopped. */
void workers_stop(struct workers *w);

#endif
