/*
 * login: a mail session's password login (see login.h). The struct login
 * and the protocol's data are one allocation, wiped and freed here.
 */
#include "auth/login.h"
#include "metrics/metrics.h"
#include "auth/throttle.h"
#include "daemon/conn.h"
#include "daemon/server.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define LOGIN_FAIL_DELAY_MS 0      /* a fuzzer cannot wait a second per wrong password */
#else
#define LOGIN_FAIL_DELAY_MS 1000   /* before a wrong password's answer */
#endif

static void login_free(struct login *l)
{
	explicit_bzero(l, l->size);
	free(l);
}

static void check_work(void *arg)
{
	struct login *l = arg;

	l->res = auth_check(l->srv->store, l->srv->auth_cache, l->cr.authcid, l->cr.password, l->account,
	                    sizeof l->account, l->mailbox, sizeof l->mailbox);
	explicit_bzero(l->cr.password, sizeof l->cr.password);
	if (l->res == AUTH_OK && l->proto->after)
		l->proto->after(l);
}

/* The quick look on a general worker: answered from the cache (the
 * password wiped, after() run), or left for the hashing queue. */
static void cached_work(void *arg)
{
	struct login *l = arg;
	enum auth_result res;

	if (!auth_check_cached(l->srv->store, l->srv->auth_cache, l->cr.authcid, l->cr.password,
	                       l->account, sizeof l->account, l->mailbox, sizeof l->mailbox, &res))
		return;
	l->cached = 1;
	l->res = res;
	explicit_bzero(l->cr.password, sizeof l->cr.password);
	if (l->res == AUTH_OK && l->proto->after)
		l->proto->after(l);
}

static void check_done(void *st, void *arg)
{
	struct login *l = arg;
	const struct login_proto *p = l->proto;
	char safe[200];

	if (l->res == AUTH_OK)
		metrics_inc(l->srv->metrics, M_LOGINS, p->name, "ok");
	else if (l->res == AUTH_FAIL)
		metrics_inc(l->srv->metrics, M_LOGINS, p->name, "failed");
	if (l->res != AUTH_FAIL) {
		throttle_end(l->srv->auth_throttle, l->ip, time(NULL), 0);
		p->done(st, l);
		login_free(l);
		return;
	}
	/* fail2ban: "smtp authentication failed: ip=ADDR", "pop3 ..." */
	log_value(l->cr.authcid, sizeof l->cr.authcid, safe, sizeof safe);
	log_warn_key(l->ip, "%s authentication failed: ip=%s user=%s", p->name, l->ip, safe);
	if (throttle_end(l->srv->auth_throttle, l->ip, time(NULL), 1))
		log_warn_key(l->ip, "%s: ip=%s blocked from authenticating after repeated failures", p->name,
		             l->ip);
	if (st)   /* the answer after a delay; pipelined input waits for it */
		conn_pause(l->c, LOGIN_FAIL_DELAY_MS, p->failed);
	p->done(NULL, l);                  /* only to release data */
	login_free(l);
}

static void queue_check(void *st, struct login *l)
{
	const struct login_proto *p = l->proto;

	if (conn_login_job(l->c, l->srv->logins, p->svc, l->cr.authcid, check_work, check_done, l) < 0) {
		throttle_end(l->srv->auth_throttle, l->ip, time(NULL), 0);
		log_warn_key(l->ip, "%s[%llu] ip=%s: login refused: too many password checks waiting",
		             p->name, conn_id(l->c), l->ip);
		p->done(NULL, l);          /* only to release data */
		login_free(l);
		p->refused(st, 0);
	}
}

static void cached_done(void *st, void *arg)
{
	struct login *l = arg;

	if (l->cached || !st)         /* answered, or the client has gone */
		check_done(st, l);
	else
		queue_check(st, l);
}

void login_start(struct conn *c, void *st, struct server *srv, const struct login_proto *p,
                 struct sasl_creds *cr, size_t data_size)
{
	const char *ip = conn_ip(c);
	struct login *l;
	int wait;

	/* counted while in flight: guesses sent in parallel on many
	 * connections get no more verdicts than the limit */
	if ((wait = throttle_begin(srv->auth_throttle, ip, time(NULL))) > 0) {
		explicit_bzero(cr, sizeof *cr);
		log_warn_key(ip, "%s[%llu] ip=%s: login refused: too many failures or attempts in progress"
		             " (%ds more)", p->name, conn_id(c), ip, wait);
		p->refused(st, wait);
		return;
	}
	/* the protocol's data right after the struct (aligned as it is) */
	if (!(l = calloc(1, sizeof *l + data_size))) {
		throttle_end(srv->auth_throttle, ip, time(NULL), 0);
		explicit_bzero(cr, sizeof *cr);
		p->refused(st, 0);
		return;
	}
	l->res = AUTH_TEMPFAIL;           /* until the check has run: never a login by default */
	l->size = sizeof *l + data_size;
	l->data = l + 1;
	l->srv = srv;
	l->proto = p;
	l->c = c;
	l->cr = *cr;
	explicit_bzero(cr, sizeof *cr);
	snprintf(l->ip, sizeof l->ip, "%s", ip);
	if (srv->auth_cache && conn_job(c, srv->workers, 1, cached_work, cached_done, l) == 0)
		return;
	queue_check(st, l);
}
