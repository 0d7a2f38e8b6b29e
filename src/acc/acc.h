/*
 * acc: the Account Control Center, the customers' web page for their mail
 * settings, served by hostmaild over HTTPS on [listen] acc: connections
 * from daemon/conn (TLS with the daemon's certificates, the ACC's own
 * connection limits), HTTP/1.1 read strictly (acc_http.c, http_parse.c).
 * See docs/acc.md for the pages and the security model.
 */
#ifndef HM_ACC_H
#define HM_ACC_H

struct server;

/* Set up what the ACC's connections share (before the [listen] acc
 * listeners accept). 0 (also when none is configured), or -1. */
int acc_start(struct server *srv);
/* Shutdown: stop the ACC's timers. */
void acc_stop(struct server *srv);

#endif
