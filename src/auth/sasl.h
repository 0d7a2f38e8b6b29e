/*
 * sasl: the pure parts of SASL PLAIN (RFC 4616) and LOGIN, and base64
 * (RFC 4648) as SMTP AUTH (RFC 4954) and POP3 AUTH (RFC 5034) carry it.
 * No I/O: unit-tested and fuzzed alone.
 */
#ifndef HM_SASL_H
#define HM_SASL_H
#include <stddef.h>

#define SASL_FIELD_MAX 256

/* Strict base64 decode (padding required, no whitespace). Returns the
 * decoded length, or -1 for malformed input or if out is too small. */
int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap);
/* NUL-terminated encoding into out; -1 if out is too small. */
int b64_encode(const unsigned char *in, size_t n, char *out, size_t outcap);

struct sasl_creds {
	char authzid[SASL_FIELD_MAX];
	char authcid[SASL_FIELD_MAX];
	char password[SASL_FIELD_MAX];
};

/*
 * Decode a base64 PLAIN response "authzid NUL authcid NUL password".
 * Returns 0, or -1 (malformed, empty user or password, NUL missing,
 * a field too long). An authzid different from authcid is refused (-1):
 * nobody may act as another mailbox.
 */
int sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out);
/* Decode one base64 LOGIN step (username or password) into out. 0 or -1. */
int sasl_login_decode(const char *b64, size_t len, char *out, size_t outlen);

#endif
