/*
 * remote: one delivery attempt of one message to the recipients of one
 * domain. Looks up the domain's mail hosts (dns.c) and tries them in
 * order, each address in turn, with an SMTP session (smtp_client.c)
 * until one of them gives every recipient a result; a host whose TLS
 * handshake fails is tried once more without TLS (opportunistic TLS
 * must not make mail undeliverable). When every host fails, every
 * recipient gets a temporary failure with the last error.
 */
#ifndef HM_REMOTE_H
#define HM_REMOTE_H
#include <stdint.h>
#include <openssl/ssl.h>
#include "delivery/smtp_client.h"

struct event_base;
struct config;
struct dns;
struct remote;

struct conn_cache;

struct remote_params {
	struct event_base *base;
	const struct config *cfg;
	struct dns *dns;
	SSL_CTX *tls;
	const char *queue_id;
	const char *helo;
	const char *domain;
	const char *sender;
	const char *msg_path;
	uint64_t msg_offset;        /* where the message starts in msg_path */
	uint64_t msg_size;
	struct smtpc_rcpt *rcpts;   /* caller-owned; every one gets a result */
	size_t nrcpt;
	struct conn_cache *cache;   /* idle sessions to reuse and to park in; NULL: none */
	int max_conns, max_per_domain;  /* how many the cache may hold */
};

/* done runs later, exactly once (never from inside remote_start). */
struct remote *remote_start(const struct remote_params *p, void (*done)(void *arg), void *arg);
/* Stop now; done is not called. */
void remote_abort(struct remote *rm);

#endif
