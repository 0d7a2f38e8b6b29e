/*
 * runner: the event-loop half of the queue runner (see runner.h and
 * runner_int.h): the schedule and the jobs. A message id is handled by
 * at most one job at a time (it is in flight). A job goes: job_prepare
 * on a worker (local deliveries, due remote recipients) -> one remote
 * delivery per recipient domain on the loop, started as the connection
 * limits allow (runner_remote.c) -> job_record on a worker (results into
 * the envelope, reports, removal).
 *
 * Every queued message is in the schedule (sched.h) with the time it is
 * next due; one timer is armed for the earliest. A message is opened only
 * when it is due, flushed, or just accepted; nothing rescans the queue.
 * At start the queue directory is listed on a worker, one stat per file
 * and no open: each message is due at its file's mtime, which the job's
 * last step sets to its next attempt (queue.h). When a job ends, the
 * message waits again until the time that step found, or is forgotten
 * once it has left the queue. At most RUNNER_MAX_JOBS messages are in
 * flight; the rest wait in the heap, the earliest first.
 *
 * The administrator's requests arrive through the control socket
 * (control.c): a flush makes the message due now, ignoring the retry
 * times; a delete or bounce stops the message's job wherever it is
 * (aborting its SMTP sessions before the final dot) and, on a worker,
 * removes the message or fails what is pending.
 */
#include "queue/runner.h"
#include "queue/runner_int.h"
#include "queue/queue.h"
#include "queue/control.h"
#include "queue/sched.h"
#include "daemon/server.h"
#include "delivery/conn_cache.h"
#include "delivery/dns.h"
#include "delivery/remote.h"
#include "delivery/smtp_client.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/event.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>
#include <time.h>

/* Messages worked on at once (as Postfix's active queue limit): enough
 * to keep every connection busy, few enough that a flush of a deep queue
 * does not hold every message in memory at once. */
#define RUNNER_MAX_JOBS 1000

/* Flag of a waiting schedule entry: flushed, try every recipient. */
#define ENT_FORCE 1u

static void run_due(struct runner *r);
static void submit_admin(struct msg_job *j);

static struct msg_job *job_find(struct runner *r, const char *id)
{
	struct sched_ent *e = sched_find(r->sched, id);

	return e ? sched_data(e) : NULL;
}

static void job_free(struct msg_job *j)
{
	LIST_REMOVE(j, link);
	sched_set_data(j->ent, NULL);
	j->r->njobs--;
	free(j->remote);
	free(j->res);
	free(j);
}

/* Make entry e due at t (at once if t has passed); force: flushed. */
static void due_at(struct runner *r, struct sched_ent *e, time_t t, int force)
{
	if (force)
		sched_set_flags(e, sched_flags(e) | ENT_FORCE);
	sched_wait(r->sched, e, t);
}

/* The job is over: the message waits for its next time, at once if it
 * was flushed meanwhile, or leaves the schedule once it left the queue. */
static void job_end(struct msg_job *j)
{
	struct runner *r = j->r;
	struct sched_ent *e = j->ent;
	time_t now = time(NULL), next = j->next;
	int again = j->reflush && !j->admin;
	/* a held message leaves the schedule: its release flushes it back
	 * (one released while its job ran was flushed: again) */
	int gone = j->gone || (j->admin && j->admin_err == ENOENT) || (j->held && !again && !j->admin);

	/* no time from the steps: an administrator's step failed (a job
	 * finds the time at once), or the message could not be read */
	if (next == 0)
		next = j->admin ? now : now + RUNNER_TROUBLE_WAIT;
	job_free(j);
	if (gone)
		sched_del(r->sched, e);
	else
		due_at(r, e, again ? now : next, again);
	run_due(r);
}

/* Run a worker step of j; 0, or -1 (out of memory: nothing will run). */
static int job_submit(struct msg_job *j, work_fn work, done_fn done)
{
	j->on_worker = 1;
	if (workers_submit(j->srv->workers, work, done, j) == 0)
		return 0;
	j->on_worker = 0;
	return -1;
}

/* What a worker step leaves for the loop: reports to deliver. */
static void after_work(struct msg_job *j)
{
	for (int i = 0; i < j->nnew; i++)
		runner_schedule(j->r, j->new_ids[i]);
	j->nnew = 0;
}

static void record_done(void *arg)
{
	struct msg_job *j = arg;

	j->on_worker = 0;
	after_work(j);
	if (j->admin)
		submit_admin(j);
	else
		job_end(j);
}

