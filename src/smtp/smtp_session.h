/*
 * smtp_session: one inbound SMTP connection, from greeting to QUIT. Glues
 * the pure parsers (smtp_parse, addr, data_decode, reply) to a libevent
 * bufferevent; blocking work (store lookups, queue commit) goes to workers.
 */
#ifndef HM_SMTP_SESSION_H
#define HM_SMTP_SESSION_H
#include <event2/util.h>
#include "daemon/server.h"

struct sockaddr;
void smtp_session_start(struct server *srv, evutil_socket_t fd,
                        const struct sockaddr *sa, int socklen, enum listener_kind kind);

#endif
