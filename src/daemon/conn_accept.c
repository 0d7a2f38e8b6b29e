/*
 * conn_accept: a new socket on a listener becomes a connection (see
 * conn.h): the per-service connection limits first (over them: one
 * line and close), then, for a port that takes both, a look at the first
 * byte to tell TLS from plain text, then conn_open.
 */
#include "daemon/conn.h"
#include "daemon/conn_int.h"
#include "daemon/connlimit.h"
#include "daemon/server.h"
#include "metrics/metrics.h"
#include "util/config.h"
#include "util/log.h"
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

void conn_sockaddr_ip(const struct sockaddr *sa, char *ip, size_t iplen)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
		else
			inet_ntop(AF_INET6, &a6->sin6_addr, ip, (socklen_t)iplen);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
		          (socklen_t)iplen);
	}
}

/* Over a connection limit: one line, best effort, and close. */
static void refuse(struct server *srv, evutil_socket_t fd, const char *ip, int why,
                   const struct conn_service *svc)
{
	char line[300];
	int n;

	metrics_inc(srv->metrics, M_SESSIONS_REFUSED, metrics_listener_name(svc->kind),
	            why == CONN_TOO_MANY_FROM_IP ? "too_many_from_ip" : "too_many_total");
	log_warn_key(ip, "%s: ip=%s refused: too many connections%s", svc->name, ip,
	             why == CONN_TOO_MANY_FROM_IP ? " from this address" : " in total");
	if (svc->refusal && !svc->implicit_tls) {
		n = snprintf(line, sizeof line, svc->refusal, srv->cfg->hostname,
		             why == CONN_TOO_MANY_FROM_IP ? " from your address" : "");
		if (n > 0 && send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* the client is gone or not reading: nothing more to do */
		}
	}
	evutil_closesocket(fd);
}

/* A socket of a plain_fallback service waiting for its first byte, which
 * says TLS (a handshake record, 0x16) or not. Bounded by the handshake
 * timeout; it holds its connection slot meanwhile. */
struct sniff {
	struct server *srv;
	struct connlimit *limiter;
	const struct conn_service *svc;
	struct event *ev;
	char ip[INET6_ADDRSTRLEN];
};

static void on_sniff(evutil_socket_t fd, short what, void *arg)
{
	struct sniff *s = arg;
	unsigned char first;
	ssize_t n = 0;

	if (what & EV_READ)
		n = recv(fd, &first, 1, MSG_PEEK);
	event_free(s->ev);
	if (n == 1) {
		conn_open(s->srv, fd, s->ip, s->limiter, s->svc, first == 0x16);
	} else {
		if (what & EV_TIMEOUT)
			log_info("%s: ip=%s: nothing sent within the TLS handshake timeout", s->svc->name, s->ip);
		connlimit_release(s->limiter, s->ip);
		evutil_closesocket(fd);
	}
	free(s);
}

static void sniff_start(struct server *srv, evutil_socket_t fd, const char *ip, struct connlimit *limiter,
                        const struct conn_service *svc)
{
	struct timeval tv = { srv->cfg->tls_handshake_timeout, 0 };
	struct sniff *s = calloc(1, sizeof *s);

	if (!s || !(s->ev = event_new(srv->base, fd, EV_READ, on_sniff, s)) || event_add(s->ev, &tv) < 0) {
		if (s && s->ev)
			event_free(s->ev);
		free(s);
		connlimit_release(limiter, ip);
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	s->limiter = limiter;
	s->svc = svc;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
}

void conn_accept(struct server *srv, evutil_socket_t fd, const struct sockaddr *sa,
                 const struct conn_service *svc)
{
	struct connlimit *limiter;
	char ip[INET6_ADDRSTRLEN];
	int lim;

	conn_sockaddr_ip(sa, ip, sizeof ip);
	if (svc->acc)
		lim = connlimit_acquire(limiter = srv->acc_conns, ip, srv->cfg->acc_max_connections,
		                        srv->cfg->acc_max_connections_per_ip);
	else
		lim = connlimit_acquire(limiter = srv->conns, ip, srv->cfg->max_connections,
		                        /* every customer proxied by a node comes from its address */
		                        svc->kind == LISTEN_POP3_CLUSTER ? srv->cfg->max_connections
		                        : srv->cfg->max_connections_per_ip);
	if (lim != CONN_OK) {
		refuse(srv, fd, ip, lim, svc);
		return;
	}
	if (svc->implicit_tls && svc->plain_fallback)
		sniff_start(srv, fd, ip, limiter, svc);
	else
		conn_open(srv, fd, ip, limiter, svc, svc->implicit_tls);
}

