/*
 * server: the one struct that holds the daemon's shared state (event loop,
 * configuration, account store, worker pool, queue runner), and the
 * listeners that hand accepted sockets to the protocol sessions.
 */
#ifndef HM_SERVER_H
#define HM_SERVER_H
#include <stdint.h>
#include "util/config.h"

struct event_base;
struct store;
struct workers;
struct runner;
struct evconnlistener;
struct tls_server;
struct throttle;
struct acc;
struct listen_addr;
struct pop3_service;
struct connlimit;
struct login_queue;
struct metrics;
struct srs;

enum listener_kind { LISTEN_SMTP, LISTEN_SUBMISSION, LISTEN_SUBMISSIONS, LISTEN_POP3, LISTEN_POP3S, LISTEN_ACC,
                     LISTEN_METRICS, LISTEN_ADMIN, LISTEN_LMTP,
                     LISTEN_POP3_CLUSTER };   /* the POP3 proxy's internal endpoint (pop3/pop3_proxy.h) */

struct server {
	struct event_base *base;
	const struct config *cfg;        /* the current snapshot (util/config.h) */
	struct store *store;
	struct workers *workers;         /* fsync, SQLite, Maildir work */
	struct workers *auth_workers;    /* password hashing: slow by design, kept
	                                    apart so a login storm cannot starve commits */
	struct runner *runner;
	struct tls_server *tls;          /* NULL: no certificate, no TLS */
	struct throttle *auth_throttle;  /* failed logins per IP (SMTP, POP3, ACC) */
	struct login_queue *logins;      /* every password check, fairly, onto auth_workers */
	struct auth_cache *auth_cache;   /* recent verdicts ([auth] cache_ttl); NULL: off */
	struct acc *acc;                 /* the ACC's HTTPS server, NULL if not served */
	struct pop3_service *pop3;       /* POP3 mailbox locks, grant purge */
	struct connlimit *conns;         /* concurrent SMTP and POP3 sessions, total and per IP */
	struct connlimit *acc_conns;     /* concurrent ACC connections, total and per IP */
	struct cluster *cluster;         /* [cluster]: this node of a fleet (cluster/cluster.h), NULL if none */
	struct metrics *metrics;         /* counters any thread updates (metrics/metrics.h); never NULL in hostmaild */
	struct srs *srs;                 /* forwarding's SRS secret and domain (routing/srs.h) */
	char queue_dir[600];
	uint64_t next_session_id;
	int nsessions;
	struct evconnlistener *listeners[64];
	int nlisteners;
};

/* What a listener of kind serves (daemon/conn.h). */
struct conn_service;
const struct conn_service *server_service(enum listener_kind kind);
/* Bind every configured listener (before dropping privileges). 0 or -1. */
int server_listen(struct server *srv);
void server_close_listeners(struct server *srv);
/* A listening socket for a (non-blocking, IPv6 sockets IPV6_V6ONLY), or -1 (logged). */
int server_bind(const struct listen_addr *a);

#endif
