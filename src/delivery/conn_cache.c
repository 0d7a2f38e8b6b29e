/* conn_cache: idle outbound SMTP sessions by domain (see conn_cache.h). */
#include "delivery/conn_cache.h"
#include "delivery/smtp_client.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct idle {
	TAILQ_ENTRY(idle) link;          /* oldest first */
	struct conn_cache *cc;
	struct smtpc *s;
	char domain[256];
};

TAILQ_HEAD(idle_head, idle);

struct conn_cache {
	struct idle_head idle;
	int n;
	struct idle_head closing;        /* QUIT sent, waiting for the 221 */
	void (*room)(void *);
	void *room_arg;
};

struct conn_cache *conn_cache_new(void (*room)(void *), void *arg)
{
	struct conn_cache *cc = calloc(1, sizeof *cc);

	if (cc) {
		TAILQ_INIT(&cc->idle);
		TAILQ_INIT(&cc->closing);
		cc->room = room;
		cc->room_arg = arg;
	}
	return cc;
}

static void on_closed(enum smtpc_outcome o, const char *err, void *arg)
{
	struct idle *i = arg;
	struct conn_cache *cc = i->cc;

	(void)o;
	(void)err;
	TAILQ_REMOVE(&cc->closing, i, link);
	free(i);
	if (cc->room)
		cc->room(cc->room_arg);
}

/* QUIT, politely, keeping track until the session is gone (so that a
 * stop frees it). Without memory for that, just close. */
static void end(struct conn_cache *cc, struct smtpc *s, const char *domain)
{
	struct idle *i = calloc(1, sizeof *i);

	if (!i) {
		smtpc_abort(s);
		return;
	}
	i->cc = cc;
	i->s = s;
	snprintf(i->domain, sizeof i->domain, "%s", domain);
	TAILQ_INSERT_TAIL(&cc->closing, i, link);
	smtpc_quit(s, on_closed, i);
}

static void forget(struct idle *i)
{
	TAILQ_REMOVE(&i->cc->idle, i, link);
	i->cc->n--;
	free(i);
}

/* Waited long enough (QUIT), or the server closed it or spoke (close). */
static void on_gone(struct smtpc *s, int timed_out, void *arg)
{
	struct idle *i = arg;
	struct conn_cache *cc = i->cc;
	char domain[sizeof i->domain];

	memcpy(domain, i->domain, sizeof domain);
	forget(i);
	if (timed_out) {
		end(cc, s, domain);
		return;
	}
	smtpc_abort(s);
	if (cc->room)
		cc->room(cc->room_arg);
}

static int count(const struct idle_head *h, const char *domain)
{
	const struct idle *i;
	int n = 0;

	TAILQ_FOREACH(i, h, link)
		n += !domain || strcmp(i->domain, domain) == 0;
	return n;
}

int conn_cache_open(const struct conn_cache *cc, const char *domain)
{
	return count(&cc->idle, domain) + count(&cc->closing, domain);
}

int conn_cache_has_idle(const struct conn_cache *cc, const char *domain)
{
	return count(&cc->idle, domain) > 0;
}

void conn_cache_put(struct conn_cache *cc, const char *domain, struct smtpc *s,
                    int max, int max_per_domain)
{
	struct idle *i;

	if (cc->n >= max || count(&cc->idle, domain) >= max_per_domain ||
	    smtpc_age(s) >= CONN_MAX_AGE || strlen(domain) >= sizeof i->domain ||
	    !(i = calloc(1, sizeof *i))) {
		end(cc, s, domain);
		return;
	}
	i->cc = cc;
	i->s = s;
	memcpy(i->domain, domain, strlen(domain) + 1);
	TAILQ_INSERT_TAIL(&cc->idle, i, link);
	cc->n++;
	smtpc_park(s, CONN_IDLE_SECONDS, on_gone, i);
}

struct smtpc *conn_cache_take(struct conn_cache *cc, const char *domain)
{
	struct idle *i;
	struct smtpc *s;

	/* the most recently parked: the least likely to have been closed */
	for (i = TAILQ_LAST(&cc->idle, idle_head); i; i = TAILQ_PREV(i, idle_head, link))
		if (strcmp(i->domain, domain) == 0)
			break;
	if (!i)
		return NULL;
	s = i->s;
	forget(i);
	return s;
}

int conn_cache_drop_oldest(struct conn_cache *cc)
{
	struct idle *i = TAILQ_FIRST(&cc->idle);
	char domain[sizeof i->domain];
	struct smtpc *s;

	if (!i)
		return -1;
	s = i->s;
	memcpy(domain, i->domain, sizeof domain);
	forget(i);
	end(cc, s, domain);
	return 0;
}

void conn_cache_free(struct conn_cache *cc)
{
	struct idle *i;

	if (!cc)
		return;
	while ((i = TAILQ_FIRST(&cc->idle))) {
		struct smtpc *s = i->s;
		forget(i);
		smtpc_abort(s);
	}
	while ((i = TAILQ_FIRST(&cc->closing))) {
		TAILQ_REMOVE(&cc->closing, i, link);
		smtpc_abort(i->s);
		free(i);
	}
	free(cc);
}
