/*
 * fuzz_sasl: base64 and the SASL PLAIN / LOGIN decoders (sasl.h) that
 * read an unauthenticated client's AUTH lines. Checks: decoding never
 * writes past its buffer, what decodes re-encodes to the same text
 * (up to the unused bits of the last group), encode then decode gives the bytes back,
 * and decoded PLAIN fields are bounded, NUL-terminated and non-empty.
 */
#include "auth/sasl.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *dec;
	char *in, *enc, login[SASL_FIELD_MAX];
	struct sasl_creds cr;
	size_t cap, k;
	int n, m;

	if (size > 8192)
		return 0;
	in = malloc(size + 1);
	cap = size;                       /* decoded is never longer than the input */
	dec = malloc(cap + 1);
	enc = malloc(4 * (size / 3 + 1) + 1);
	CHECK(in && dec && enc);
	memcpy(in, data, size);

	/* decode; a success round-trips */
	n = b64_decode(in, size, dec, cap);
	if (n >= 0) {
		CHECK((size_t)n <= cap && size % 4 == 0);
		/* non-zero unused bits ("QR==") are accepted, as RFC 4648 3.5
		 * allows, so compare bytes, not text */
		m = b64_encode(dec, (size_t)n, enc, 4 * (size / 3 + 1) + 1);
		CHECK(m >= 0 && (size_t)m == size);
		for (k = 0; k < size; k++)
			CHECK(enc[k] == in[k] || k + 3 >= size);
	}
	/* a too-small output buffer is refused, not overrun */
	if (size >= 4)
		(void)b64_decode(in, size, dec, cap / 2);

	/* encode any bytes; decode gives them back */
	m = b64_encode(data, size, enc, 4 * (size / 3 + 1) + 1);
	CHECK(m >= 0 && (size_t)m == 4 * ((size + 2) / 3) && enc[m] == '\0');
	n = b64_decode(enc, (size_t)m, dec, cap);
	CHECK(n >= 0 && (size_t)n == size && memcmp(dec, data, size) == 0);
	/* exact-size output buffer for encode: one byte less must fail */
	if (m > 0)
		CHECK(b64_encode(data, size, enc, (size_t)m) < 0);

	memset(&cr, 0x5a, sizeof cr);
	if (sasl_plain_decode(in, size, &cr) == 0) {
		CHECK(memchr(cr.authcid, '\0', sizeof cr.authcid) && cr.authcid[0]);
		CHECK(memchr(cr.password, '\0', sizeof cr.password) && cr.password[0]);
		CHECK(memchr(cr.authzid, '\0', sizeof cr.authzid));
		CHECK(cr.authzid[0] == '\0' || strcmp(cr.authzid, cr.authcid) == 0);
	}
	memset(login, 0x5a, sizeof login);
	if (sasl_login_decode(in, size, login, sizeof login) == 0)
		CHECK(memchr(login, '\0', sizeof login) != NULL);
	(void)sasl_login_decode(in, size, login, 8);

	free(in);
	free(dec);
	free(enc);
	return 0;
}
