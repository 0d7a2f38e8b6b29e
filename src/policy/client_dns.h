/*
 * client_dns: the DNS records that let mail programs find a hosted
 * domain's servers by themselves: RFC 6186 SRV records for submission
 * (587 STARTTLS, 465 implicit TLS) and POP3 (110, 995), with "." for a
 * service this node does not offer (RFC 6186 section 4), and the
 * autoconfig/autodiscover names (CNAMEs to the ACC's host) that
 * Thunderbird and Outlook look up. Ports are the announced ones
 * (client_settings). Zone-file lines; pure. `hostmailctl domain dns`
 * prints them.
 */
#ifndef HM_CLIENT_DNS_H
#define HM_CLIENT_DNS_H
#include "policy/client_settings.h"
#include "util/buf.h"

/* Append the lines for domain: SRV targets cs->host, the CNAMEs point to
 * acc_host (the name the ACC's certificate carries). 0, or -1 if b is full. */
int client_dns_records(struct buf *b, const char *domain, const struct client_settings *cs,
                       const char *acc_host);

#endif
