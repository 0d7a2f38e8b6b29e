/*
 * pop3_service: what the POP3 sessions of one daemon share. The set of
 * mailboxes in use (one POP3 session per mailbox: a second login gets
 * [IN-USE]; one daemon owns the data directory, so memory is enough), and
 * a timer that purges expired POP-before-SMTP grants on a worker, once at
 * start and then every PURGE_INTERVAL seconds (or the grant lifetime, if
 * shorter). Loop thread only.
 */
#include "pop3/pop3_session_int.h"
#include "store/relay_auth.h"
#include "util/log.h"
#include "util/workers.h"
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PURGE_INTERVAL 300

struct pop3_lock {
	LIST_ENTRY(pop3_lock) link;
	char mailbox[320];
};

struct pop3_service {
	LIST_HEAD(, pop3_lock) locks;
	struct event *purge;
	int purging;
};

struct pop3_lock *p3_lock_take(struct server *srv, const char *mailbox)
{
	struct pop3_lock *l;

	LIST_FOREACH(l, &srv->pop3->locks, link)
		if (strcasecmp(l->mailbox, mailbox) == 0)
			return NULL;
	if (!(l = calloc(1, sizeof *l)))
		return NULL;
	snprintf(l->mailbox, sizeof l->mailbox, "%s", mailbox);
	LIST_INSERT_HEAD(&srv->pop3->locks, l, link);
	return l;
}

void p3_lock_release(struct server *srv, struct pop3_lock *l)
{
	(void)srv;
	LIST_REMOVE(l, link);
	free(l);
}

struct purge_job {
	struct server *srv;
	int n;
};

static void purge_work(void *arg)
{
	struct purge_job *j = arg;

	j->n = relay_auth_purge(j->srv->store, time(NULL));
}

static void purge_done(void *arg)
{
	struct purge_job *j = arg;

	if (j->n < 0)
		log_warn("relay: purging expired POP-before-SMTP authorizations failed (store error %d)", j->n);
	else if (j->n > 0)
		log_info("relay: purged %d expired POP-before-SMTP authorization(s)", j->n);
	if (j->srv->pop3)
		j->srv->pop3->purging = 0;
	free(j);
}

static void on_purge(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { PURGE_INTERVAL, 0 };
	struct purge_job *j;

	(void)fd;
	(void)what;
	if (srv->cfg->pop_before_smtp_seconds > 0 && srv->cfg->pop_before_smtp_seconds < PURGE_INTERVAL)
		tv.tv_sec = srv->cfg->pop_before_smtp_seconds;
	evtimer_add(srv->pop3->purge, &tv);
	if (!srv->workers || srv->pop3->purging || !(j = calloc(1, sizeof *j)))
		return;
	j->srv = srv;
	if (workers_submit(srv->workers, purge_work, purge_done, j) < 0) {
		free(j);
		return;
	}
	srv->pop3->purging = 1;
}

int pop3_service_start(struct server *srv)
{
	struct timeval soon = { 1, 0 };

	if (srv->pop3)
		return 0;
	if (!(srv->pop3 = calloc(1, sizeof *srv->pop3)))
		return -1;
	LIST_INIT(&srv->pop3->locks);
	if (!(srv->pop3->purge = evtimer_new(srv->base, on_purge, srv)))
		return -1;
	evtimer_add(srv->pop3->purge, &soon);
	return 0;
}

void pop3_service_stop(struct server *srv)
{
	if (srv->pop3 && srv->pop3->purge) {
		event_free(srv->pop3->purge);
		srv->pop3->purge = NULL;
	}
}
