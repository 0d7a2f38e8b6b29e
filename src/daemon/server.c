/*
 * server: binding the configured listeners and handing accepted
 * connections to their protocol. Sockets are made by hand (not
 * evconnlistener_new_bind) so IPv6 listeners are IPV6_V6ONLY and
 * "0.0.0.0:25, [::]:25" can coexist.
 */
#include "acc/acc.h"
#include "acc/acc_http.h"
#include "daemon/server.h"
#include "daemon/conn.h"
#include "pop3/pop3_session.h"
#include "smtp/smtp_session.h"
#include "util/log.h"
#include <event2/listener.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What each kind of listener serves. */
static const struct conn_service services[] = {
	[LISTEN_SMTP] = { LISTEN_SMTP, "smtp", 0, 0, smtp_session_start,
	                  "421 4.7.0 %s Error: too many connections%s, try again later\r\n" },
	[LISTEN_SUBMISSION] = { LISTEN_SUBMISSION, "smtp", 0, 0, smtp_session_start,
	                        "421 4.7.0 %s Error: too many connections%s, try again later\r\n" },
	[LISTEN_SUBMISSIONS] = { LISTEN_SUBMISSIONS, "smtp", 1, 0, smtp_session_start, NULL },
	[LISTEN_POP3] = { LISTEN_POP3, "pop3", 0, 0, pop3_session_start,
	                  "-ERR [SYS/TEMP] %s too many connections%s, try again later\r\n" },
	[LISTEN_POP3S] = { LISTEN_POP3S, "pop3", 1, 0, pop3_session_start, NULL },
	[LISTEN_ACC] = { LISTEN_ACC, "acc", 1, 1, acc_conn_start, NULL },
};

const struct conn_service *server_service(enum listener_kind kind)
{
	return &services[kind];
}

struct listener_ctx {
	struct server *srv;
	enum listener_kind kind;
};

static struct listener_ctx ctxs[64];

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int socklen, void *arg)
{
	struct listener_ctx *c = arg;

	(void)l;
	(void)socklen;
	conn_accept(c->srv, fd, sa, &services[c->kind]);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: log and keep going; libevent retries on the next readiness. */
	log_warn("accept: %s", strerror(errno));
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
		/* backlog 0: bind_one has called listen(fd, 1024) already; -1
		 * would make libevent listen again with its own 128 */
		l = evconnlistener_new(srv->base, on_accept, c, LEV_OPT_CLOSE_ON_FREE, 0, fd);
		if (!l) {
			close(fd);
			return -1;
		}
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
	return 0;
}

void server_close_listeners(struct server *srv)
{
	int i;

	for (i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	srv->nlisteners = 0;
	acc_stop(srv);
	pop3_service_stop(srv);
}
