/* sasl: PLAIN/LOGIN decoding and strict base64 (see sasl.h). */
#include "auth/sasl.h"
#include <string.h>

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap)
{
	size_t i, o = 0;

	if (inlen % 4 != 0)
		return -1;
	for (i = 0; i < inlen; i += 4) {
		int v[4], k, pad = 0;
		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && i + 4 == inlen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || (v[k] = b64_val(c)) < 0)
				return -1; /* data after padding, or a bad byte */
		}
		if (o + 3 - (size_t)pad > outcap)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (int)o;
}

int b64_encode(const unsigned char *in, size_t n, char *out, size_t outcap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	if (outcap < (n + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = tab[in[i] >> 2];
		out[o++] = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = tab[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = tab[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = tab[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
			out[o++] = tab[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = tab[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int copy_field(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	size_t i;

	if (n >= outlen)
		return -1;
	for (i = 0; i < n; i++)
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out)
{
	unsigned char raw[3 * SASL_FIELD_MAX + 8];
	const unsigned char *z1, *z2;
	int n = b64_decode(b64, len, raw, sizeof raw);

	memset(out, 0, sizeof *out);
	if (n <= 0)
		return -1;
	if (!(z1 = memchr(raw, '\0', (size_t)n)))
		return -1;
	if (!(z2 = memchr(z1 + 1, '\0', (size_t)(raw + n - (z1 + 1)))))
		return -1;
	if (copy_field(raw, (size_t)(z1 - raw), out->authzid, sizeof out->authzid) < 0 ||
	    copy_field(z1 + 1, (size_t)(z2 - z1 - 1), out->authcid, sizeof out->authcid) < 0 ||
	    copy_field(z2 + 1, (size_t)(raw + n - z2 - 1), out->password, sizeof out->password) < 0)
		return -1;
	if (!out->authcid[0] || !out->password[0])
		return -1;
	if (out->authzid[0] && strcmp(out->authzid, out->authcid) != 0)
		return -1;
	return 0;
}

int sasl_login_decode(const char *b64, size_t len, char *out, size_t outlen)
{
	unsigned char raw[SASL_FIELD_MAX + 4];
	int n = b64_decode(b64, len, raw, sizeof raw);

	if (n <= 0 || copy_field(raw, (size_t)n, out, outlen) < 0)
		return -1;
	return 0;
}
