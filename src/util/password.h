/*
 * password: hashing and verifying mailbox passwords with libcrypt's crypt_r.
 * New hashes are yescrypt ($y$); existing $y$, $6$, $5$, $2b$ hashes verify
 * as they are. Slow by design: call from a worker thread in the daemon.
 */
#ifndef HM_PASSWORD_H
#define HM_PASSWORD_H
#include <stddef.h>

/* 0 and the hash in out, or -1. */
int password_hash(const char *password, char *out, size_t outlen);
/* 1 if password matches hash, 0 if not (or hash unusable). Constant-time compare. */
int password_verify(const char *password, const char *hash);

#endif
