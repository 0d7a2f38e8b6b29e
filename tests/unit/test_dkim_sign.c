/* Unit tests for dkim/dkim_canon.c and dkim/dkim_sign.c: RFC 6376's own
 * canonicalization example, the body canonicalizer fed in every split,
 * the fields chosen (bottom-up, From oversigned), the output's shape, and
 * the signatures themselves against an independent implementation: for
 * the same message, keys and time, libopendkim (OpenDKIM 2.11) must make
 * the same b= for both algorithms (RSA PKCS#1 v1.5 and Ed25519 are
 * deterministic). test_dkim.py verifies with python3-dkim as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <opendkim/dkim.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dkim/dkim_canon.h"
#include "dkim/dkim_keys.h"
#include "dkim/dkim_sign.h"
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* libopendkim 2.11.0~beta2 leaks each Ed25519 key it loads (dkim_free
 * frees RSA keys only; fixed upstream in OpenDKIM PR #321): the oracle's
 * leak, not ours */
#define ORACLE_BEGIN() __lsan_disable()
#define ORACLE_END() __lsan_enable()
#else
#define ORACLE_BEGIN() ((void)0)
#define ORACLE_END() ((void)0)
#endif

#define T0 1796457668

static void collect(void *arg, const char *p, size_t n)
{
	buf_append(arg, p, n);
}

static void test_canon_rfc_example(void **state)
{
	static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";
	struct dkim_body_canon c;
	struct buf h, b;

	(void)state;
	buf_init(&h, 0);
	assert_int_equal(dkim_canon_header("A: X", strlen("A: X"), 1, &h), 0);
	assert_int_equal(dkim_canon_header("B : Y\t\r\n\tZ  ", strlen("B : Y\t\r\n\tZ  "), 1, &h), 0);
	assert_string_equal(h.data, "a:X\r\nb:Y Z\r\n");
	buf_free(&h);
	/* every split of the body gives the same */
	for (size_t cut = 0; cut <= sizeof body - 1; cut++) {
		buf_init(&b, 0);
		dkim_body_canon_init(&c, collect, &b);
		dkim_body_canon_feed(&c, body, cut);
		dkim_body_canon_feed(&c, body + cut, sizeof body - 1 - cut);
		dkim_body_canon_finish(&c);
		assert_string_equal(b.data, " C\r\nD E\r\n");
		buf_free(&b);
	}
}

static void test_canon_body_edges(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" },
		{ "\r\n\r\n", "" },                            /* empty lines only: empty */
		{ "x", "x\r\n" },                              /* a last line without CRLF */
		{ "a\r\n\r\n \t \r\nb\r\n\r\n", "a\r\n\r\n\r\nb\r\n" },  /* inner empty lines stay */
		{ "\t lead\r\n", " lead\r\n" },                /* leading WSP: one SP */
	};
	struct dkim_body_canon c;
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		buf_init(&b, 0);
		dkim_body_canon_init(&c, collect, &b);
		dkim_body_canon_feed(&c, v[i].in, strlen(v[i].in));
		dkim_body_canon_finish(&c);
		assert_string_equal(b.data ? b.data : "", v[i].out);
		buf_free(&b);
	}
}

static struct dkim_key keys[2];

static int setup(void **state)
{
	char err[256];

	(void)state;
	return dkim_keys_generate(1, DKIM_ACTIVE, keys, err, sizeof err);
}

static int teardown(void **state)
{
	(void)state;
	OPENSSL_cleanse(keys, sizeof keys);
	return 0;
}

/* Ours, fed in pieces of `piece` bytes. */
static void ours(const char *msg, size_t piece, struct buf *out)
{
	char err[256];
	struct dkim_signer *s = dkim_signer_new("acme.test", keys, 2, T0, err, sizeof err);
	size_t len = strlen(msg);

	assert_non_null(s);
	for (size_t off = 0; off < len; off += piece)
		assert_int_equal(dkim_signer_feed(s, msg + off, len - off < piece ? len - off : piece), 0);
	assert_int_equal(dkim_signer_finish(s, out, err, sizeof err), 0);
	dkim_signer_free(s);
}

/* libopendkim's b= for key k (header list as ours: same names, same order). */
static void oracle_b(const char *msg, const struct dkim_key *k, char *b, size_t blen)
{
	static const char *hdrs[] = { "from", "to", "subject", "date", "message-id", NULL };
	static const char *over[] = { "From", NULL };   /* as ours spells it in h= */
	uint64_t t = T0;
	DKIM_STAT st;
	DKIM_LIB *lib;
	DKIM *d;
	unsigned char *v;
	size_t vlen;
	char *p, *q;

	ORACLE_BEGIN();
	lib = dkim_init(NULL, NULL);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, hdrs, sizeof(char **)), 0);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, over, sizeof(char **)), 0);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &t, sizeof t), 0);
	d = dkim_sign(lib, (unsigned char *)"t", NULL, (unsigned char *)k->private_key,
	              (unsigned char *)k->selector, (unsigned char *)"acme.test", DKIM_CANON_RELAXED,
	              DKIM_CANON_RELAXED, k->alg == DKIM_ALG_ED25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256,
	              -1, &st);
	assert_non_null(d);
	assert_int_equal(dkim_chunk(d, (unsigned char *)msg, strlen(msg)), DKIM_STAT_OK);
	assert_int_equal(dkim_chunk(d, NULL, 0), DKIM_STAT_OK);
	assert_int_equal(dkim_eom(d, NULL), DKIM_STAT_OK);
	assert_int_equal(dkim_getsighdr_d(d, 16, &v, &vlen), DKIM_STAT_OK);
	for (p = strstr((char *)v, "b="); p && p[-1] != ' ' && p[-1] != '\t'; p = strstr(p + 1, "b="))
		;                            /* b=, not bh= */
	assert_non_null(p);
	for (q = b, p += 2; *p && (size_t)(q - b) + 1 < blen; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			*q++ = *p;
	*q = '\0';
	dkim_free(d);
	dkim_close(lib);
	ORACLE_END();
}

