/*
 * route_store: the routing layer on the account store and the queue
 * (docs/routing.md says where each step happens and why):
 *
 * - at RCPT (route_rcpt): is the address taken? A mailbox, an alias,
 *   postmaster@/abuse@ of a hosted domain, an address of a domain with a
 *   catch-all, or an SRS address whose hash and age verify. A forged or
 *   expired SRS address is refused. Only acceptance: no expansion yet.
 * - at delivery (route_deliver, from the queue runner, for a recipient
 *   accepted as local): the address is expanded (route.h); a plain
 *   mailbox is delivered as before; otherwise the message is queued anew,
 *   once for the hosted targets (same sender) and once for the outside
 *   targets (sender rewritten with SRS), each copy committed durably
 *   before the recipient is marked done, so nothing acknowledged is lost.
 *
 * Blocking (store, disk): call on a worker.
 */
#ifndef HM_ROUTE_STORE_H
#define HM_ROUTE_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "queue/queue.h"
#include "routing/route.h"
#include "routing/srs.h"

struct store;
struct config;

/* The store as route.h's data. */
void route_db_store(struct route_db *db, struct store *st);

/* After store_rcpt_lookup said *hosted / *exists: widen them for aliases,
 * role addresses, catch-alls and valid SRS addresses (srs may be NULL).
 * 0, or 1 when the address is a forged or expired SRS address (why: the
 * reply text), or -1 when the store failed. */
int route_rcpt(struct store *st, const struct srs *srs, const char *local, const char *domain, int *hosted,
               int *exists, char *why, size_t whylen);

/* The SRS settings of cfg, the secret file made at first use (24 random
 * bytes in base64, mode 0600, as postsrsd's installers make it). A new
 * struct (free it), or NULL with err. */
struct srs *route_srs_load(const struct config *cfg, char *err, size_t errlen);

struct route_outcome {
	enum route_kind kind;            /* MAILBOX: deliver as before; FORWARD: done */
	char why[400];                   /* UNKNOWN, LOOP (permanent), TEMP: the reason */
	int nids;                        /* FORWARD: the new queue entries */
	char ids[2][QUEUE_ID_LEN + 1];
	char info[600];                  /* FORWARD: a line for the log */
};

/* Route recipient i of env (accepted as local), whose message is
 * msg_path[off, off + size). */
void route_deliver(struct store *st, const struct srs *srs, const char *queue_dir, const struct envelope *env,
                   size_t i, const char *msg_path, uint64_t off, uint64_t size, struct route_outcome *out);

#endif
