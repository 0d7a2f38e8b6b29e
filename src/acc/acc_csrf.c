/*
 * acc_csrf: random tokens and constant-time comparison (see acc_csrf.h).
 * Every form of a logged-in page carries its session's CSRF token; the
 * login form carries a token that must equal the hm_login cookie (a
 * double-submitted cookie, since there is no session yet).
 */
#include "acc/acc_csrf.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

int acc_token_new(char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[ACC_TOKEN_LEN / 2];
	size_t i;

	if (outlen <= ACC_TOKEN_LEN || RAND_bytes(r, sizeof r) != 1)
		return -1;
	for (i = 0; i < sizeof r; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[ACC_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(r, sizeof r);
	return 0;
}

int acc_token_valid(const char *t)
{
	return t && strlen(t) == ACC_TOKEN_LEN && strspn(t, "0123456789abcdef") == ACC_TOKEN_LEN;
}

int acc_token_eq(const char *a, const char *b)
{
	if (!a || !b || strlen(a) != ACC_TOKEN_LEN || strlen(b) != ACC_TOKEN_LEN)
		return 0;
	return CRYPTO_memcmp(a, b, ACC_TOKEN_LEN) == 0;
}
