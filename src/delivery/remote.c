/*
 * remote: MX hosts in order, each address in turn (see remote.h).
 * Owns its DNS query and at most one SMTP session at a time. A session
 * left idle by the last message to the domain is tried first; if the
 * server dropped it meanwhile, the usual lookup and connect follow.
 */
#include "delivery/remote.h"
#include "delivery/conn_cache.h"
#include "delivery/dns.h"
#include "util/config.h"
#include "util/log.h"
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct remote {
	struct remote_params p;
	void (*done)(void *arg);
	void *arg;
	struct dns_query *q;
	struct smtpc *session;
	struct event *later;            /* reports an early result from the loop */
	struct dns_mx_result *mx;
	int next;                       /* next target to try */
	int tls_off;                    /* retrying this target without TLS */
	int reused;                     /* the session came from the cache */
	char last_err[512];
};

static void try_next(struct remote *rm);
static void lookup(struct remote *rm);

/* The message and recipients of a session; the caller sets the target. */
static void fill_params(struct remote *rm, struct smtpc_params *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->base = rm->p.base;
	sp->cfg = rm->p.cfg;
	sp->queue_id = rm->p.queue_id;
	sp->helo = rm->p.helo;
	sp->sender = rm->p.sender;
	sp->msg_path = rm->p.msg_path;
	sp->msg_offset = rm->p.msg_offset;
	sp->msg_size = rm->p.msg_size;
	sp->rcpts = rm->p.rcpts;
	sp->nrcpt = rm->p.nrcpt;
	sp->keep = rm->p.cache != NULL;
}

static void release(struct remote *rm)
{
	dns_cancel(rm->q);
	smtpc_abort(rm->session);
	if (rm->later)
		event_free(rm->later);
	free(rm->mx);
	config_unref(rm->p.cfg);
	free(rm);
}

void remote_abort(struct remote *rm)
{
	if (rm)
		release(rm);
}

static void finish(struct remote *rm)
{
	void (*done)(void *) = rm->done;
	void *arg = rm->arg;

	rm->session = NULL;
	rm->q = NULL;
	release(rm);
	done(arg);
}

/* Copy src into dst[cap], cut if it must be. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Every recipient still open gets res with reason. */
static void settle(struct remote *rm, enum smtpc_rcpt_result res, const char *reason)
{
	for (size_t i = 0; i < rm->p.nrcpt; i++)
		if (rm->p.rcpts[i].result == SMTPC_RCPT_NONE) {
			rm->p.rcpts[i].result = res;
			copy_str(rm->p.rcpts[i].reason, sizeof rm->p.rcpts[i].reason, reason);
		}
}

static void on_session(enum smtpc_outcome o, const char *err, void *arg)
{
	struct remote *rm = arg;
	struct smtpc *s = rm->session;

	rm->session = NULL;
	if (rm->reused && (o == SMTPC_TRY_NEXT || o == SMTPC_TLS_FAILED)) {
		/* the kept connection was dropped by the server: start afresh */
		log_info("%s: %s (a kept connection); connecting again", rm->p.queue_id, err);
		rm->reused = 0;
		lookup(rm);
		return;
	}
	switch (o) {
	case SMTPC_IDLE:
		conn_cache_put(rm->p.cache, rm->p.domain, s, rm->p.max_conns, rm->p.max_per_domain);
		finish(rm);
		return;
	case SMTPC_FINISHED:
		finish(rm);
		return;
	case SMTPC_TLS_FAILED:
		log_warn("%s: %s; trying again without TLS", rm->p.queue_id, err);
		copy_str(rm->last_err, sizeof rm->last_err, err);
		if (!rm->tls_off) {
			rm->tls_off = 1;
			rm->next--; /* the same address once more */
		}
		break;
	case SMTPC_TRY_NEXT:
		log_info("%s: %s", rm->p.queue_id, err);
		copy_str(rm->last_err, sizeof rm->last_err, err);
		rm->tls_off = 0;
		break;
	}
	try_next(rm);
}

static void try_next(struct remote *rm)
{
	struct smtpc_params sp;
	const struct dns_target *t;

	for (size_t i = 0; i < rm->p.nrcpt; i++)
		rm->p.rcpts[i].result = SMTPC_RCPT_NONE;
	if (rm->next >= rm->mx->ntargets) {
		settle(rm, SMTPC_RCPT_TEMP, rm->last_err[0] ? rm->last_err : "4.4.1 no mail host reachable");
		finish(rm);
		return;
	}
	t = &rm->mx->targets[rm->next++];
	fill_params(rm, &sp);
	sp.tls = rm->tls_off ? NULL : rm->p.tls;
	sp.host = t->host;
	sp.addr = (const struct sockaddr *)&t->addr;
	sp.addrlen = t->addrlen;
	if (!(rm->session = smtpc_start(&sp, on_session, rm))) {
		settle(rm, SMTPC_RCPT_TEMP, "4.3.0 out of memory");
		finish(rm);
	}
}

static void on_mx(const struct dns_mx_result *res, void *arg)
{
	struct remote *rm = arg;
	char reason[600];

	rm->q = NULL;
	switch (res->status) {
	case DNS_OK:
		if (!(rm->mx = malloc(sizeof *rm->mx))) {
			settle(rm, SMTPC_RCPT_TEMP, "4.3.0 out of memory");
			break;
		}
		memcpy(rm->mx, res, sizeof *res);
		try_next(rm);
		return;
	case DNS_NULL_MX:
		snprintf(reason, sizeof reason, "5.1.10 %s", res->error);
		settle(rm, SMTPC_RCPT_PERM, reason);
		break;
	case DNS_NOT_FOUND:
		snprintf(reason, sizeof reason, "5.1.2 %s", res->error);
		settle(rm, SMTPC_RCPT_PERM, reason);
		break;
	case DNS_TEMPFAIL:
		snprintf(reason, sizeof reason, "4.4.3 %s", res->error);
		settle(rm, SMTPC_RCPT_TEMP, reason);
		break;
	}
	finish(rm);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg);
}

/* Ask for the MX hosts; without memory for that, report from the loop. */
static void lookup(struct remote *rm)
{
	struct timeval now = { 0, 0 };

	for (size_t i = 0; i < rm->p.nrcpt; i++)
		rm->p.rcpts[i].result = SMTPC_RCPT_NONE;
	rm->q = dns_mx_lookup(rm->p.dns, rm->p.domain, rm->p.cfg->mx_port, on_mx, rm);
	if (!rm->q) {
		settle(rm, SMTPC_RCPT_TEMP, "4.3.0 out of memory");
		evtimer_add(rm->later, &now);
	}
}

struct remote *remote_start(const struct remote_params *p, void (*done)(void *arg), void *arg)
{
	struct remote *rm = calloc(1, sizeof *rm);
	struct smtpc_params sp;

	if (!rm)
		return NULL;
	rm->p = *p;
	rm->p.cfg = config_ref(p->cfg);   /* held: a reload may publish another */
	rm->done = done;
	rm->arg = arg;
	if (!(rm->later = evtimer_new(p->base, on_later, rm))) {
		config_unref(rm->p.cfg);
		free(rm);
		return NULL;
	}
	for (size_t i = 0; i < p->nrcpt; i++)
		p->rcpts[i].result = SMTPC_RCPT_NONE;
	if (p->cache && (rm->session = conn_cache_take(p->cache, p->domain))) {
		rm->reused = 1;
		fill_params(rm, &sp);
		smtpc_reuse(rm->session, &sp, on_session, rm);
		return rm;
	}
	lookup(rm);
	return rm;
}
