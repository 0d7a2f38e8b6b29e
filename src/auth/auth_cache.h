/*
 * auth_cache: remembers recent password verdicts so that a client logging
 * in again with the same password skips yescrypt (as Dovecot's auth_cache
 * does), which keeps customers' logins fast while a password storm fills
 * the hashing threads.
 *
 * An entry is the HMAC-SHA256, under a key drawn at random per process,
 * of (address, the stored password hash, the password): never the
 * password, and useless outside this process. Because the stored hash is
 * part of the key, the caller reads the mailbox's row first (a quick store
 * call) and a password change makes every old entry unreachable at once,
 * on every node that shares the store; a removed mailbox has no row and
 * a suspension is read from the row on every login, so neither needs the
 * cache to be told. Unknown addresses are cached as "" hashes, so a
 * repeated guess costs the same for an existing and a missing mailbox.
 *
 * Bounded: cache_size entries in sets of 4; a new entry takes a free or
 * expired slot of its set, else a wrong password's entry, else the one
 * that expires first. Thread-safe
 * (the workers look up and insert); the caller passes the time.
 */
#ifndef HM_AUTH_CACHE_H
#define HM_AUTH_CACHE_H
#include <stddef.h>
#include <time.h>

struct auth_cache;

/* size entries (rounded up to a multiple of 4); positive verdicts kept
 * ttl seconds, negative ones negative_ttl (0: not cached). NULL on
 * allocation failure or when the key cannot be drawn. */
struct auth_cache *auth_cache_new(size_t size, int ttl, int negative_ttl);
void auth_cache_free(struct auth_cache *c);

/* 1 and *ok (1 right, 0 wrong password) if a verdict for exactly these
 * three strings is cached and fresh at now; 0 if it is not. */
int auth_cache_get(struct auth_cache *c, const char *addr, const char *stored_hash,
                   const char *password, time_t now, int *ok);
void auth_cache_put(struct auth_cache *c, const char *addr, const char *stored_hash,
                    const char *password, int ok, time_t now);

struct auth_cache_stats {
	unsigned long hits, misses, inserts, evictions;
};
void auth_cache_stats(struct auth_cache *c, struct auth_cache_stats *out);

#endif
