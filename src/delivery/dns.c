/*
 * dns: c-ares driven by libevent (see dns.h). c-ares tells us which
 * sockets it wants watched (ARES_OPT_SOCK_STATE_CB); each gets an event
 * that calls ares_process_fd, and one timer follows ares_timeout().
 * A query is an MX query followed by one ares_getaddrinfo per MX host;
 * the callback runs when all have answered.
 */
#include "delivery/dns.h"
#include "util/log.h"
#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_sock {
	ares_socket_t fd;
	struct event *ev;
	struct dns_sock *next;
};

struct dns {
	struct event_base *base;
	ares_channel ch;
	struct dns_sock *socks;
	struct event *timer;
	int destroying;
	struct dns_query *queries;      /* every live query */
};

struct dns_query;

struct host_addrs {
	struct dns_query *q;            /* the query it belongs to */
	char name[256];
	int pref;
	int tiebreak;
	int status;                     /* ARES_* of its address lookup */
	int naddr;
	struct sockaddr_storage addr[DNS_MAX_HOST_ADDRS];
	socklen_t addrlen[DNS_MAX_HOST_ADDRS];
};

struct dns_query {
	struct dns *d;
	struct dns_query *prev, *next;
	struct event *start;            /* the query starts on the next loop turn */
	char domain[256];
	int port;
	dns_mx_cb cb;
	void *arg;
	int cancelled;
	int pending;                    /* c-ares requests not yet answered */
	int implicit;                   /* no MX: the domain is its own host */
	int nhosts;
	struct host_addrs hosts[DNS_MAX_HOSTS];
};

static void free_query(struct dns_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		q->d->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	if (q->start)
		event_free(q->start);
	free(q);
}