void job_remote_done(struct msg_job *j)
{
	if (j->admin) {
		submit_admin(j);
		return;
	}
	if (job_submit(j, job_record, record_done) < 0) {
		log_warn("%s: cannot record results (out of memory); will retry", j->id);
		job_end(j);
	}
}

static void prepare_done(void *arg)
{
	struct msg_job *j = arg;

	j->on_worker = 0;
	after_work(j);
	if (j->admin)
		submit_admin(j);
	else if (j->gone || j->held || j->nremote == 0)
		job_end(j);
	else
		remote_runs_start(j);
}

static void snapshot_cfg(struct job_cfg *jc, const struct config *c)
{
	memcpy(jc->retry_schedule, c->retry_schedule, sizeof jc->retry_schedule);
	jc->retry_schedule_n = c->retry_schedule_n > 0 ? c->retry_schedule_n : 1;
	jc->max_age = c->queue_max_age;
	jc->delay_warning = c->queue_delay_warning;
	snprintf(jc->hostname, sizeof jc->hostname, "%s", c->hostname);
	snprintf(jc->data_dir, sizeof jc->data_dir, "%s", c->data_dir);
	jc->quota_full_temporary = c->quota_full_temporary;
	jc->quota_warning = c->quota_warning;
	jc->vacation_period = c->vacation_period;
	jc->dkim_sign = c->dkim_sign;
}

/* A new job for the message of entry e, in flight from now on (e is
 * held, the job its data); NULL if out of memory. */
static struct msg_job *job_new(struct runner *r, struct sched_ent *e)
{
	struct msg_job *j = calloc(1, sizeof *j);

	if (!j)
		return NULL;
	j->r = r;
	j->srv = r->srv;
	j->ent = e;
	snapshot_cfg(&j->cfg, r->srv->cfg);
	snprintf(j->id, sizeof j->id, "%s", sched_id(e));
	sched_hold(r->sched, e);
	sched_set_data(e, j);
	LIST_INSERT_HEAD(&r->jobs, j, link);
	r->njobs++;
	return j;
}

