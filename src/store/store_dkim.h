/*
 * store_dkim: the DKIM keys of hosted domains, in the store (table
 * dkim_keys of SQLite or the shared PostgreSQL), so every node of a fleet
 * signs with the same keys. A domain's keys come in generations: one
 * generation is one RSA-2048 and one Ed25519 key, selectors
 * "hmN-rsa" and "hmN-ed25519" (see dkim/dkim_keys.h). A generation is
 * pending (made by a rotation, its DNS record maybe not published yet),
 * active (signing) or retired (replaced; kept so its record can be shown
 * until the operator removes it from DNS). docs/dkim.md tells the story.
 * Blocking: from hostmaild call these on a worker.
 */
#ifndef HM_STORE_DKIM_H
#define HM_STORE_DKIM_H
#include <stddef.h>
#include <stdint.h>

#define DKIM_SELECTOR_MAX 64
#define DKIM_PUB_MAX 600       /* base64 of an RSA-2048 SubjectPublicKeyInfo: 392 */
#define DKIM_PRIV_MAX 4096     /* PEM (PKCS#8) of an RSA-2048 key: about 1700 */

struct store;

enum dkim_alg { DKIM_ALG_RSA = 0, DKIM_ALG_ED25519 = 1 };
enum dkim_state { DKIM_PENDING = 0, DKIM_ACTIVE = 1, DKIM_RETIRED = 2 };

struct dkim_key {
	int generation;                     /* N of hmN-... */
	char selector[DKIM_SELECTOR_MAX];
	enum dkim_alg alg;
	enum dkim_state state;
	int64_t created;                    /* Unix time */
	char public_key[DKIM_PUB_MAX];      /* the p= value: base64 */
	char private_key[DKIM_PRIV_MAX];    /* PEM; "" unless asked for */
};

/* "rsa-sha256"/"ed25519-sha256" and "pending"/"active"/"retired". */
const char *dkim_alg_name(enum dkim_alg a);
const char *dkim_state_name(enum dkim_state s);

/* Add the n keys of one generation to a hosted domain, in one transaction.
 * 0, STORE_ENOTFOUND (domain not hosted), STORE_EEXIST (that selector
 * exists: another rotation got there first), STORE_EINVAL, STORE_EFAIL. */
int store_dkim_add(struct store *st, const char *domain, const struct dkim_key *keys, size_t n,
                   char *err, size_t errlen);
/* Every key of domain, oldest generation first, RSA before Ed25519; the
 * private keys only with with_private (wipe them after use). cb returning
 * non-zero stops. 0 (also for a domain without keys) or STORE_EFAIL. */
int store_dkim_list(struct store *st, const char *domain, int with_private,
                    int (*cb)(const struct dkim_key *, void *), void *arg);
/* Make pending generation gen the signing one; the active one retires.
 * 0, STORE_ENOTFOUND (no pending generation gen), STORE_EFAIL. */
int store_dkim_activate(struct store *st, const char *domain, int gen, char *err, size_t errlen);

#endif