/* Our b= of the signature of algorithm alg, whitespace removed. */
static void our_b(const char *sigs, const char *alg, char *b, size_t blen)
{
	const char *p = strstr(sigs, alg), *end;
	char *q = b;

	assert_non_null(p);
	p = strstr(p, "b=");
	while (p && p[-1] != '\t' && p[-1] != ' ')
		p = strstr(p + 1, "b=");     /* b=, not bh= */
	assert_non_null(p);
	end = strstr(p, "\r\nDKIM-Signature") ? strstr(p, "\r\nDKIM-Signature") : p + strlen(p);
	for (p += 2; p < end && (size_t)(q - b) + 1 < blen; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			*q++ = *p;
	*q = '\0';
}

static const char msg[] =
	"Received: from x ([192.0.2.1])\r\n\tby mx (hostmail); Sat, 5 Dec 2026 08:00:00 +0000\r\n"
	"From: Alice  <alice@acme.test>\r\n"
	"To: b@remote.test,\r\n  c@remote.test\r\n"
	"Subject:   Hello\t there  \r\n"
	"Date: Sat, 05 Dec 2026 08:00:00 +0000\r\n"
	"Message-ID: <1@acme.test>\r\n"
	"\r\n"
	"Body  line\t \r\n"
	"\r\n"
	"last line\r\n"
	"\r\n\r\n";

static void test_same_signatures_as_libopendkim(void **state)
{
	char a[800], b[800];
	struct buf out;
	size_t pieces[] = { 1, 7, 64, 4096 };

	(void)state;
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		buf_init(&out, 0);
		ours(msg, pieces[i], &out);
		our_b(out.data, "a=rsa-sha256", a, sizeof a);
		oracle_b(msg, &keys[0], b, sizeof b);
		assert_string_equal(a, b);
		our_b(out.data, "a=ed25519-sha256", a, sizeof a);
		oracle_b(msg, &keys[1], b, sizeof b);
		assert_string_equal(a, b);
		buf_free(&out);
	}
}

static void test_output_shape(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	ours(msg, 4096, &out);
	assert_true(!strncmp(out.data, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.test;",
	                     strlen("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.test;")));
	assert_non_null(strstr(out.data, "\r\nDKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"));
	assert_non_null(strstr(out.data, "s=hm1-rsa;"));
	assert_non_null(strstr(out.data, "s=hm1-ed25519;"));
	assert_non_null(strstr(out.data, "t=1796457668;"));
	assert_non_null(strstr(out.data, "h=From:To:Subject:Date:Message-ID:From;"));  /* no Received */
	for (size_t i = 0, col = 0; i < out.len; i++, col++) {
		if (out.data[i] == '\n') {
			assert_true(i > 0 && out.data[i - 1] == '\r');   /* CRLF only */
			col = 0;
		}
		assert_true(col < 100);                               /* folded */
	}
	assert_true(!strcmp(out.data + out.len - 2, "\r\n"));
	buf_free(&out);
}

/* Two To: fields: both signed, h= names To twice, bottom-up. */
static void test_repeated_fields_and_no_body(void **state)
{
	static const char m[] = "From: a@acme.test\r\nTo: x@r.test\r\nTo: y@r.test\r\n";   /* no blank line, no body */
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	ours(m, 5, &out);
	assert_non_null(strstr(out.data, "h=From:To:To:From;"));
	/* the body hash of an empty body (SHA-256 of nothing) */
	assert_non_null(strstr(out.data, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"));
	buf_free(&out);
}

static void test_bad_keys(void **state)
{
	struct dkim_key k = keys[1];
	char err[256];

	(void)state;
	k.alg = DKIM_ALG_RSA;          /* an Ed25519 key said to be RSA */
	assert_null(dkim_signer_new("acme.test", &k, 1, T0, err, sizeof err));
	assert_non_null(strstr(err, "cannot be read"));
	snprintf(k.private_key, sizeof k.private_key, "not a key");
	assert_null(dkim_signer_new("acme.test", &k, 1, T0, err, sizeof err));
	assert_null(dkim_signer_new("acme.test", keys, 0, T0, err, sizeof err));
	OPENSSL_cleanse(&k, sizeof k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_rfc_example),
		cmocka_unit_test(test_canon_body_edges),
		cmocka_unit_test(test_same_signatures_as_libopendkim),
		cmocka_unit_test(test_output_shape),
		cmocka_unit_test(test_repeated_fields_and_no_body),
		cmocka_unit_test(test_bad_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
