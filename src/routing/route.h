/*
 * route: where mail for a hosted address goes (docs/routing.md). Pure:
 * the data comes through the callbacks of struct route_db (the store in
 * hostmaild, a table in the unit tests), so every decision is tested
 * without a database.
 *
 * For an address A the order is: an alias of A (its targets, each
 * resolved in turn; A itself among them means "keep a copy in the
 * mailbox A"), else the mailbox A, else postmaster@/abuse@ of the domain
 * (the owning account's contact), else the domain's catch-all, else
 * unknown. A target in a domain not hosted here is an outside address.
 * An alias met again on the way down (A -> B -> A), or a chain deeper
 * than ROUTE_MAX_DEPTH, is a loop; so is a message that already went
 * through the alias A (a Delivered-To: A header field, which forwarding
 * adds, see route_header_loop) unless A keeps a copy: then that copy is
 * delivered and nothing is forwarded again.
 */
#ifndef HM_ROUTE_H
#define HM_ROUTE_H
#include <stddef.h>

#define ROUTE_MAX_TARGETS 64
#define ROUTE_MAX_DEPTH   8
#define ROUTE_MAX_HOPS    50      /* Received: fields before a message is a loop (RFC 5321 6.3) */

struct route_db {
	void *arg;
	/* each returns 1 (yes; out filled), 0 (no) or -1 (the data is unavailable) */
	int (*hosted)(void *arg, const char *domain);
	int (*mailbox)(void *arg, const char *addr);
	int (*alias)(void *arg, const char *addr, char *targets, size_t len);
	int (*catchall)(void *arg, const char *domain, char *out, size_t len);
	int (*contact)(void *arg, const char *domain, char *out, size_t len);
};

enum route_kind {
	ROUTE_MAILBOX,   /* deliver to the mailbox of that name, as before */
	ROUTE_FORWARD,   /* deliver to targets[] instead */
	ROUTE_UNKNOWN,   /* no such address (5.1.1) */
	ROUTE_LOOP,      /* a forwarding loop (5.4.6) */
	ROUTE_TEMP,      /* the data was unavailable: try again later */
};

struct route_target {
	char addr[320];
	int local;       /* 1: a hosted mailbox; 0: an outside address */
};

struct route_result {
	enum route_kind kind;
	size_t n;
	struct route_target t[ROUTE_MAX_TARGETS];
	char why[400];   /* for UNKNOWN, LOOP and TEMP: the reason, with its status code */
};

/* Where mail for addr (lower-case local@domain, in a hosted domain) goes.
 * seen: the message already went through the alias addr (see above). */
void route_resolve(const struct route_db *db, const char *addr, int seen, struct route_result *out);

/* 1 if the header section hdr[0..len) has a Delivered-To: field naming
 * addr (case-insensitive), or at least ROUTE_MAX_HOPS Received: fields
 * (*hops set to 1 then); else 0. Pure. */
int route_header_loop(const char *hdr, size_t len, const char *addr, int *hops);

/* 1 if local is postmaster or abuse (any case), the addresses every
 * hosted domain has (RFC 5321 4.5.1, RFC 2142). */
int route_is_role(const char *local);

#endif
