/*
 * conn_cache: idle outbound SMTP sessions kept open for the next message
 * to the same domain (smtp_client.h, keep). A busy destination then costs
 * one connection, not one per message: no DNS lookup, TCP and TLS
 * handshake, greeting and EHLO each time. A session waits CONN_IDLE_SECONDS
 * at most and is not parked again once CONN_MAX_AGE seconds old; at most
 * max_per_domain wait for one domain and max in all (the [delivery]
 * connection limits: a parked session is an open connection).
 */
#ifndef HM_CONN_CACHE_H
#define HM_CONN_CACHE_H

#define CONN_IDLE_SECONDS 2
#define CONN_MAX_AGE      300

struct smtpc;
struct conn_cache;

/* room(arg) runs whenever a session the cache held has closed: a place
 * for a new connection is free. */
struct conn_cache *conn_cache_new(void (*room)(void *), void *arg);
/* Park s for domain, or end it (QUIT) if it is too old or there is no room
 * within the limits. The cache owns it from now on, also while it quits. */
void conn_cache_put(struct conn_cache *cc, const char *domain, struct smtpc *s,
                    int max, int max_per_domain);
/* An idle session for domain (the caller owns it now), or NULL. */
struct smtpc *conn_cache_take(struct conn_cache *cc, const char *domain);
/* Connections the cache holds open (idle or quitting), for domain or,
 * with NULL, in all: they count against the connection limits. */
int conn_cache_open(const struct conn_cache *cc, const char *domain);
/* 1 if an idle session for domain is waiting (taking it opens nothing). */
int conn_cache_has_idle(const struct conn_cache *cc, const char *domain);
/* QUIT the longest-idle session, to make room for a new connection
 * elsewhere; room() runs once it has closed. 0, or -1 if none is idle. */
int conn_cache_drop_oldest(struct conn_cache *cc);
/* Close every session (idle or quitting), free the cache. */
void conn_cache_free(struct conn_cache *cc);

#endif
