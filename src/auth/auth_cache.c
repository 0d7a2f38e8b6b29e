/* auth_cache: a set-associative table of keyed password verdicts (see auth_cache.h). */
#include "auth/auth_cache.h"
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define DIGEST 32

struct slot {
	unsigned char mac[DIGEST];
	time_t expires;                    /* 0: free */
	int ok;
};

struct auth_cache {
	pthread_mutex_t lock;
	EVP_MAC *hmac;
	unsigned char key[32];
	size_t nsets;
	int ttl, negative_ttl;
	struct auth_cache_stats stats;
	struct slot *slots;                /* nsets * WAYS */
};

struct auth_cache *auth_cache_new(size_t size, int ttl, int negative_ttl)
{
	struct auth_cache *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->nsets = size / WAYS + (size % WAYS != 0);
	if (c->nsets == 0)
		c->nsets = 1;
	c->ttl = ttl;
	c->negative_ttl = negative_ttl;
	pthread_mutex_init(&c->lock, NULL);
	if (!(c->slots = calloc(c->nsets * WAYS, sizeof *c->slots)) ||
	    !(c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || RAND_bytes(c->key, sizeof c->key) != 1) {
		auth_cache_free(c);
		return NULL;
	}
	return c;
}

void auth_cache_free(struct auth_cache *c)
{
	if (!c)
		return;
	EVP_MAC_free(c->hmac);
	if (c->slots)
		explicit_bzero(c->slots, c->nsets * WAYS * sizeof *c->slots);
	free(c->slots);
	pthread_mutex_destroy(&c->lock);
	explicit_bzero(c, sizeof *c);
	free(c);
}

/* HMAC-SHA256(key, addr NUL hash NUL password): NULs cannot occur in the
 * strings, so no two triples give the same input. 0, or -1. */
static int entry_mac(struct auth_cache *c, const char *addr, const char *hash, const char *password,
                     unsigned char out[DIGEST])
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(c->hmac);
	size_t len = 0;
	int ok;

	ok = ctx && EVP_MAC_init(ctx, c->key, sizeof c->key, params) &&
	     EVP_MAC_update(ctx, (const unsigned char *)addr, strlen(addr) + 1) &&
	     EVP_MAC_update(ctx, (const unsigned char *)hash, strlen(hash) + 1) &&
	     EVP_MAC_update(ctx, (const unsigned char *)password, strlen(password)) &&
	     EVP_MAC_final(ctx, out, &len, DIGEST) && len == DIGEST;
	EVP_MAC_CTX_free(ctx);             /* cleanses the HMAC state */
	return ok ? 0 : -1;
}

static struct slot *set_of(struct auth_cache *c, const unsigned char mac[DIGEST])
{
	unsigned long long h;

	memcpy(&h, mac, sizeof h);
	return &c->slots[(size_t)(h % c->nsets) * WAYS];
}

int auth_cache_get(struct auth_cache *c, const char *addr, const char *stored_hash,
                   const char *password, time_t now, int *ok)
{
	unsigned char mac[DIGEST];
	struct slot *set;
	int hit = 0;

	if (!c || entry_mac(c, addr, stored_hash, password, mac) < 0)
		return 0;
	set = set_of(c, mac);
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < WAYS; i++)
		if (set[i].expires > now && memcmp(set[i].mac, mac, DIGEST) == 0) {
			*ok = set[i].ok;
			hit = 1;
			break;
		}
	if (hit)
		c->stats.hits++;
	else
		c->stats.misses++;
	pthread_mutex_unlock(&c->lock);
	explicit_bzero(mac, sizeof mac);
	return hit;
}

void auth_cache_put(struct auth_cache *c, const char *addr, const char *stored_hash,
                    const char *password, int ok, time_t now)
{
	int ttl = ok ? (c ? c->ttl : 0) : (c ? c->negative_ttl : 0);
	unsigned char mac[DIGEST];
	struct slot *set, *victim;

	if (!c || ttl <= 0 || entry_mac(c, addr, stored_hash, password, mac) < 0)
		return;
	set = set_of(c, mac);
	pthread_mutex_lock(&c->lock);
	victim = NULL;
	for (int i = 0; i < WAYS && !victim; i++)    /* the same entry again */
		if (set[i].expires > now && memcmp(set[i].mac, mac, DIGEST) == 0)
			victim = &set[i];
	for (int i = 0; i < WAYS && !victim; i++)    /* a free or expired one */
		if (set[i].expires <= now)
			victim = &set[i];
	if (!victim) {
		/* a wrong password's entry before a right one's (a storm of
		 * guesses must not push customers' verdicts out), then the one
		 * that expires first */
		victim = &set[0];
		for (int i = 1; i < WAYS; i++)
			if (set[i].ok < victim->ok ||
			    (set[i].ok == victim->ok && set[i].expires < victim->expires))
				victim = &set[i];
		c->stats.evictions++;
	}
	memcpy(victim->mac, mac, DIGEST);
	victim->expires = now + ttl;
	victim->ok = ok;
	c->stats.inserts++;
	pthread_mutex_unlock(&c->lock);
	explicit_bzero(mac, sizeof mac);
}

void auth_cache_stats(struct auth_cache *c, struct auth_cache_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
