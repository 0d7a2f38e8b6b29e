/*
 * dkim_keys: DKIM key pairs made with OpenSSL's EVP API (dkim_keys.h).
 * Private key bytes pass through OpenSSL memory BIOs only; what is left
 * in our buffers is the caller's to wipe.
 */
#include "dkim/dkim_keys.h"
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static EVP_PKEY *make_key(enum dkim_alg alg)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(alg == DKIM_ALG_RSA ? EVP_PKEY_RSA : EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;

	if (ctx && EVP_PKEY_keygen_init(ctx) > 0 &&
	    (alg != DKIM_ALG_RSA || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) > 0))
		EVP_PKEY_keygen(ctx, &k);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

/* PKCS#8 PEM into out; 0 or -1. */
static int private_pem(EVP_PKEY *k, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *p;
	long n;
	int rc = -1;

	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) > 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && (size_t)n < outlen) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
		rc = 0;
	}
	BIO_free(b);   /* a secure-memory BIO clears its buffer */
	return rc;
}

/* The p= value; 0 or -1. */
static int public_b64(EVP_PKEY *k, enum dkim_alg alg, char *out, size_t outlen)
{
	unsigned char der[1024], *p = der;
	size_t len = sizeof der;
	int n;

	if (alg == DKIM_ALG_ED25519) {
		if (EVP_PKEY_get_raw_public_key(k, der, &len) <= 0)
			return -1;
	} else {
		if (i2d_PUBKEY(k, NULL) > (int)sizeof der || (n = i2d_PUBKEY(k, &p)) <= 0)
			return -1;
		len = (size_t)n;
	}
	if (outlen < 4 * ((len + 2) / 3) + 1)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, der, (int)len) > 0 ? 0 : -1;
}

static int make_one(int gen, enum dkim_alg alg, enum dkim_state st, struct dkim_key *out)
{
	EVP_PKEY *k = make_key(alg);
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->generation = gen;
	out->alg = alg;
	out->state = st;
	out->created = (int64_t)time(NULL);
	snprintf(out->selector, sizeof out->selector, "hm%d-%s", gen, alg == DKIM_ALG_RSA ? "rsa" : "ed25519");
	if (k && private_pem(k, out->private_key, sizeof out->private_key) == 0 &&
	    public_b64(k, alg, out->public_key, sizeof out->public_key) == 0)
		rc = 0;
	EVP_PKEY_free(k);
	return rc;
}

int dkim_keys_generate(int gen, enum dkim_state st, struct dkim_key out[2], char *err, size_t errlen)
{
	if (make_one(gen, DKIM_ALG_RSA, st, &out[0]) == 0 && make_one(gen, DKIM_ALG_ED25519, st, &out[1]) == 0)
		return 0;
	const char *why = ERR_reason_error_string(ERR_get_error());

	OPENSSL_cleanse(out, 2 * sizeof *out);
	snprintf(err, errlen, "cannot make DKIM keys: %s", why ? why : "OpenSSL error");
	return -1;
}

int dkim_next_generation(const struct dkim_key *keys, size_t n)
{
	int g = 0;

	for (size_t i = 0; i < n; i++)
		if (keys[i].generation > g)
			g = keys[i].generation;
	return g + 1;
}

int dkim_parse_generation(const char *s)
{
	char *end;
	long g;

	if (strncmp(s, "hm", 2) || s[2] < '1' || s[2] > '9')
		return -1;
	g = strtol(s + 2, &end, 10);
	if (g < 1 || g > 1000000 || (*end && strcmp(end, "-rsa") && strcmp(end, "-ed25519")))
		return -1;
	return (int)g;
}