/* Start the job of a due message: its envelope is read on a worker. */
static void job_start(struct runner *r, struct sched_ent *e)
{
	int force = (sched_flags(e) & ENT_FORCE) != 0;
	struct msg_job *j;

	sched_set_flags(e, sched_flags(e) & ~ENT_FORCE);
	if (!(j = job_new(r, e))) {
		due_at(r, e, time(NULL) + RUNNER_TROUBLE_WAIT, force);
		return;
	}
	j->force = force;
	if (job_submit(j, job_prepare, prepare_done) < 0) {
		job_free(j);
		due_at(r, e, time(NULL) + RUNNER_TROUBLE_WAIT, force);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Arm the timer for the earliest waiting message, unless the jobs are at
 * their limit (then the end of one runs what is due). */
static void arm_timer(struct runner *r)
{
	struct sched_ent *e = sched_first(r->sched);
	struct timeval now, tv = { 0, 0 };
	time_t due;

	if (!e || r->njobs >= RUNNER_MAX_JOBS) {
		if (r->timer_at) {
			evtimer_del(r->timer);
			r->timer_at = 0;
		}
		return;
	}
	due = sched_due(e);
	if (r->timer_at == due)
		return;
	gettimeofday(&now, NULL);
	if (due > now.tv_sec) {        /* to the start of second due */
		tv.tv_sec = due - now.tv_sec - 1;
		tv.tv_usec = 1000000 - now.tv_usec;
	}
	r->timer_at = due;
	evtimer_add(r->timer, &tv);
}

/* Start the jobs of the messages that are due, as many as the limit allows. */
static void run_due(struct runner *r)
{
	time_t now = time(NULL);
	struct sched_ent *e;

	while (r->njobs < RUNNER_MAX_JOBS && (e = sched_pop_due(r->sched, now)))
		job_start(r, e);
	arm_timer(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct runner *r = arg;

	(void)fd;
	(void)what;
	r->timer_at = 0;
	run_due(r);
}

void runner_schedule(struct runner *r, const char *id)
{
	struct sched_ent *e = sched_add(r->sched, id);
	time_t now = time(NULL);

	if (!e) {
		log_warn("%s: cannot schedule: %s (it is tried at the next start)", id, strerror(errno));
		return;
	}
	if (sched_data(e))
		return; /* in flight: its job's end puts it back */
	if (!sched_is_waiting(e) || sched_due(e) > now)
		sched_wait(r->sched, e, now);
	run_due(r);
}

/* Flush one known message: due now whatever its retry times say. */
static void flush_ent(struct sched *s, struct sched_ent *e, void *arg)
{
	struct msg_job *j = sched_data(e);

	(void)s;
	if (j)
		j->reflush = 1;
	else
		due_at(arg, e, time(NULL), 1);
}

int runner_flush(struct runner *r, const char *id)
{
	struct sched_ent *e;
	int x;

	if (id) {
		if ((x = queue_exists(r->srv->queue_dir, id)) <= 0) {
			if (x == 0)
				errno = ENOENT;
			return -1;
		}
		if (!(e = sched_add(r->sched, id)))
			return -1;
		flush_ent(r->sched, e, r);
		run_due(r);
		return 1;
	}
	if (r->loading)
		r->flush_on_load = 1; /* the rest, as the scan finds them */
	sched_each(r->sched, flush_ent, r);
	run_due(r);
	return (int)sched_count(r->sched);
}

static void admin_finished(void *arg)
{
	struct msg_job *j = arg;
	const char *what = j->admin == ADMIN_BOUNCE ? "bounce" : "delete";

	j->on_worker = 0;
	after_work(j); /* a bounce's report goes out */
	if (j->admin_err == 0 && j->admin == ADMIN_DELETE)
		log_info("%s: deleted from the queue by the administrator (no delivery, no report)", j->id);
	else if (j->admin_err != 0 && j->admin_err != ENOENT)
		log_warn("%s: cannot %s: %s", j->id, what, strerror(j->admin_err));
	if (j->admin_done)
		j->admin_done(j->admin_arg, j->admin_err);
	job_end(j);
}

static void submit_admin(struct msg_job *j)
{
	if (job_submit(j, j->admin == ADMIN_BOUNCE ? job_bounce : job_delete, admin_finished) < 0) {
		j->admin_err = ENOMEM;
		admin_finished(j);
	}
}

/* Take message id over for the administrator (see runner_int.h). */
static int take_over(struct runner *r, const char *id, int admin, void (*done)(void *, int), void *arg)
{
	struct msg_job *j;

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if ((j = job_find(r, id)) && j->admin) {
		errno = EBUSY;
		return -1;
	}
	if (!j) {
		struct sched_ent *e = sched_add(r->sched, id);
		if (!e || !(j = job_new(r, e))) {
			if (e && !sched_is_waiting(e))
				sched_del(r->sched, e); /* made just now */
			errno = ENOMEM;
			return -1;
		}
	}
	j->admin = admin;
	j->admin_done = done;
	j->admin_arg = arg;
	if (j->on_worker)
		return 0; /* its done callback goes on to the administrator's step */
	remote_runs_cancel(r, j);
	if (j->domains_left <= 0)
		submit_admin(j);
	remote_runs_pump(r);
	return 0;
}

int runner_delete(struct runner *r, const char *id, void (*done)(void *arg, int err), void *arg)
{
	return take_over(r, id, ADMIN_DELETE, done, arg);
}

int runner_bounce(struct runner *r, const char *id, void (*done)(void *arg, int err), void *arg)
{
	return take_over(r, id, ADMIN_BOUNCE, done, arg);
}

void runner_forget(struct runner *r, void *arg)
{
	struct msg_job *j;

	LIST_FOREACH(j, &r->jobs, link)
		if (j->admin_arg == arg)
			j->admin_done = NULL;
}

/* The start-up scan of the queue: on a worker, then into the schedule. */
struct queue_load {
	struct runner *r;
	struct queue_entry *v;
	int n, err;
	struct timeval t0;
};

static void load_scan(void *arg)
{
	struct queue_load *l = arg;

	l->n = queue_scan(l->r->srv->queue_dir, &l->v);
	l->err = errno;
}

/* The longest wait of the retry schedule: no message is due later than
 * that from now (a file's time far ahead means a clock stepped back). */
static time_t longest_wait(const struct config *c)
{
	struct job_cfg jc;
	int w = 1;

	snapshot_cfg(&jc, c);
	for (int i = 0; i < jc.retry_schedule_n; i++)
		if (jc.retry_schedule[i] > w)
			w = jc.retry_schedule[i];
	return w;
}

static void load_done(void *arg);

static void load_again(evutil_socket_t fd, short what, void *arg)
{
	struct queue_load *l = arg;

	(void)fd;
	(void)what;
	if (workers_submit(l->r->srv->workers, load_scan, load_done, l) < 0)
		free(l);                   /* the pool is stopping: so is the daemon */
}

/* Each message found is due at its file's mtime (the past: now). One
 * already known (accepted, flushed or deleted since the start) is left
 * as it is: what happened to it since is newer. */
static void load_done(void *arg)
{
	struct queue_load *l = arg;
	struct runner *r = l->r;
	time_t now = time(NULL), horizon = now + longest_wait(r->srv->cfg);
	struct timeval t1;
	int due = 0;

	if (l->n < 0) {
		static const struct timeval one_second = { 1, 0 };

		errno = l->err;
		/* a connection flood may hold every descriptor just as the queue
		 * is listed: the queue is not lost, it is listed again later */
		if ((l->err == EMFILE || l->err == ENFILE) &&
		    event_base_once(r->srv->base, -1, EV_TIMEOUT, load_again, l, &one_second) == 0) {
			log_warn("queue: cannot list %s yet: %m; trying again in 1 s", r->srv->queue_dir);
			return;
		}
		log_fatal("queue recovery failed in %s: %m", r->srv->queue_dir);
	}
	for (int i = 0; i < l->n; i++) {
		struct sched_ent *e;
		time_t t = l->v[i].next_attempt;
		if (sched_find(r->sched, l->v[i].id))
			continue;
		if (!(e = sched_add(r->sched, l->v[i].id)))
			log_fatal("queue: out of memory loading the schedule");
		if (r->flush_on_load)
			t = now;
		due_at(r, e, t < horizon ? t : horizon, r->flush_on_load);
		due += t <= now;
	}
	gettimeofday(&t1, NULL);
	if (l->n > 0)
		log_info("queue: %d message(s) recovered", l->n);
	log_info("queue: schedule loaded: %d message(s), %d due now, in %ld ms", l->n, due,
	         (long)((t1.tv_sec - l->t0.tv_sec) * 1000 + (t1.tv_usec - l->t0.tv_usec) / 1000));
	free(l->v);
	free(l);
	r->loading = 0;
	r->flush_on_load = 0;
	run_due(r);
}

/* A kept connection has closed: a waiting delivery may start now. */
static void on_conn_room(void *arg)
{
	remote_runs_pump(arg);
}

struct runner *runner_start(struct server *srv)
{
	struct runner *r = calloc(1, sizeof *r);
	struct queue_load *l = calloc(1, sizeof *l);
	char err[600];

	if (!r || !l || !(r->sched = sched_new()))
		log_fatal("runner: out of memory");
	r->srv = srv;
	TAILQ_INIT(&r->waiting);
	TAILQ_INIT(&r->active);
	LIST_INIT(&r->jobs);
	if (!(r->dns = dns_new(srv->base, srv->cfg->dns_servers, err, sizeof err)))
		log_fatal("dns: %s", err);
	if (!(r->tls = smtpc_tls_ctx_new()))
		log_fatal("runner: cannot create the client TLS context");
	if (!(r->conns = conn_cache_new(on_conn_room, r)))
		log_fatal("runner: out of memory");
	/* debris first, before any session spools into tmp/ */
	if (queue_sweep(srv->queue_dir) < 0)
		log_fatal("queue recovery failed in %s: %m", srv->queue_dir);
	r->timer = evtimer_new(srv->base, on_timer, r);
	/* the queue is listed on a worker: the daemon serves meanwhile */
	l->r = r;
	gettimeofday(&l->t0, NULL);
	r->loading = 1;
	if (workers_submit(srv->workers, load_scan, load_done, l) < 0)
		log_fatal("runner: out of memory");
	r->ctl = ctl_start(r, srv->base, srv->queue_dir);
	return r;
}

/* After workers_stop: no worker touches a job any more, so all can go. */
void runner_stop(struct runner *r)
{
	struct msg_job *j;

	if (!r)
		return;
	ctl_stop(r->ctl);
	remote_runs_stop(r);
	while ((j = LIST_FIRST(&r->jobs)))
		job_free(j);
	conn_cache_free(r->conns);
	dns_free(r->dns);
	SSL_CTX_free(r->tls);
	event_free(r->timer);
	sched_free(r->sched);
	free(r);
}
