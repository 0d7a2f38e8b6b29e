/*
 * server: binding the configured listeners and handing accepted
 * connections to their protocol. Sockets are made by hand (not
 * evconnlistener_new_bind) so IPv6 listeners are IPV6_V6ONLY and
 * "0.0.0.0:25, [::]:25" can coexist.
 *
 * Out of descriptors (accept fails with EMFILE or ENFILE), a listener
 * never spins: the spare descriptor (daemon/fdlimit) takes one waiting
 * client to say 421 and close, then the listener rests for a backoff
 * (BACKOFF_MIN_MS, doubling to BACKOFF_MAX_MS while it goes on) and a
 * timer enables it again. The log line is a repeat, counted (util/log).
 */
#include "acc/acc.h"
#include "acc/acc_http.h"
#include "admin/admin.h"
#include "daemon/server.h"
#include "cluster/lmtp_server.h"
#include "daemon/conn.h"
#include "daemon/fdlimit.h"
#include "metrics/metrics.h"
#include "metrics/metrics_http.h"
#include "pop3/pop3_session.h"
#include "pop3/pop3_proxy.h"
#include "smtp/smtp_session.h"
#include "util/log.h"
#include <event2/event.h>
#include <event2/listener.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000

#define SMTP_REFUSAL   "421 4.7.0 %s Error: too many connections%s, try again later\r\n"
#define SMTP_OVERLOAD  "421 4.3.2 %s Service temporarily unavailable, try again later\r\n"
#define POP3_REFUSAL   "-ERR [SYS/TEMP] %s too many connections%s, try again later\r\n"
#define POP3_OVERLOAD  "-ERR [SYS/TEMP] %s service temporarily unavailable, try again later\r\n"

/* What each kind of listener serves. */
static const struct conn_service services[] = {
	[LISTEN_SMTP] = { LISTEN_SMTP, "smtp", 0, 0, smtp_session_start, SMTP_REFUSAL, SMTP_OVERLOAD, 0, NULL },
	[LISTEN_SUBMISSION] = { LISTEN_SUBMISSION, "smtp", 0, 0, smtp_session_start, SMTP_REFUSAL,
	                        SMTP_OVERLOAD, 0, NULL },
	[LISTEN_SUBMISSIONS] = { LISTEN_SUBMISSIONS, "smtp", 1, 0, smtp_session_start, NULL, NULL, 0, NULL },
	[LISTEN_POP3] = { LISTEN_POP3, "pop3", 0, 0, pop3_session_start, POP3_REFUSAL, POP3_OVERLOAD, 0, NULL },
	[LISTEN_POP3S] = { LISTEN_POP3S, "pop3", 1, 0, pop3_session_start, NULL, NULL, 0, NULL },
	[LISTEN_ACC] = { LISTEN_ACC, "acc", 1, 1, acc_conn_start, NULL, NULL, 1, NULL },
	/* the admin API: TLS only, in the ACC's connection limits */
	[LISTEN_ADMIN] = { LISTEN_ADMIN, "admin", 1, 1, admin_conn_start, NULL, NULL, 0, NULL },
	/* plain HTTP, counted in the ACC's connection limits */
	[LISTEN_METRICS] = { LISTEN_METRICS, "metrics", 0, 1, metrics_conn_start, NULL, NULL, 0, NULL },
	/* internal delivery from the other nodes: TLS with client certificates */
	[LISTEN_LMTP] = { LISTEN_LMTP, "lmtp", 1, 0, lmtp_session_start, NULL, NULL, 0, lmtp_new_ssl },
	/* other nodes' POP3 proxies and account moves: the same mutual TLS */
	[LISTEN_POP3_CLUSTER] = { LISTEN_POP3_CLUSTER, "pop3", 1, 0, pop3_session_start, NULL, NULL, 0,
	                          pop3_cluster_new_ssl },
};

const struct conn_service *server_service(enum listener_kind kind)
{
	return &services[kind];
}

struct listener_ctx {
	struct server *srv;
	enum listener_kind kind;
	struct evconnlistener *l;
	struct event *resume;           /* ends a backoff */
	int backoff_ms;                 /* the last one; 0 after an accept */
};

