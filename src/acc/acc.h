/*
 * acc: the Account Control Center, the customers' web page for their mail
 * settings, served by hostmaild over HTTPS on [listen] acc (libevent's
 * evhttp on the daemon's event loop, TLS with the daemon's certificates).
 * See docs/acc.md for the pages and the security model.
 */
#ifndef HM_ACC_H
#define HM_ACC_H

struct server;

/* Bind every [listen] acc address (before privileges are dropped).
 * 0 (also when none is configured), or -1. */
int acc_start(struct server *srv);
/* Stop accepting new connections (shutdown). */
void acc_stop(struct server *srv);

#endif
