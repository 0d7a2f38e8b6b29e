/*
 * dns_records: the DNS records a customer publishes for a hosted domain
 * (hostmailctl domain dns, the ACC's DNS page) and the pure half of
 * checking them: DKIM TXT at SELECTOR._domainkey.DOMAIN for each active
 * or pending key, an SPF TXT and a DMARC TXT suggestion, the MX. Pure:
 * no I/O, no clock; the caller gives the keys and the [records] settings.
 */
#ifndef HM_DNS_RECORDS_H
#define HM_DNS_RECORDS_H
#include <stddef.h>
#include "store/store_dkim.h"
#include "util/buf.h"

#define DNS_RECORDS_MAX 16
#define DNS_TXT_CHUNK 255      /* a character-string's limit (RFC 1035 3.3) */
#define DNS_RECORDS_TTL 3600   /* as client_dns.c's lines say */

enum dns_rr { DNS_RR_TXT, DNS_RR_MX };

struct dns_record {
	enum dns_rr type;
	char what[96];             /* "DKIM hm1-rsa (active)", "SPF", "DMARC", "MX" */
	char name[320];            /* owner name, no trailing dot */
	char value[1024];          /* TXT: the whole text, unsplit; MX: "10 host" */
	int suggestion;            /* SPF, DMARC: one good choice; an equivalent one passes the check */
};

struct dns_records_in {
	const char *domain;
	const char *mx;            /* mail exchanger host */
	const char *spf;           /* the SPF record to suggest */
	const char *dmarc;         /* the DMARC record to suggest */
	const struct dkim_key *keys;
	size_t nkeys;              /* retired keys are left out */
};

/* The records for in, into out[0..max): how many, or -1 if max is short. */
int dns_records_build(const struct dns_records_in *in, struct dns_record *out, size_t max);
/* The RFC 6186 SRV and autoconfig records are policy/client_dns.c's;
 * dkim/dkim_records.c puts its lines after these in the zone text. */

/* One zone-file line for r, "NAME. 3600 IN TXT \"...\" \"...\"" (TXT split
 * in DNS_TXT_CHUNK-byte strings) or "NAME. 3600 IN MX 10 host.", with "\n"
 * appended. 0 or -1 (no memory). */
int dns_record_zone_line(const struct dns_record *r, struct buf *out);

/* The check of one record against what DNS answered: found[0..n) are
 * the TXT texts (character-strings joined) or MX "PREF host" at r->name. */
enum dns_check { DNS_CHECK_OK, DNS_CHECK_MISSING, DNS_CHECK_WRONG };
enum dns_check dns_record_check(const struct dns_record *r, const char *const *found, size_t n);
const char *dns_check_name(enum dns_check c);

#endif
