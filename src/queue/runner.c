/*
 * runner: the event-loop half of the queue runner (see runner.h and
 * runner_int.h). A message id is handled by at most one job at a time
 * (the in-flight set). A job goes: job_prepare on a worker (local
 * deliveries, due remote recipients) -> one remote delivery per
 * recipient domain on the loop, started as the connection limits allow
 * -> job_record on a worker (results into the envelope, reports,
 * removal). A timer wakes the runner for the earliest retry; a rescan
 * every minute catches everything else. The administrator's requests
 * arrive through the control socket (control.c): a flush makes a job
 * that ignores the retry times; a delete or bounce stops the message's
 * job wherever it is (aborting its SMTP sessions before the final dot)
 * and, on a worker, removes the message or fails what is pending.
 */
#include "queue/runner.h"
#include "queue/runner_int.h"
#include "queue/queue.h"
#include "queue/control.h"
#include "daemon/server.h"
#include "delivery/conn_cache.h"
#include "delivery/dns.h"
#include "delivery/remote.h"
#include "delivery/smtp_client.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/event.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>

#define RESCAN_SECONDS 60

/* The remote delivery of one job's recipients in one domain. */
struct domain_run {
	struct runner *r;
	struct msg_job *j;
	size_t first, n;                 /* slice of j->remote / j->res */
	struct remote *rm;               /* while active */
	TAILQ_ENTRY(domain_run) link;    /* waiting or active */
};

TAILQ_HEAD(run_list, domain_run);

struct runner {
	struct server *srv;
	struct event *timer;             /* periodic rescan */
	struct event *wake;              /* the earliest retry */
	time_t wake_at;
	struct dns *dns;
	SSL_CTX *tls;
	struct conn_cache *conns;        /* idle outbound sessions, by domain */
	struct run_list waiting, active;
	int nactive;
	LIST_HEAD(, msg_job) jobs;       /* the messages in flight */
	struct ctl_server *ctl;          /* the control socket, NULL if none */
};

static void pump(struct runner *r);
static void schedule(struct runner *r, const char *id, int force);
static void submit_admin(struct msg_job *j);

static struct msg_job *job_find(struct runner *r, const char *id)
{
	struct msg_job *j;

