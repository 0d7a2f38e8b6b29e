/*
 * dns_sync: TXT and MX lookups that block, for a worker thread (the ACC's
 * check of a domain's published records), with c-ares and the resolver
 * delivery uses ([delivery] dns_servers). All the lookups of one call go
 * out at once on one channel of their own, so the call takes as long as
 * the slowest answer, at most about timeout_ms. Never on the event loop.
 */
#ifndef HM_DNS_SYNC_H
#define HM_DNS_SYNC_H
#include <stddef.h>

#define DNS_SYNC_MAX_ANSWERS 8
#define DNS_SYNC_ANSWER_MAX 1024

enum dns_sync_type { DNS_SYNC_TXT, DNS_SYNC_MX };

struct dns_sync_q {
	const char *name;
	enum dns_sync_type type;
	/* results */
	int status;         /* 0 answered (n may be 0: no such record), -1 no answer (timeout, SERVFAIL) */
	int n;
	char answers[DNS_SYNC_MAX_ANSWERS][DNS_SYNC_ANSWER_MAX];  /* TXT: strings joined; MX: "PREF host" */
};

/* Resolve qs[0..n). servers: "" for the system resolver, else
 * "address:port, ...". 0, or -1 with err when no channel could be made. */
int dns_sync_resolve(const char *servers, struct dns_sync_q *qs, size_t n, int timeout_ms,
                     char *err, size_t errlen);

#endif
