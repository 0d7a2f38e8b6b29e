/*
 * smtp_session: one inbound SMTP connection, from greeting to QUIT. Glues
 * the pure parsers (smtp_parse, addr, data_decode, reply) and the policy
 * decisions (policy/smtp_policy) to a daemon/conn connection; blocking
 * work (store lookups, queue commit) goes to workers.
 */
#ifndef HM_SMTP_SESSION_H
#define HM_SMTP_SESSION_H

struct conn;

/* The service's start (daemon/conn.h: struct conn_service). */
void smtp_session_start(struct conn *c);

#endif