static struct listener_ctx ctxs[64];

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int socklen, void *arg)
{
	struct listener_ctx *c = arg;

	(void)l;
	(void)socklen;
	c->backoff_ms = 0;
	conn_accept(c->srv, fd, sa, &services[c->kind]);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener_ctx *c = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(c->l);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct listener_ctx *c = arg;
	const struct conn_service *svc = &services[c->kind];
	int err = errno;
	char line[300];
	struct timeval tv;

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warn("%s: accept: %s", svc->name, strerror(err));
		return;
	}
	/* the listener stays readable: without a rest this callback would spin */
	line[0] = '\0';
	if (svc->overload)
		snprintf(line, sizeof line, svc->overload, c->srv->cfg->hostname);
	if (fdlimit_shed(evconnlistener_get_fd(l), line[0] ? line : NULL) > 0)
		metrics_inc(c->srv->metrics, M_SESSIONS_REFUSED, metrics_listener_name(c->kind), "out_of_descriptors");
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	log_warn("%s: accept: %s: new connections wait or are refused for a moment", svc->name,
	         strerror(err));
	evconnlistener_disable(l);
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	evtimer_add(c->resume, &tv);
}

static int bind_one(const struct listen_addr *a)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int fd, one = 1, r;

	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(a->host, a->port, &hints, &res)) != 0) {
		log_warn("listen %s:%s: %s", a->host, a->port, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	log_warn("listen %s:%s: %s", a->host, a->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int server_bind(const struct listen_addr *a)
{
	return bind_one(a);
}

static int listen_list(struct server *srv, const struct listen_list *ll, enum listener_kind kind,
                       const char *name)
{
	int i;

	for (i = 0; i < ll->n; i++) {
		struct listener_ctx *c;
		struct evconnlistener *l;
		int fd;

		if (srv->nlisteners >= 64)
			return -1;
		if ((fd = bind_one(&ll->a[i])) < 0)
			return -1;
		c = &ctxs[srv->nlisteners];
		c->srv = srv;
		c->kind = kind;
		c->backoff_ms = 0;
		if (!(c->resume = evtimer_new(srv->base, on_resume, c))) {
			close(fd);
			return -1;
		}
		/* backlog 0: bind_one has called listen(fd, 1024) already; -1
		 * would make libevent listen again with its own 128 */
		l = evconnlistener_new(srv->base, on_accept, c, LEV_OPT_CLOSE_ON_FREE, 0, fd);
		if (!l) {
			event_free(c->resume);
			c->resume = NULL;
			close(fd);
			return -1;
		}
		c->l = l;
		evconnlistener_set_error_cb(l, on_accept_error);
		srv->listeners[srv->nlisteners++] = l;
		log_info("listening for %s on %s%s%s:%s", name, strchr(ll->a[i].host, ':') ? "[" : "",
		         ll->a[i].host, strchr(ll->a[i].host, ':') ? "]" : "", ll->a[i].port);
	}
	return 0;
}

int server_listen(struct server *srv)
{
	const struct config *c = srv->cfg;

	if (c->smtp.n == 0)
		log_warn("no [listen] smtp addresses configured: not receiving mail");
	if (listen_list(srv, &c->smtp, LISTEN_SMTP, "smtp") < 0)
		return -1;
	if (listen_list(srv, &c->submission, LISTEN_SUBMISSION, "submission") < 0 ||
	    listen_list(srv, &c->submissions, LISTEN_SUBMISSIONS, "submissions") < 0)
		return -1;
	if (listen_list(srv, &c->pop3, LISTEN_POP3, "pop3") < 0 ||
	    listen_list(srv, &c->pop3s, LISTEN_POP3S, "pop3s") < 0)
		return -1;
	/* also without POP3 listeners: it purges expired POP-before-SMTP grants */
	if (pop3_service_start(srv) < 0)
		return -1;
	if (acc_start(srv) < 0 || listen_list(srv, &c->acc, LISTEN_ACC, "acc (HTTPS)") < 0)
		return -1;
	if (c->admin.n && !srv->tls) {
		log_warn("admin: [listen] admin needs [tls] certificate and key: the admin API is served over HTTPS only");
		return -1;
	}
	if (c->lmtp.n && (!srv->cluster ||
	                  listen_list(srv, &c->lmtp, LISTEN_LMTP, "lmtp (TLS, node certificates)") < 0))
		return -1;
	if (listen_list(srv, &c->admin, LISTEN_ADMIN, "admin API (HTTPS)") < 0 ||
	    listen_list(srv, &c->metrics, LISTEN_METRICS, "metrics (HTTP)") < 0)
		return -1;
	if (listen_list(srv, &c->pop3_cluster, LISTEN_POP3_CLUSTER, "pop3_cluster (POP3 proxied from other nodes)") < 0)
		return -1;
	return 0;
}

void server_close_listeners(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nlisteners; i++) {
		evconnlistener_free(srv->listeners[i]);
		if (ctxs[i].resume)
			event_free(ctxs[i].resume);
		ctxs[i].resume = NULL;
		ctxs[i].l = NULL;
	}
	srv->nlisteners = 0;
	acc_stop(srv);
	pop3_service_stop(srv);
}
