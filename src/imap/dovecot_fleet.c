/*
 * dovecot_fleet: Dovecot's IMAP proxy between the nodes of a fleet (see
 * dovecot_fleet.h). The proxy forwards the customer's password, so it
 * talks only to a peer that proves, with a certificate of the fleet's CA
 * naming the address in the nodes table, that it is the home node: the
 * same trust as the POP3 proxy's (src/pop3/pop3_proxy*.c), one-way.
 */
#include "imap/dovecot_fleet.h"
#include "imap/dovecot_sql.h"
#include <stdio.h>
#include <string.h>

/* The customer listeners whose address is the cluster listener's: they
 * would present the cluster certificate too (Dovecot's `local` block
 * is per local address, not per listener). */
static int shares_address(const struct listen_list *l, const char *host)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->a[i].host, host))
			return 1;
	return 0;
}

int dovecot_fleet_check(const struct config *c, int fleet_nodes, char *err, size_t errlen)
{
	if (!c->cluster_node)
		return 0;
	if (!c->imap_cluster.n && fleet_nodes > 1) {
		snprintf(err, errlen, "node %d is one of %d nodes of a fleet: set [imap] listen_cluster = "
		         "IPv4:PORT (this node's internal address, registered with `hostmailctl node add %d "
		         "... --imap` and presenting the [cluster] certificate) so that the other nodes' "
		         "IMAP proxies can verify it (docs/cluster.md, IMAP)",
		         c->cluster_node, fleet_nodes, c->cluster_node);
		return -1;
	}
	if (c->imap_cluster.n && (shares_address(&c->imap, c->imap_cluster.a[0].host) ||
	                          shares_address(&c->imaps, c->imap_cluster.a[0].host))) {
		snprintf(err, errlen, "[imap] listen_cluster's address %s is also a customer listener's: "
		         "the customers would get the [cluster] certificate there; give it an address of "
		         "its own (the node's internal one)", c->imap_cluster.a[0].host);
		return -1;
	}
	return 0;
}

void dovecot_fleet_conf(const struct config *c, struct buf *b)
{
	buf_printf(b, "# node %d of a fleet: a mailbox homed on another node is proxied there\n"
	           "# over TLS (the password query's ssl=yes), and the proxy sends the\n"
	           "# password only to a certificate of the fleet's CA that names the host\n"
	           "# it connects to. Dovecot 2.3's login proxy takes its trust from ssl_ca\n"
	           "# alone (it ignores ssl_client_ca_file and _dir); ssl_ca asks nothing of\n"
	           "# the customers, whose listeners request no client certificate.\n"
	           "ssl_ca = <%s\nssl_client_require_valid_cert = yes\n"
	           "# with ssl_ca set, Dovecot would also demand a CRL for the proxy's peer\n"
	           "# and refuse every node: the fleet CA publishes none, and hostmaild's own\n"
	           "# links between the nodes check none either\n"
	           "ssl_require_crl = no\n\n", c->cluster_node, c->cluster_ca);
	if (!c->imap_cluster.n)
		return;
	buf_printf(b, "# [imap] listen_cluster: the other nodes' proxies connect here and verify\n"
	           "# this node's [cluster] certificate\n"
	           "local %s {\n  ssl_cert = <%s\n  ssl_key = <%s\n}\n\n",
	           c->imap_cluster.a[0].host, c->cluster_certificate, c->cluster_key);
}

/* A mailbox homed on another node that has an IMAP address in the nodes
 * table (its listen_cluster) is proxied there by Dovecot: proxy, host,
 * port, ssl=yes (implicit TLS, the certificate verified against host).
 * The password is checked here first, then Dovecot forwards it to the
 * home node's Dovecot, which checks it again. */
void dovecot_fleet_sql(const struct config *cfg, struct buf *b)
{
	int n = cfg->cluster_node;

	buf_printf(b, "# %%Lu: the login name in lower case, escaped by Dovecot. This node is\n"
	           "# node %d of a fleet: a mailbox whose account lives on another node with\n"
	           "# an IMAP address (hostmailctl node add ... --imap HOST:PORT, that node's\n"
	           "# [imap] listen_cluster) is proxied there over TLS, its certificate\n"
	           "# verified against the fleet CA and HOST before the password is sent.\n"
	           SQL_REFUSE_COMMENT
	           "password_query = \\\n"
	           "  SELECT m.address AS user, '{CRYPT}' || m.password_hash AS password, \\\n"
	           SQL_REFUSE
	           "    CASE WHEN " SQL_SERVED " AND a.server_number <> %d AND n.imap <> '' THEN 'Y' END AS proxy, \\\n"
	           "    CASE WHEN " SQL_SERVED " AND a.server_number <> %d AND n.imap <> '' \\\n"
	           "      THEN split_part(n.imap, ':', 1) END AS host, \\\n"
	           "    CASE WHEN " SQL_SERVED " AND a.server_number <> %d AND n.imap <> '' \\\n"
	           "      THEN split_part(n.imap, ':', 2) END AS port, \\\n"
	           "    CASE WHEN " SQL_SERVED " AND a.server_number <> %d AND n.imap <> '' \\\n"
	           "      THEN 'yes' END AS ssl, \\\n"
	           "    '*:bytes=' || coalesce(m.quota_bytes, a.mailbox_quota_bytes) || \\\n"
	           "    ':messages=' || coalesce(m.quota_messages, a.mailbox_quota_messages) AS userdb_quota_rule \\\n"
	           SQL_FROM
	           "    LEFT JOIN nodes n ON n.number = a.server_number \\\n"
	           "  WHERE m.address = '%%Lu'\n", n, n, n, n, n);
}
