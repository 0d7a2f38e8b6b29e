/*
 * runner: local delivery from the queue (see runner.h). A message id is
 * handled by at most one job at a time (the in-flight set); every
 * recipient result is appended to the envelope and fsynced before the
 * next step, so a crash repeats at most the delivery in progress.
 */
#include "queue/runner.h"
#include "queue/queue.h"
#include "daemon/server.h"
#include "delivery/maildir.h"
#include "store/store.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/event.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESCAN_SECONDS 60

struct runner {
	struct server *srv;
	char (*inflight)[QUEUE_ID_LEN + 1];
	size_t ninflight, cap;
	struct event *timer;
};

struct deliver_job {
	struct runner *r;
	char id[QUEUE_ID_LEN + 1];
};

static int inflight_find(struct runner *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->ninflight; i++)
		if (strcmp(r->inflight[i], id) == 0)
			return (int)i;
	return -1;
}

/* Local delivery retries: 1, 2, 4 ... minutes, at most the queue's last wait. */
static time_t local_backoff(const struct config *cfg, int attempts)
{
	long wait = 60L << (attempts < 10 ? attempts : 10);
	long cap = cfg->retry_schedule[cfg->retry_schedule_n - 1];

	return wait < cap ? wait : cap;
}

static void split_addr(const char *addr, char *local, size_t ll, char *domain, size_t dl)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);
	char *p;

	snprintf(local, ll, "%.*s", (int)n, addr);
	snprintf(domain, dl, "%s", at ? at + 1 : "");
	for (p = local; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (p = domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void deliver_local(struct server *srv, const struct envelope *env, size_t i, const char *msg)
{
	const struct env_rcpt *rc = &env->rcpt[i];
	char local[320], domain[256];
	int hosted = 0, exists = 0;
	const char *qd = srv->queue_dir;

	split_addr(rc->addr, local, sizeof local, domain, sizeof domain);
	if (store_rcpt_lookup(srv->store, local, domain, &hosted, &exists) != 0) {
		log_warn("%s: to=<%s>: deferred: account store unavailable", env->id, rc->addr);
		envelope_mark_tempfail(qd, env->id, i, time(NULL) + local_backoff(&srv->cfg, rc->attempts),
		                       "4.3.0 account store unavailable");
		return;
	}
	if (!exists) {
		log_warn("%s: to=<%s>: failed: 5.1.1 mailbox no longer exists", env->id, rc->addr);
		envelope_mark_failed(qd, env->id, i, "5.1.1 mailbox no longer exists");
		return;
	}
	if (maildir_deliver(srv->cfg.data_dir, local, domain, env->sender, msg) == 0) {
		if (envelope_mark_done(qd, env->id, i) < 0)
			log_warn("%s: to=<%s>: delivered but cannot record it: %s (may be delivered twice)",
			         env->id, rc->addr, strerror(errno));
		log_info("%s: to=<%s>: delivered to maildir", env->id, rc->addr);
	} else {
		char reason[300];
		snprintf(reason, sizeof reason, "4.3.0 maildir delivery failed: %s", strerror(errno));
		log_warn("%s: to=<%s>: deferred: %s", env->id, rc->addr, reason);
		envelope_mark_tempfail(qd, env->id, i, time(NULL) + local_backoff(&srv->cfg, rc->attempts), reason);
	}
}

static void deliver_work(void *p)
{
	struct deliver_job *j = p;
	struct server *srv = j->r->srv;
	struct envelope env;
	char msg[700];
	int final = 1;
	size_t i;
	time_t now = time(NULL);

	if (envelope_load(srv->queue_dir, j->id, &env) < 0) {
		if (errno != ENOENT)
			log_warn("%s: cannot read envelope: %s", j->id, strerror(errno));
		return;
	}
	queue_msg_path(srv->queue_dir, j->id, msg, sizeof msg);
	for (i = 0; i < env.nrcpt; i++) {
		if (env.rcpt[i].state != RCPT_PENDING)
			continue;
		if (!env.rcpt[i].local || env.rcpt[i].next_attempt > now) {
			final = 0; /* remote: waits for outbound delivery */
			continue;
		}
		deliver_local(srv, &env, i, msg);
	}
	envelope_free(&env);
	if (final || envelope_load(srv->queue_dir, j->id, &env) < 0)
		goto check_done;
	final = 1;
	for (i = 0; i < env.nrcpt; i++)
		if (env.rcpt[i].state == RCPT_PENDING)
			final = 0;
	envelope_free(&env);
check_done:
	if (final) {
		if (queue_remove(srv->queue_dir, j->id) == 0)
			log_info("%s: removed", j->id);
		else
			log_warn("%s: cannot remove from queue: %s", j->id, strerror(errno));
	}
}

static void deliver_done(void *p)
{
	struct deliver_job *j = p;
	struct runner *r = j->r;
	int k = inflight_find(r, j->id);

	if (k >= 0)
		memcpy(r->inflight[k], r->inflight[--r->ninflight], sizeof r->inflight[0]);
	free(j);
}

void runner_schedule(struct runner *r, const char *id)
{
	struct deliver_job *j;

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
	snprintf(j->id, sizeof j->id, "%s", id);
	if (workers_submit(r->srv->workers, deliver_work, deliver_done, j) < 0) {
		free(j);
		return;
	}
	snprintf(r->inflight[r->ninflight++], sizeof r->inflight[0], "%s", id);
}

static void schedule_cb(const char *id, void *arg)
{
	runner_schedule(arg, id);
}

/* Periodic: retry what is due. Listing env/ is cheap; each job checks times. */
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
	int n;

	if (!r)
		log_fatal("runner: out of memory");
	r->srv = srv;
	n = queue_recover(srv->queue_dir, schedule_cb, r);
	if (n < 0)
		log_fatal("queue recovery failed in %s: %m", srv->queue_dir);
	if (n > 0)
		log_info("queue: %d message(s) recovered", n);
	r->timer = event_new(srv->base, -1, EV_PERSIST, on_rescan, r);
	event_add(r->timer, &tv);
	return r;
}

void runner_stop(struct runner *r)
{
	if (!r)
		return;
	event_free(r->timer);
	free(r->inflight);
	free(r);
}
