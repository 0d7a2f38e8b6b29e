/*
 * dkim_records: a hosted domain's records to publish (policy/dns_records.h)
 * from its keys in the store and the [records] settings, for hostmailctl
 * domain dns and the ACC. Blocking (the store): on a worker in hostmaild.
 */
#ifndef HM_DKIM_RECORDS_H
#define HM_DKIM_RECORDS_H
#include "policy/dns_records.h"

struct store;
struct config;

/* The records into out[0..max): how many, or STORE_EFAIL. */
int dkim_domain_records(struct store *st, const struct config *cfg, const char *domain,
                        struct dns_record *out, size_t max);
/* All of them as zone-file text appended to out, each after a "; what"
 * comment line, then the mail-program discovery records (RFC 6186 SRV,
 * autoconfig CNAMEs: policy/client_dns.c) for the owner's servers.
 * 0, STORE_ENOTFOUND (not hosted) or STORE_EFAIL. */
int dkim_domain_zone(struct store *st, const struct config *cfg, const char *domain, struct buf *out);

#endif
