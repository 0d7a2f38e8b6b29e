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

#endif
