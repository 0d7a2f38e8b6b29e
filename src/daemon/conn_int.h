/*
 * conn_int: what conn.c gives conn_accept.c, and nobody else.
 */
#ifndef HM_CONN_INT_H
#define HM_CONN_INT_H
#include <event2/util.h>

struct server;
struct connlimit;
struct conn_service;

/* The connection, from a socket that holds a slot in limiter (released,
 * and the socket closed, if it cannot be made); tls: a handshake first. */
void conn_open(struct server *srv, evutil_socket_t fd, const char *ip, struct connlimit *limiter,
               const struct conn_service *svc, int tls);

#endif
