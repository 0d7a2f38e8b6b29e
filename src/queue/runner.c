/*
 * runner: the event-loop half of the queue runner (see runner.h and
 * runner_int.h). A message id is handled by at most one job at a time
 * (the in-flight set). A job goes: job_prepare on a worker (local
 * deliveries, due remote recipients) -> one remote delivery per
 * recipient domain on the loop, started as the connection limits allow
 * -> job_record on a worker (results into the envelope, reports,
 * removal). A timer wakes the runner for the earliest retry; a rescan
 * every minute catches everything else.
 */
#include "queue/runner.h"
#include "queue/runner_int.h"
#include "queue/queue.h"
#include "daemon/server.h"
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
	char (*inflight)[QUEUE_ID_LEN + 1];
	size_t ninflight, cap;
	struct event *timer;             /* periodic rescan */
	struct event *wake;              /* the earliest retry */
	time_t wake_at;
	struct dns *dns;
	SSL_CTX *tls;
	struct run_list waiting, active;
	int nactive;
	LIST_HEAD(, msg_job) jobs;
};

static void pump(struct runner *r);

static int inflight_find(struct runner *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->ninflight; i++)
		if (strcmp(r->inflight[i], id) == 0)
			return (int)i;
	return -1;
}

static void job_free(struct msg_job *j)
{
	LIST_REMOVE(j, link);
	free(j->remote);
	free(j->res);
	free(j);
}

/* The job is over: the message may be picked up again. */
static void job_end(struct msg_job *j)
{
	struct runner *r = j->r;
	int k = inflight_find(r, j->id);

	if (k >= 0)
		memcpy(r->inflight[k], r->inflight[--r->ninflight], sizeof r->inflight[0]);
	job_free(j);
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

	after_work(j);
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
	if (workers_submit(j->srv->workers, job_record, record_done, j) < 0) {
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

/* Start waiting deliveries while the global and per-domain limits allow. */
static void pump(struct runner *r)
{
	const struct config *cfg = &r->srv->cfg;
	struct domain_run *d, *next;

	for (d = TAILQ_FIRST(&r->waiting); d && r->nactive < cfg->delivery_max_connections; d = next) {
		struct msg_job *j = d->j;
		struct remote_params p;

		next = TAILQ_NEXT(d, link);
		if (domain_active(r, j->remote[d->first].domain) >= cfg->delivery_max_per_domain)
			continue;
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
		p.msg_size = j->size;
		p.rcpts = &j->res[d->first];
		p.nrcpt = d->n;
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

	after_work(j);
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
	if (--j->domains_left == 0 && workers_submit(j->srv->workers, job_record, record_done, j) < 0)
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

void runner_schedule(struct runner *r, const char *id)
{
	struct msg_job *j;

	if (inflight_find(r, id) >= 0)
		return;
	if (r->ninflight == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		void *n = realloc(r->inflight, ncap * sizeof r->inflight[0]);
		if (!n)
			return; /* the periodic rescan will pick it up */
		r->inflight = n;
		r->cap = ncap;
	}
	if (!(j = calloc(1, sizeof *j)))
		return;
	j->r = r;
	j->srv = r->srv;
	snapshot_cfg(&j->cfg, &r->srv->cfg);
	snprintf(j->id, sizeof j->id, "%s", id);
	LIST_INSERT_HEAD(&r->jobs, j, link);
	if (workers_submit(r->srv->workers, job_prepare, prepare_done, j) < 0) {
		job_free(j);
		return;
	}
	snprintf(r->inflight[r->ninflight++], sizeof r->inflight[0], "%s", id);
}

static void schedule_cb(const char *id, void *arg)
{
	runner_schedule(arg, id);
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
	if (!(r->dns = dns_new(srv->base, srv->cfg.dns_servers, err, sizeof err)))
		log_fatal("dns: %s", err);
	if (!(r->tls = smtpc_tls_ctx_new()))
		log_fatal("runner: cannot create the client TLS context");
	n = queue_recover(srv->queue_dir, schedule_cb, r);
	if (n < 0)
		log_fatal("queue recovery failed in %s: %m", srv->queue_dir);
	if (n > 0)
		log_info("queue: %d message(s) recovered", n);
	r->timer = event_new(srv->base, -1, EV_PERSIST, on_rescan, r);
	r->wake = evtimer_new(srv->base, on_wake, r);
	event_add(r->timer, &tv);
	return r;
}

/* After workers_stop: no worker touches a job any more, so all can go. */
void runner_stop(struct runner *r)
{
	struct domain_run *d;
	struct msg_job *j;

	if (!r)
		return;
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
	dns_free(r->dns);
	SSL_CTX_free(r->tls);
	event_free(r->timer);
	event_free(r->wake);
	free(r->inflight);
	free(r);
}
