/*
 * milter_spec: a [milter] inbound/outbound list, "inet:HOST:PORT,
 * unix:PATH" (in order; "" = none), parsed (pure: config.c checks it at
 * load, milter_chain.c connects to what it names).
 */
#ifndef HM_MILTER_SPEC_H
#define HM_MILTER_SPEC_H

#define MILTER_MAX_FILTERS 8

struct milter_spec {
	int unix_socket;         /* 1: path, 0: host and port */
	char host[64];           /* numeric IPv4 or IPv6 */
	int port;
	char path[108];
	char text[160];          /* as written, for log lines */
};

/* Count of entries (0 for an empty list), or -1 if one is malformed
 * (or more than max). */
int milter_spec_parse(const char *list, struct milter_spec *out, int max);

#endif
