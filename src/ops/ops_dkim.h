/*
 * ops_dkim: a hosted domain's DKIM keys and the DNS records to publish,
 * the operations behind hostmailctl domain dkim / domain dns and the
 * admin API's /api/domains/DOMAIN/dkim and /dns (docs/dkim.md). Only
 * public parts ever leave: keys are read without their private halves.
 * Blocking (the store): on a worker in hostmaild. Errors as ops.h.
 */
#ifndef HM_OPS_DKIM_H
#define HM_OPS_DKIM_H
#include "ops/ops.h"
#include "policy/dns_records.h"
#include "store/store_dkim.h"
#include "util/buf.h"

#define OPS_DKIM_KEYS_MAX 32

struct config;

/* A domain's keys, oldest generation first; private_key always "". */
struct ops_dkim_keys {
	struct dkim_key k[OPS_DKIM_KEYS_MAX];
	size_t n;
};

/* The keys of a hosted domain into l (none is not an error). */
int ops_dkim_keys(struct store *st, const char *domain, struct ops_dkim_keys *l, struct ops_err *e);
/* A new generation, *gen: pending while another is active, active if the
 * domain has none; refused (STORE_EEXIST) while one is pending. l reloaded. */
int ops_dkim_rotate(struct store *st, const char *domain, struct ops_dkim_keys *l, int *gen,
                    struct ops_err *e);
/* Sign with pending generation selector ("hmN", "hmN-rsa", "hmN-ed25519");
 * the active one retires. l reloaded. */
int ops_dkim_activate(struct store *st, const char *domain, const char *selector, struct ops_dkim_keys *l,
                      struct ops_err *e);
/* The records to publish: as zone-file text appended to zone (may be NULL)
 * and as structured records into out[0..max) (*n of them; out may be
 * NULL). The discovery SRV/CNAME lines are in the text only. */
int ops_dns(struct store *st, const struct config *cfg, const char *domain, struct buf *zone,
            struct dns_record *out, size_t max, int *n, struct ops_err *e);

#endif
