/*
 * dns: asynchronous MX resolution for outbound delivery (c-ares on the
 * libevent loop; never blocks). dns_mx_lookup finds the MX hosts of a
 * domain sorted by preference (ties in random order), falls back to the
 * domain's own A/AAAA records when it has no MX (RFC 5321 5.1), and
 * recognises a null MX ("0 .", RFC 7505). The result is a list of
 * addresses to try in order, each with the host name it belongs to.
 */
#ifndef HM_DNS_H
#define HM_DNS_H
#include <sys/socket.h>

struct event_base;
struct dns;
struct dns_query;

#define DNS_MAX_HOSTS        10   /* MX hosts looked at */
#define DNS_MAX_HOST_ADDRS   4    /* addresses used per host */
#define DNS_MAX_TARGETS      (DNS_MAX_HOSTS * DNS_MAX_HOST_ADDRS)

enum dns_status {
	DNS_OK = 0,
	DNS_NULL_MX,     /* the domain says it accepts no mail: permanent */
	DNS_NOT_FOUND,   /* no such domain / no host to deliver to: permanent */
	DNS_TEMPFAIL,    /* timeout, SERVFAIL, ...: try again later */
};

struct dns_target {
	char host[256];                 /* MX host (or the domain itself) */
	int pref;                       /* MX preference; -1 = implicit MX */
	struct sockaddr_storage addr;   /* port already set */
	socklen_t addrlen;
};

struct dns_mx_result {
	enum dns_status status;
	char error[512];                /* why, when status != DNS_OK */
	int ntargets;
	struct dns_target targets[DNS_MAX_TARGETS];
};

typedef void (*dns_mx_cb)(const struct dns_mx_result *res, void *arg);

/* servers: "" for the system resolver, else "address:port, ..." */
struct dns *dns_new(struct event_base *base, const char *servers, char *err, size_t errlen);
/* Cancels every query in progress (their callbacks are not called). */
void dns_free(struct dns *d);
/* Look up domain's mail hosts; cb runs later on the loop, exactly once,
 * unless dns_cancel() is called first. NULL on allocation failure. */
struct dns_query *dns_mx_lookup(struct dns *d, const char *domain, int port,
                                dns_mx_cb cb, void *arg);
void dns_cancel(struct dns_query *q);

#endif