static void update_timer(struct dns *d)
{
	struct timeval tv, *t;

	if (d->destroying)
		return;
	t = ares_timeout(d->ch, NULL, &tv);
	if (t)
		evtimer_add(d->timer, t);
	else
		evtimer_del(d->timer);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	ares_process_fd(d->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	                (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	update_timer(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns *d = arg;

	(void)fd;
	(void)what;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	update_timer(d);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	struct dns_sock **pp, *s;

	for (pp = &d->socks; *pp && (*pp)->fd != fd; pp = &(*pp)->next)
		;
	s = *pp;
	if (!readable && !writable) {
		if (s) {
			*pp = s->next;
			event_free(s->ev);
			free(s);
		}
		return;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return; /* the query times out instead */
		s->fd = fd;
		s->next = d->socks;
		d->socks = s;
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(d->base, fd, (short)(EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0)),
	                  on_sock, d);
	if (s->ev)
		event_add(s->ev, NULL);
}

struct dns *dns_new(struct event_base *base, const char *servers, char *err, size_t errlen)
{
	struct ares_options o;
	struct dns *d;
	int r, mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;

	if ((r = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return NULL;
	}
	if (!(d = calloc(1, sizeof *d))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base = base;
	memset(&o, 0, sizeof o);
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = 3000;
	o.tries = 3;
	if (servers[0]) {
		/* only the configured servers: no /etc/hosts answers either */
		o.lookups = (char *)"b";
		mask |= ARES_OPT_LOOKUPS;
	}
	if ((r = ares_init_options(&d->ch, &o, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		free(d);
		return NULL;
	}
	if (servers[0] && (r = ares_set_servers_ports_csv(d->ch, servers)) != ARES_SUCCESS) {
		snprintf(err, errlen, "[delivery] dns_servers \"%s\": %s", servers, ares_strerror(r));
		ares_destroy(d->ch);
		free(d);
		return NULL;
	}
	if (!(d->timer = evtimer_new(base, on_timer, d))) {
		snprintf(err, errlen, "out of memory");
		ares_destroy(d->ch);
		free(d);
		return NULL;
	}
	return d;
}

void dns_free(struct dns *d)
{
	if (!d)
		return;
	d->destroying = 1;
	ares_destroy(d->ch); /* every callback runs once more, with ARES_EDESTRUCTION */
	while (d->queries)
		free_query(d->queries); /* not started yet */
	while (d->socks) {
		struct dns_sock *s = d->socks;
		d->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	event_free(d->timer);
	free(d);
}

static int cmp_host(const void *a, const void *b)
{
	const struct host_addrs *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->tiebreak < y->tiebreak ? -1 : x->tiebreak > y->tiebreak;
}

/* All answers are in: build the target list and report. */
static void finish(struct dns_query *q)
{
	struct dns_mx_result *res;
	int tempfail = 0, i, k;

	if (q->cancelled || q->d->destroying) {
		free_query(q);
		return;
	}
	if (!(res = calloc(1, sizeof *res))) {
		/* the caller's own deadline ends the delivery attempt */
		free_query(q);
		return;
	}
	for (i = 0; i < q->nhosts; i++) {
		const struct host_addrs *h = &q->hosts[i];
		if (h->status != ARES_SUCCESS && h->status != ARES_ENOTFOUND && h->status != ARES_ENODATA)
			tempfail = 1;
		for (k = 0; k < h->naddr && res->ntargets < DNS_MAX_TARGETS; k++) {
			struct dns_target *t = &res->targets[res->ntargets++];
			snprintf(t->host, sizeof t->host, "%s", h->name);
			t->pref = q->implicit ? -1 : h->pref;
			t->addr = h->addr[k];
			t->addrlen = h->addrlen[k];
			if (t->addr.ss_family == AF_INET)
				((struct sockaddr_in *)&t->addr)->sin_port = htons((uint16_t)q->port);
			else
				((struct sockaddr_in6 *)&t->addr)->sin6_port = htons((uint16_t)q->port);
		}
	}
	if (res->ntargets > 0) {
		res->status = DNS_OK;
	} else if (tempfail) {
		res->status = DNS_TEMPFAIL;
		snprintf(res->error, sizeof res->error, "cannot resolve the mail hosts of %s", q->domain);
	} else {
		res->status = DNS_NOT_FOUND;
		snprintf(res->error, sizeof res->error, q->implicit ? "%s has no MX and no address"
		         : "no address for the MX hosts of %s", q->domain);
	}
	q->cb(res, q->arg);
	free(res);
	free_query(q);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct host_addrs *h = arg;
	struct dns_query *q;
	struct ares_addrinfo_node *n;

	(void)timeouts;
	q = h->q;
	h->status = status;
	if (status == ARES_SUCCESS && ai) {
		/* IPv4 first (loopback tests and most MX hosts), then IPv6 */
		for (int fam = 0; fam < 2; fam++)
			for (n = ai->nodes; n && h->naddr < DNS_MAX_HOST_ADDRS; n = n->ai_next) {
				if ((fam == 0) != (n->ai_family == AF_INET))
					continue;
				if (n->ai_addrlen > sizeof h->addr[0])
					continue;
				memcpy(&h->addr[h->naddr], n->ai_addr, n->ai_addrlen);
				h->addrlen[h->naddr++] = n->ai_addrlen;
			}
	}
	if (ai)
		ares_freeaddrinfo(ai);
	if (--q->pending == 0)
		finish(q);
}

static void resolve_hosts(struct dns_query *q)
{
	struct ares_addrinfo_hints hints;
	int i, n = q->nhosts;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* one extra count: an answer given at once (a literal, /etc/hosts)
	 * must not finish the query while this loop still walks it */
	q->pending = n + 1;
	for (i = 0; i < n; i++) {
		q->hosts[i].q = q;
		ares_getaddrinfo(q->d->ch, q->hosts[i].name, NULL, &hints, on_addrinfo, &q->hosts[i]);
	}
	if (--q->pending == 0)
		finish(q);
}

static void report(struct dns_query *q, enum dns_status st, const char *fmt, const char *detail)
{
	struct dns_mx_result *res;

	if (!q->cancelled && !q->d->destroying && (res = calloc(1, sizeof *res))) {
		res->status = st;
		snprintf(res->error, sizeof res->error, fmt, q->domain, detail);
		q->cb(res, q->arg);
		free(res);
	}
	free_query(q);
}

static void on_mx(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;
	struct ares_mx_reply *mx = NULL, *m;
	int r;

	(void)timeouts;
	if (q->cancelled || q->d->destroying) {
		free_query(q);
		return;
	}
	if (status == ARES_ENOTFOUND) {
		report(q, DNS_NOT_FOUND, "domain %s not found%s", "");
		return;
	}
	if (status == ARES_SUCCESS) {
		r = ares_parse_mx_reply(abuf, alen, &mx);
		if (r == ARES_SUCCESS) {
			for (m = mx; m; m = m->next) {
				/* RFC 7505: "0 ." -- c-ares gives the root as "" */
				if (m->host[0] == '\0' || strcmp(m->host, ".") == 0) {
					ares_free_data(mx);
					report(q, DNS_NULL_MX, "%s does not accept mail (null MX)%s", "");
					return;
				}
			}
			for (m = mx; m && q->nhosts < DNS_MAX_HOSTS; m = m->next) {
				struct host_addrs *h = &q->hosts[q->nhosts++];
				snprintf(h->name, sizeof h->name, "%s", m->host);
				h->pref = m->priority;
				h->tiebreak = rand();
			}
			ares_free_data(mx);
			qsort(q->hosts, (size_t)q->nhosts, sizeof q->hosts[0], cmp_host);
			resolve_hosts(q);
			return;
		}
		status = r;
	}
	if (status == ARES_ENODATA) {
		/* no MX at all: the domain is its own mail host (RFC 5321 5.1) */
		q->implicit = 1;
		q->nhosts = 1;
		snprintf(q->hosts[0].name, sizeof q->hosts[0].name, "%s", q->domain);
		resolve_hosts(q);
		return;
	}
	report(q, DNS_TEMPFAIL, "MX lookup for %s failed: %s", ares_strerror(status));
}

static void on_start(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;

	(void)fd;
	(void)what;
	event_free(q->start);
	q->start = NULL;
	if (q->cancelled) {
		free_query(q);
		return;
	}
	ares_query(q->d->ch, q->domain, ns_c_in, ns_t_mx, on_mx, q);
	update_timer(q->d);
}

/* The query starts on the next loop turn, so that cb never runs before
 * the caller has the handle (c-ares may answer at once). */
struct dns_query *dns_mx_lookup(struct dns *d, const char *domain, int port, dns_mx_cb cb, void *arg)
{
	struct dns_query *q = calloc(1, sizeof *q);
	struct timeval now = { 0, 0 };

	if (!q)
		return NULL;
	q->d = d;
	snprintf(q->domain, sizeof q->domain, "%s", domain);
	q->port = port;
	q->cb = cb;
	q->arg = arg;
	if (!(q->start = evtimer_new(d->base, on_start, q))) {
		free(q);
		return NULL;
	}
	q->next = d->queries;
	if (d->queries)
		d->queries->prev = q;
	d->queries = q;
	evtimer_add(q->start, &now);
	return q;
}

void dns_cancel(struct dns_query *q)
{
	if (q)
		q->cancelled = 1; /* freed when c-ares answers (or is destroyed) */
}
