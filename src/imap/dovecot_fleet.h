/*
 * dovecot_fleet: what dovecot_conf writes on a node of a fleet ([cluster]
 * node, docs/cluster.md "IMAP"): the password query that proxies a
 * mailbox homed on another node to that node's Dovecot over verified TLS,
 * the trust that verification needs, and the cluster listener the other
 * nodes' proxies connect to. Private to src/imap.
 */
#ifndef HM_DOVECOT_FLEET_H
#define HM_DOVECOT_FLEET_H
#include <stddef.h>
#include "util/buf.h"
#include "util/config.h"

/* Can this node's IMAP proxying be verified? A node of a fleet of more
 * than one node needs [imap] listen_cluster (the address its peers
 * verify) on an address no customer listener shares. 0, or -1 with err. */
int dovecot_fleet_check(const struct config *cfg, int fleet_nodes, char *err, size_t errlen);
/* dovecot.conf's part: the proxy's trust (the fleet CA only) and, with
 * listen_cluster, the certificate presented on that address. */
void dovecot_fleet_conf(const struct config *cfg, struct buf *b);
/* The SQL file's password_query with the proxy fields. */
void dovecot_fleet_sql(const struct config *cfg, struct buf *b);

#endif
