/*
 * acc_csrf: the random tokens of the ACC (session ids, CSRF tokens) and
 * their comparison. Tokens are 32 bytes from the OS RNG (OpenSSL's
 * RAND_bytes), written as 64 lower-case hex digits; comparison takes the
 * same time wherever two tokens differ.
 */
#ifndef HM_ACC_CSRF_H
#define HM_ACC_CSRF_H
#include <stddef.h>

#define ACC_TOKEN_LEN 64             /* hex digits, without the NUL */

/* 0 and a new token in out (outlen > ACC_TOKEN_LEN), or -1. */
int acc_token_new(char *out, size_t outlen);
/* 1 if t is a well-formed token (64 hex digits), else 0. */
int acc_token_valid(const char *t);
/* 1 if a and b are the same well-formed token, else 0 (NULL or "" never match). */
int acc_token_eq(const char *a, const char *b);

#endif
