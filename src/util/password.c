/*
 * password: mailbox password hashes through libxcrypt (see password.h).
 * New hashes are yescrypt at libxcrypt's default cost; crypt_r picks the
 * algorithm from the stored hash's prefix, so $6$, $5$ and $2b$ hashes
 * imported from another system verify unchanged.
 */
#include "util/password.h"
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

int password_hash(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	size_t n;
	int rc = -1;

	if (!password || !*password || outlen == 0)
		return -1;
	/* count 0 = the library's default cost; NULL rbytes = it reads the OS RNG. */
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof salt))
		return -1;
	/* struct crypt_data is ~32 KiB: too big for a worker thread's stack. */
	cd = calloc(1, sizeof *cd);
	if (!cd)
		return -1;
	h = crypt_r(password, salt, cd);
	/* Failure is NULL or a "*0"/"*1" token that never matches any hash. */
	if (h && h[0] == '$') {
		n = strlen(h);
		if (n < outlen) {
			memcpy(out, h, n + 1);
			rc = 0;
		}
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

/* Compares all of both strings' common length, so timing says nothing about
 * where a guess first differs. */
static int const_time_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = (unsigned char)(la != lb);
	size_t n = la < lb ? la : lb;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	int ok = 0;

	if (!password || !hash || hash[0] != '$')
		return 0;
	cd = calloc(1, sizeof *cd);
	if (!cd)
		return 0;
	h = crypt_r(password, hash, cd);
	if (h && h[0] == '$')
		ok = const_time_eq(h, hash);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}