	LIST_FOREACH(j, &r->jobs, link)
		if (strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

static void job_free(struct msg_job *j)
{
	LIST_REMOVE(j, link);
	free(j->remote);
	free(j->res);
	free(j);
}

/* The job is over: the message may be picked up again (at once if it
 * was flushed meanwhile). */
static void job_end(struct msg_job *j)
{
	struct runner *r = j->r;
	char id[QUEUE_ID_LEN + 1];
	int again = j->reflush && !j->admin;
	int due = j->due_again && !j->admin && !j->gone;

	memcpy(id, j->id, sizeof id);
	job_free(j);
	if (again || due)
		schedule(r, id, again);
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

static void on_rescan(evutil_socket_t fd, short what, void *arg);

/* Make sure the runner wakes up by time t. */
static void wake_by(struct runner *r, time_t t)
{
	time_t now = time(NULL);
	struct timeval tv = { 0, 0 };

	if (t == 0 || (r->wake_at > now && r->wake_at <= t))
		return;
	r->wake_at = t;
	tv.tv_sec = t > now ? t - now : 0;
	evtimer_add(r->wake, &tv);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct runner *r = arg;

	r->wake_at = 0;
	on_rescan(fd, what, arg);
}

/* What a worker step leaves for the loop: reports to deliver, a wake-up. */
static void after_work(struct msg_job *j)
{
	for (int i = 0; i < j->nnew; i++)
		runner_schedule(j->r, j->new_ids[i]);
	j->nnew = 0;
	wake_by(j->r, j->wake);
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

static int domain_active(struct runner *r, const char *domain)
{
	struct domain_run *d;
	int n = 0;

	TAILQ_FOREACH(d, &r->active, link)
		if (strcmp(d->j->remote[d->first].domain, domain) == 0)
			n++;
	return n;
}

/* One domain of a job is finished; the last one sends the job to record. */
static void run_finished(struct domain_run *d)
{
	struct msg_job *j = d->j;

	free(d);
	if (--j->domains_left > 0)
		return;
	if (j->admin) {
		submit_admin(j);
		return;
	}
	if (job_submit(j, job_record, record_done) < 0) {
		log_warn("%s: cannot record results (out of memory); will retry", j->id);
		job_end(j);
	}
}

static void on_run_done(void *arg)
{
	struct domain_run *d = arg;
	struct runner *r = d->r;

	d->rm = NULL;
	TAILQ_REMOVE(&r->active, d, link);
	r->nactive--;
	run_finished(d);
	pump(r);
}

/* A kept connection has closed: a waiting delivery may start now. */
static void on_conn_room(void *arg)
{
	pump(arg);
}

/* Start waiting deliveries while the global and per-domain limits allow. */
static void pump(struct runner *r)
{
	const struct config *cfg = r->srv->cfg;
	struct domain_run *d, *next;

	for (d = TAILQ_FIRST(&r->waiting); d && r->nactive < cfg->delivery_max_connections; d = next) {
		struct msg_job *j = d->j;
		struct remote_params p;
		const char *dom;

		next = TAILQ_NEXT(d, link);
		dom = j->remote[d->first].domain;
		if (domain_active(r, dom) >= cfg->delivery_max_per_domain)
			continue;
		/* a kept connection, idle or quitting, is an open one too; taking
		 * an idle one for this domain opens nothing */
		if (!conn_cache_has_idle(r->conns, dom)) {
			if (domain_active(r, dom) + conn_cache_open(r->conns, dom) >= cfg->delivery_max_per_domain)
				continue;
			if (r->nactive + conn_cache_open(r->conns, NULL) >= cfg->delivery_max_connections) {
				/* QUIT an idle one elsewhere; its close pumps again */
				conn_cache_drop_oldest(r->conns);
				continue;
			}
		}
		TAILQ_REMOVE(&r->waiting, d, link);
		memset(&p, 0, sizeof p);
		p.base = r->srv->base;
		p.cfg = cfg;
		p.dns = r->dns;
		p.tls = r->tls;
		p.queue_id = j->id;
		p.helo = j->cfg.hostname;
		p.domain = j->remote[d->first].domain;
		p.sender = j->sender;
		p.msg_path = j->msg_path;
		p.msg_offset = j->msg_offset;
		p.msg_size = j->size;
		p.rcpts = &j->res[d->first];
		p.nrcpt = d->n;
		p.cache = r->conns;
		p.max_conns = cfg->delivery_max_connections;
		p.max_per_domain = cfg->delivery_max_per_domain;
		if (!(d->rm = remote_start(&p, on_run_done, d))) {
			for (size_t k = 0; k < d->n; k++)
				snprintf(j->res[d->first + k].reason, sizeof j->res[0].reason, "4.3.0 out of memory");
			run_finished(d);
			continue;
		}
		TAILQ_INSERT_TAIL(&r->active, d, link);
		r->nactive++;
	}
}

static void prepare_done(void *arg)
{
	struct msg_job *j = arg;
	struct runner *r = j->r;
	size_t k = 0;

	j->on_worker = 0;
	after_work(j);
	if (j->admin) {
		submit_admin(j);
		return;
	}
	if (j->gone || j->nremote == 0) {
		job_end(j);
		return;
	}
	/* j->remote is sorted by domain: one run per slice */
	j->domains_left = 1; /* held until every run is queued */
	while (k < j->nremote) {
		size_t end = k + 1;
		struct domain_run *d;
		while (end < j->nremote && strcmp(j->remote[end].domain, j->remote[k].domain) == 0)
			end++;
		if ((d = calloc(1, sizeof *d))) {
			d->r = r;
			d->j = j;
			d->first = k;
			d->n = end - k;
			j->domains_left++;
			TAILQ_INSERT_TAIL(&r->waiting, d, link);
		} /* else its recipients stay without result: deferred by job_record */
		k = end;
	}
	if (--j->domains_left == 0 && job_submit(j, job_record, record_done) < 0)
		job_end(j);
	pump(r);
}

static void snapshot_cfg(struct job_cfg *jc, const struct config *c)
{
	memcpy(jc->retry_schedule, c->retry_schedule, sizeof jc->retry_schedule);
	jc->retry_schedule_n = c->retry_schedule_n > 0 ? c->retry_schedule_n : 1;
	jc->max_age = c->queue_max_age;
	jc->delay_warning = c->queue_delay_warning;
	snprintf(jc->hostname, sizeof jc->hostname, "%s", c->hostname);
}

/* A new job for message id, in flight from now on; NULL if out of memory
 * (the periodic rescan will pick the message up). */
static struct msg_job *job_new(struct runner *r, const char *id)
{
	struct msg_job *j = calloc(1, sizeof *j);

	if (!j)
		return NULL;
	j->r = r;
	j->srv = r->srv;
	snapshot_cfg(&j->cfg, r->srv->cfg);
	snprintf(j->id, sizeof j->id, "%s", id);
	LIST_INSERT_HEAD(&r->jobs, j, link);
	return j;
}

/* Start a job for id unless one is in flight; force: try every pending
 * recipient now, whatever its retry time. */
static void schedule(struct runner *r, const char *id, int force)
{
	struct msg_job *j = job_find(r, id);

	if (j) {
		if (force)
			j->reflush = 1;
		return;
	}
	if (!(j = job_new(r, id)))
		return;
	j->force = force;
	if (job_submit(j, job_prepare, prepare_done) < 0)
		job_free(j);
}

void runner_schedule(struct runner *r, const char *id)
{
	schedule(r, id, 0);
}

static void schedule_cb(const char *id, void *arg)
{
	runner_schedule(arg, id);
}

int runner_flush(struct runner *r, const char *id)
{
	char path[700];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n = 0;

	if (id) {
		if (!queue_id_valid(id)) {
			errno = EINVAL;
			return -1;
		}
		snprintf(path, sizeof path, "%s/env/%s", r->srv->queue_dir, id);
		if (stat(path, &st) < 0)
			return -1;
		schedule(r, id, 1);
		return 1;
	}
	snprintf(path, sizeof path, "%s/env", r->srv->queue_dir);
	if (!(d = opendir(path)))
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (queue_id_valid(de->d_name)) {
			schedule(r, de->d_name, 1);
			n++;
		}
	}
	closedir(d);
	return n;
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

/* Stop the remote deliveries of a job the administrator takes over. An
 * SMTP session closed before the final dot delivers nothing. */
static void cancel_runs(struct runner *r, struct msg_job *j)
{
	struct domain_run *d, *next;

	for (d = TAILQ_FIRST(&r->waiting); d; d = next) {
		next = TAILQ_NEXT(d, link);
		if (d->j != j)
			continue;
		TAILQ_REMOVE(&r->waiting, d, link);
		free(d);
		j->domains_left--;
	}
	for (d = TAILQ_FIRST(&r->active); d; d = next) {
		next = TAILQ_NEXT(d, link);
		if (d->j != j)
			continue;
		TAILQ_REMOVE(&r->active, d, link);
		remote_abort(d->rm);
		r->nactive--;
		free(d);
		j->domains_left--;
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
	if (!j && !(j = job_new(r, id))) {
		errno = ENOMEM;
		return -1;
	}
	j->admin = admin;
	j->admin_done = done;
	j->admin_arg = arg;
	if (j->on_worker)
		return 0; /* its done callback goes on to the administrator's step */
	cancel_runs(r, j);
	if (j->domains_left <= 0)
		submit_admin(j);
	pump(r);
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

/* Retry what is due. Listing env/ is cheap; each job checks the times. */
static void on_rescan(evutil_socket_t fd, short what, void *arg)
{
	struct runner *r = arg;
	char dir[700];
	struct dirent *de;
	DIR *d;

	(void)fd;
	(void)what;
	snprintf(dir, sizeof dir, "%s/env", r->srv->queue_dir);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d)) != NULL)
		if (queue_id_valid(de->d_name))
			runner_schedule(r, de->d_name);
	closedir(d);
}

struct runner *runner_start(struct server *srv)
{
	struct runner *r = calloc(1, sizeof *r);
	struct timeval tv = { RESCAN_SECONDS, 0 };
	char err[600];
	int n;

	if (!r)
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
	n = queue_recover(srv->queue_dir, schedule_cb, r);
	if (n < 0)
		log_fatal("queue recovery failed in %s: %m", srv->queue_dir);
	if (n > 0)
		log_info("queue: %d message(s) recovered", n);
	r->timer = event_new(srv->base, -1, EV_PERSIST, on_rescan, r);
	r->wake = evtimer_new(srv->base, on_wake, r);
	event_add(r->timer, &tv);
	r->ctl = ctl_start(r, srv->base, srv->queue_dir);
	return r;
}

/* After workers_stop: no worker touches a job any more, so all can go. */
void runner_stop(struct runner *r)
{
	struct domain_run *d;
	struct msg_job *j;

	if (!r)
		return;
	ctl_stop(r->ctl);
	while ((d = TAILQ_FIRST(&r->active))) {
		TAILQ_REMOVE(&r->active, d, link);
		remote_abort(d->rm);
		free(d);
	}
	while ((d = TAILQ_FIRST(&r->waiting))) {
		TAILQ_REMOVE(&r->waiting, d, link);
		free(d);
	}
	while ((j = LIST_FIRST(&r->jobs)))
		job_free(j);
	conn_cache_free(r->conns);
	dns_free(r->dns);
	SSL_CTX_free(r->tls);
	event_free(r->timer);
	event_free(r->wake);
	free(r);
}
