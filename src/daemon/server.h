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
struct connlimit;

enum listener_kind { LISTEN_SMTP, LISTEN_SUBMISSION, LISTEN_SUBMISSIONS, LISTEN_POP3, LISTEN_POP3S };

struct server {
	struct event_base *base;
	struct config cfg;
	struct store *store;
	struct workers *workers;
	struct runner *runner;
	struct tls_server *tls;          /* NULL: no certificate, no TLS */
	struct throttle *auth_throttle;  /* failed logins per IP (SMTP, POP3) */
	struct connlimit *conns;         /* concurrent sessions, total and per IP */
	char queue_dir[600];
	uint64_t next_session_id;
	int nsessions;
	struct evconnlistener *listeners[64];
	int nlisteners;
};

/* Bind every configured listener (before dropping privileges). 0 or -1. */
int server_listen(struct server *srv);
void server_close_listeners(struct server *srv);

#endif
