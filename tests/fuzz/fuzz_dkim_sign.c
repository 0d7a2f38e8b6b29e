/*
 * fuzz_dkim_sign: the DKIM signer (dkim/dkim_sign.h, dkim_canon.h) on
 * any bytes as a message, and the DNS record check (policy/dns_records.h)
 * on the same bytes as what DNS answered. Input: one byte saying where to
 * split, then the message. Checks: signing the message whole and in two
 * pieces gives the same fields (Ed25519 is deterministic, so the whole
 * output must match), each field a DKIM-Signature ending in CRLF with no
 * bare LF; the check's verdict is one of the three.
 */
#include "dkim/dkim_keys.h"
#include "dkim/dkim_sign.h"
#include "policy/dns_records.h"
#include "fuzz_common.h"
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct dkim_key key;

static void sign(const char *m, size_t n, size_t cut, struct buf *out)
{
	char err[256];
	struct dkim_signer *s = dkim_signer_new("acme.test", &key, 1, 1796457668, err, sizeof err);

	CHECK(s != NULL);
	if (dkim_signer_feed(s, m, cut) == 0 && dkim_signer_feed(s, m + cut, n - cut) == 0)
		CHECK(dkim_signer_finish(s, out, err, sizeof err) == 0);
	dkim_signer_free(s);
}

static void check_records(const char *m, size_t n)
{
	struct dns_record r = { .type = DNS_RR_TXT };
	char *a = malloc(n + 1);
	const char *found[1] = { a };
	enum dns_check c;

	CHECK(a != NULL);
	memcpy(a, m, n);
	a[n] = '\0';
	snprintf(r.what, sizeof r.what, "DKIM hm1-rsa (active)");
	snprintf(r.value, sizeof r.value, "v=DKIM1; k=rsa; p=MIIBIjAN");
	for (int kind = 0; kind < 4; kind++) {
		if (kind == 1)
			snprintf(r.what, sizeof r.what, "SPF"), snprintf(r.value, sizeof r.value, "v=spf1 a:mx.example.net ~all");
		if (kind == 2)
			snprintf(r.what, sizeof r.what, "DMARC");
		if (kind == 3)
			r.type = DNS_RR_MX, snprintf(r.value, sizeof r.value, "10 mx.example.net");
		c = dns_record_check(&r, found, 1);
		CHECK(c == DNS_CHECK_OK || c == DNS_CHECK_MISSING || c == DNS_CHECK_WRONG);
	}
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole, split;
	const char *m = (const char *)data + 1;
	size_t n, cut;
	char err[256];

	if (size < 1 || size > 65536)
		return 0;
	if (!key.private_key[0]) {
		struct dkim_key k[2];
		CHECK(dkim_keys_generate(1, DKIM_ACTIVE, k, err, sizeof err) == 0);
		key = k[1];              /* Ed25519: fast, and deterministic */
		OPENSSL_cleanse(k, sizeof k);
	}
	n = size - 1;
	cut = n ? data[0] % (n + 1) : 0;
	buf_init(&whole, 0);
	buf_init(&split, 0);
	sign(m, n, n, &whole);
	sign(m, n, cut, &split);
	CHECK(whole.len == split.len && (whole.len == 0 || memcmp(whole.data, split.data, whole.len) == 0));
	if (whole.len) {
		CHECK(!strncmp(whole.data, "DKIM-Signature: v=1; a=ed25519-sha256;", 38));
		CHECK(whole.len >= 2 && !memcmp(whole.data + whole.len - 2, "\r\n", 2));
		for (size_t i = 0; i < whole.len; i++)
			CHECK(whole.data[i] != '\n' || (i > 0 && whole.data[i - 1] == '\r'));
	}
	buf_free(&whole);
	buf_free(&split);
	check_records(m, n);
	return 0;
}
