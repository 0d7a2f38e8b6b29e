/*
 * client_dns: SRV and CNAME lines for mail-program discovery (see
 * client_dns.h). Priority follows client_settings' order (implicit TLS
 * first, RFC 8314 5.1); weight 1 for each.
 */
#include "policy/client_dns.h"

/* The first announced port of proto with security sec, or 0. */
static int port_of(const struct cs_server *list, int n, enum cs_security sec, int *prio)
{
	for (int i = 0; i < n; i++)
		if (list[i].security == sec) {
			*prio = i;
			return list[i].port;
		}
	return 0;
}

static int srv(struct buf *b, const char *service, const char *domain, int port, int prio, const char *host)
{
	if (!port)   /* RFC 6186 4: "." says the service is not offered */
		return buf_printf(b, "_%s._tcp.%s. 3600 IN SRV 0 0 0 .\n", service, domain) < 0 ? -1 : 0;
	return buf_printf(b, "_%s._tcp.%s. 3600 IN SRV %d 1 %d %s.\n", service, domain, prio, port, host) < 0
	       ? -1 : 0;
}

int client_dns_records(struct buf *b, const char *domain, const struct client_settings *cs,
                       const char *acc_host)
{
	int p, prio = 0;

	p = port_of(cs->out, cs->nout, CS_STARTTLS, &prio);
	if (srv(b, "submission", domain, p, prio, cs->host) < 0)
		return -1;
	p = port_of(cs->out, cs->nout, CS_SSL, &prio);
	if (srv(b, "submissions", domain, p, prio, cs->host) < 0)
		return -1;
	p = port_of(cs->in, cs->nin, CS_STARTTLS, &prio);
	if (srv(b, "pop3", domain, p, prio, cs->host) < 0)
		return -1;
	p = port_of(cs->in, cs->nin, CS_SSL, &prio);
	if (srv(b, "pop3s", domain, p, prio, cs->host) < 0)
		return -1;
	if (buf_printf(b, "autoconfig.%s. 3600 IN CNAME %s.\nautodiscover.%s. 3600 IN CNAME %s.\n", domain,
	               acc_host, domain, acc_host) < 0)
		return -1;
	return 0;
}
