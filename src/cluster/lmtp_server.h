/*
 * lmtp_server: internal delivery from the other nodes of a fleet: LMTP
 * (RFC 2033) over implicit TLS on [listen] lmtp, the peer proving with a
 * certificate from [cluster] ca that it is a node (cluster.h). RCPT takes
 * only mailboxes homed on this node; DATA writes the message to each
 * recipient's Maildir with the local delivery code (delivery/maildir.h)
 * and answers once per recipient. Never counted against budgets. See
 * docs/cluster.md.
 */
#ifndef HM_LMTP_SERVER_H
#define HM_LMTP_SERVER_H
#include <openssl/ssl.h>

struct conn;
struct server;

/* The listener's start (daemon/conn.h conn_service.start). */
void lmtp_session_start(struct conn *c);
/* A new SSL for an accepted LMTP connection (the cluster's server
 * context), or NULL. */
SSL *lmtp_new_ssl(struct server *srv);
/* Make data_dir/cluster/{tmp,seen} and drop leftovers: 0 or -1 (logged). */
int lmtp_service_start(struct server *srv);

#endif
