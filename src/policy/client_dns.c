/*
 * client_dns: SRV and CNAME lines for mail-program discovery (see
 * client_dns.h). Priority follows client_settings' order (implicit TLS
 * first, RFC 8314 5.1); weight 1 for each.
 */
#include "policy/client_dns.h"

/* The first announced port of proto with security sec, or 0. */
static int port_of(const struct cs_server *list, int n, enum cs_proto proto, enum cs_security sec,
                   int *prio)
{
	for (int i = 0; i < n; i++)
		if (list[i].proto == proto && list[i].security == sec) {
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

	static const struct {
		const char *service;
		enum cs_proto proto;
		enum cs_security sec;
	} services[] = {
		{ "submission", CS_SMTP, CS_STARTTLS }, { "submissions", CS_SMTP, CS_SSL },
		{ "imap", CS_IMAP, CS_STARTTLS },       { "imaps", CS_IMAP, CS_SSL },
		{ "pop3", CS_POP3, CS_STARTTLS },       { "pop3s", CS_POP3, CS_SSL },
	};

	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
		int smtp = services[i].proto == CS_SMTP;

		prio = 0;
		p = port_of(smtp ? cs->out : cs->in, smtp ? cs->nout : cs->nin, services[i].proto,
		            services[i].sec, &prio);
		if (srv(b, services[i].service, domain, p, prio, cs->host) < 0)
			return -1;
	}
	if (buf_printf(b, "autoconfig.%s. 3600 IN CNAME %s.\nautodiscover.%s. 3600 IN CNAME %s.\n", domain,
	               acc_host, domain, acc_host) < 0)
		return -1;
	return 0;
}
