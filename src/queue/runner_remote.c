/*
 * runner_remote: the remote deliveries of the queue runner's jobs (see
 * runner_int.h), on the event loop. A job's due remote recipients are
 * grouped by domain, one run (one SMTP transaction, delivery/remote.h)
 * per domain; runs wait in line and start as [delivery] max_connections
 * and max_per_domain allow, counting the connections the outbound cache
 * keeps open. When a job's last run has ended, the job goes back to
 * runner.c to record the results.
 */
#include "queue/runner_int.h"
#include "daemon/server.h"
#include "delivery/conn_cache.h"
#include "delivery/remote.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* The remote delivery of one job's recipients in one domain. */
struct domain_run {
	struct runner *r;
	struct msg_job *j;
	size_t first, n;                 /* slice of j->remote / j->res */
	struct remote *rm;               /* while active */
	TAILQ_ENTRY(domain_run) link;    /* waiting or active */
};

static int domain_active(struct runner *r, const char *domain)
{
	struct domain_run *d;
	int n = 0;

	TAILQ_FOREACH(d, &r->active, link)
		if (strcmp(d->j->remote[d->first].domain, domain) == 0)
			n++;
	return n;
}

/* One domain of a job is finished; the last one hands the job back. */
static void run_finished(struct domain_run *d)
{
	struct msg_job *j = d->j;

	free(d);
	if (--j->domains_left == 0)
		job_remote_done(j);
}

static void on_run_done(void *arg)
{
	struct domain_run *d = arg;
	struct runner *r = d->r;

	d->rm = NULL;
	TAILQ_REMOVE(&r->active, d, link);
	r->nactive--;
	run_finished(d);
	remote_runs_pump(r);
}

void remote_runs_pump(struct runner *r)
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

void remote_runs_start(struct msg_job *j)
{
	struct runner *r = j->r;
	size_t k = 0;

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
	if (--j->domains_left == 0)
		job_remote_done(j);
	remote_runs_pump(r);
}

void remote_runs_cancel(struct runner *r, struct msg_job *j)
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

void remote_runs_stop(struct runner *r)
{
	struct domain_run *d;

	while ((d = TAILQ_FIRST(&r->active))) {
		TAILQ_REMOVE(&r->active, d, link);
		remote_abort(d->rm);
		free(d);
	}
	while ((d = TAILQ_FIRST(&r->waiting))) {
		TAILQ_REMOVE(&r->waiting, d, link);
		free(d);
	}
}
