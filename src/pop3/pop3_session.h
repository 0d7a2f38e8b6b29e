/*
 * pop3_session: the POP3 service of hostmaild (RFC 1939, CAPA RFC 2449,
 * AUTH PLAIN RFC 5034, STLS RFC 2595, and POP3S). pop3_service_start()
 * sets up what the sessions share (the set of mailboxes in use, the
 * periodic purge of expired POP-before-SMTP grants); pop3_session_start()
 * serves one accepted connection.
 */
#ifndef HM_POP3_SESSION_H
#define HM_POP3_SESSION_H
#include "daemon/server.h"

struct sockaddr;

/* Once, before the event loop runs. 0 or -1. */
int pop3_service_start(struct server *srv);
void pop3_service_stop(struct server *srv);
/* The service's start (daemon/conn.h: struct conn_service). */
struct conn;
void pop3_session_start(struct conn *c);

#endif
