/*
 * dkim_keys: making a domain's DKIM keys with OpenSSL: one generation is
 * an RSA-2048 key (selector hmN-rsa) and an Ed25519 key (hmN-ed25519,
 * RFC 8463), private keys as PKCS#8 PEM (what dkim_sign.c, like other
 * DKIM signers, reads), public keys as the p= value of the DNS record
 * (RSA: base64 of the SubjectPublicKeyInfo; Ed25519: base64 of the raw
 * 32 bytes). No I/O.
 */
#ifndef HM_DKIM_KEYS_H
#define HM_DKIM_KEYS_H
#include "store/store_dkim.h"

/* Fill out[0] (RSA) and out[1] (Ed25519) of generation gen in state st,
 * created now. 0, or -1 with err. Wipe out[] (OPENSSL_cleanse) after use. */
int dkim_keys_generate(int gen, enum dkim_state st, struct dkim_key out[2], char *err, size_t errlen);

/* The generation after every one of keys[0..n): 1 + the highest. */
int dkim_next_generation(const struct dkim_key *keys, size_t n);

/* Generation N from "hmN", "hmN-rsa" or "hmN-ed25519"; -1 if none. */
int dkim_parse_generation(const char *s);

#endif
