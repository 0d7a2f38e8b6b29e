/* Unit tests for src/milter: the codec (milter_codec.c: commands encoded
 * byte for byte as mfdef.h lays them out, replies decoded, truncated and
 * malformed ones told apart), the filter list (milter_spec.c), the
 * Authentication-Results and spam decisions (milter_result.c) and the
 * header section rebuilt from a filter's edits (milter_apply.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "milter/milter_chain.h"
#include "milter/milter_codec.h"
#include "milter/milter_result.h"
#include "milter/milter_spec.h"

/* A reply packet: cmd and data[0..n). */
static size_t pkt(unsigned char *out, char cmd, const void *data, size_t n)
{
	uint32_t len = (uint32_t)n + 1;

	out[0] = (unsigned char)(len >> 24);
	out[1] = (unsigned char)(len >> 16);
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
	out[4] = (unsigned char)cmd;
	if (n)
		memcpy(out + 5, data, n);
	return n + 5;
}

static void t_encode(void **st)
{
	struct buf b;
	const char *names[] = { "j", "{client_addr}" }, *values[] = { "mx.test", "192.0.2.1" };

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(milter_enc_optneg(&b, 0x1ff, 0x1fffff), 0);
	assert_memory_equal(b.data, "\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff", 17);
	buf_reset(&b);
	assert_int_equal(milter_enc_connect(&b, "[192.0.2.1]", '4', 25, "192.0.2.1"), 0);
	assert_int_equal(b.len, 4 + 1 + 12 + 1 + 2 + 10);
	assert_memory_equal(b.data, "\0\0\0\x1a" "C[192.0.2.1]\0" "4\0\x19" "192.0.2.1\0", b.len);
	buf_reset(&b);
	assert_int_equal(milter_enc_macros(&b, 'C', names, values, 2), 0);
	assert_memory_equal(b.data, "\0\0\0\x24" "DCj\0mx.test\0{client_addr}\0" "192.0.2.1\0", b.len);
	buf_reset(&b);
	assert_int_equal(milter_enc_addr(&b, SMFIC_MAIL, "a@b.test", NULL, 0), 0);
	assert_memory_equal(b.data, "\0\0\0\x0cM<a@b.test>\0", b.len);
	buf_reset(&b);
	assert_int_equal(milter_enc_header(&b, "Subject", "hi\n\tthere"), 0);
	assert_memory_equal(b.data, "\0\0\0\x13LSubject\0hi\n\tthere\0", b.len);
	buf_reset(&b);
	assert_int_equal(milter_enc_simple(&b, SMFIC_BODYEOB), 0);
	assert_memory_equal(b.data, "\0\0\0\x01" "E", 5);
	buf_reset(&b);
	char big[MILTER_CHUNK + 1];
	memset(big, 'x', sizeof big);
	assert_int_equal(milter_enc_body(&b, big, MILTER_CHUNK), 0);
	assert_int_equal(b.len, 5 + MILTER_CHUNK);
	assert_int_equal(milter_enc_body(&b, big, MILTER_CHUNK + 1), -1);   /* one chunk at most */
	buf_free(&b);
}

static void t_decode_replies(void **st)
{
	unsigned char p[256];
	struct milter_reply r;
	size_t n, used = 0;

	(void)st;
	n = pkt(p, 'O', "\0\0\0\x06\0\0\0\x01\0\0\0\x80" "extra", 17);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_int_equal(used, n);
	assert_int_equal(r.version, 6);
	assert_int_equal(r.actions, 1);
	assert_int_equal(r.protocol, SMFIP_NR_HDR);
	n = pkt(p, 'c', NULL, 0);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_int_equal(r.cmd, SMFIR_CONTINUE);
	n = pkt(p, 'y', "550 5.7.1 no thanks", 20);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.name, "550 5.7.1 no thanks");
	n = pkt(p, 'm', "\0\0\0\x02Subject\0new\0", 16);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_int_equal(r.index, 2);
	assert_string_equal(r.name, "Subject");
	assert_string_equal(r.value, "new");
	n = pkt(p, 'h', "X-Spam\0Yes\0", 11);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_string_equal(r.value, "Yes");
	n = pkt(p, '2', "<a@b>\0", 6);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_null(r.value);
	n = pkt(p, 'b', "body\r\n", 6);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_int_equal(r.datalen, 6);
	/* two packets: one at a time */
	n = pkt(p, 'c', NULL, 0);
	n += pkt(p + n, 'a', NULL, 0);
	assert_int_equal(milter_decode(p, n, &r, &used), 1);
	assert_int_equal(used, 5);
	assert_int_equal(milter_decode(p + used, n - used, &r, &used), 1);
	assert_int_equal(r.cmd, SMFIR_ACCEPT);
}

static void t_decode_bad(void **st)
{
	unsigned char p[256];
	struct milter_reply r;
	size_t n, used = 0;

	(void)st;
	n = pkt(p, 'y', "550 5.7.1 text", 15);
	for (size_t k = 0; k < n; k++)        /* every prefix: more needed */
		assert_int_equal(milter_decode(p, k, &r, &used), 0);
	assert_int_equal(milter_decode((const unsigned char *)"\0\0\0\0", 4, &r, &used), -1);  /* no command */
	assert_int_equal(milter_decode((const unsigned char *)"\x7f\0\0\0", 4, &r, &used), -1); /* too long */
	n = pkt(p, 'y', "250 ok", 7);                 /* a reply code must be 4xx/5xx */
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	n = pkt(p, 'y', "550 unterminated", 16);
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	n = pkt(p, 'h', "X-Spam\0Yes", 10);           /* value not terminated */
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	n = pkt(p, 'h', "\0Yes\0", 5);                 /* no name */
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	n = pkt(p, 'm', "\0\0\0", 3);                  /* index cut short */
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	n = pkt(p, 'O', "\0\0\0\x06", 4);
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	n = pkt(p, 'Z', NULL, 0);                      /* unknown */
	assert_int_equal(milter_decode(p, n, &r, &used), -1);
	assert_int_equal(milter_decode((const unsigned char *)"HTTP/1.0 200 OK\r\n", 17, &r, &used), -1);
}

static void t_spec(void **st)
{
	struct milter_spec sp[MILTER_MAX_FILTERS];

	(void)st;
	assert_int_equal(milter_spec_parse("", sp, MILTER_MAX_FILTERS), 0);
	assert_int_equal(milter_spec_parse("  ", sp, MILTER_MAX_FILTERS), 0);
	assert_int_equal(milter_spec_parse("inet:127.0.0.1:11332, unix:/run/opendkim/opendkim.sock", sp,
	                                   MILTER_MAX_FILTERS), 2);
	assert_string_equal(sp[0].host, "127.0.0.1");
	assert_int_equal(sp[0].port, 11332);
	assert_int_equal(sp[1].unix_socket, 1);
	assert_string_equal(sp[1].path, "/run/opendkim/opendkim.sock");
	assert_int_equal(milter_spec_parse("inet:[::1]:8891", sp, MILTER_MAX_FILTERS), 1);
	assert_string_equal(sp[0].host, "::1");
	assert_int_equal(milter_spec_parse("inet:localhost:11332", sp, MILTER_MAX_FILTERS), -1);  /* no DNS */
	assert_int_equal(milter_spec_parse("inet:127.0.0.1:0", sp, MILTER_MAX_FILTERS), -1);
	assert_int_equal(milter_spec_parse("inet:127.0.0.1", sp, MILTER_MAX_FILTERS), -1);
	assert_int_equal(milter_spec_parse("unix:relative.sock", sp, MILTER_MAX_FILTERS), -1);
	assert_int_equal(milter_spec_parse("tcp:127.0.0.1:25", sp, MILTER_MAX_FILTERS), -1);
	assert_int_equal(milter_spec_parse("inet:127.0.0.1:1,,inet:127.0.0.1:2", sp, MILTER_MAX_FILTERS), -1);
	assert_int_equal(milter_spec_parse("inet:127.0.0.1:1,inet:127.0.0.1:2", sp, 1), -1);
}

static void t_ar(void **st)
{
	struct buf b;
	const char *v[] = {
		"rspamd.local; dkim=none; spf=softfail (mx.test: 192.0.2.1 is neither permitted; nor denied) "
		"smtp.mailfrom=a@b.test;\n\tdmarc=none",
		"opendkim.example 1; dkim=pass (2048-bit key; unprotected) header.d=b.test header.s=s1 "
		"header.b=\"abc;def\"",
		"x.example; none",
	};

	(void)st;
	assert_int_equal(ar_claims("mx.test; dkim=pass", "mx.test"), 1);
	assert_int_equal(ar_claims("  (comment) MX.TEST; dkim=pass", "mx.test"), 1);
	assert_int_equal(ar_claims("mx.test.evil; dkim=pass", "mx.test"), 0);
	assert_int_equal(ar_claims("other.test; dkim=pass header.d=mx.test", "mx.test"), 0);
	assert_int_equal(ar_claims("", "mx.test"), 0);
	buf_init(&b, 0);
	assert_int_equal(ar_merge("mx.test", v, 3, &b), 4);
	assert_string_equal(b.data, "mx.test;\r\n\tdkim=none;\r\n\t"
	                    "spf=softfail (mx.test: 192.0.2.1 is neither permitted; nor denied) smtp.mailfrom=a@b.test;\r\n\t"
	                    "dmarc=none;\r\n\t"
	                    "dkim=pass (2048-bit key; unprotected) header.d=b.test header.s=s1 header.b=\"abc;def\"");
	assert_int_equal(ar_merge("mx.test", v + 2, 1, &b), 0);
	assert_string_equal(b.data, "mx.test; none");
	buf_free(&b);
}

static void t_spam(void **st)
{
	struct spam_verdict v;
	enum spam_action a;
	struct buf b;

	(void)st;
	assert_int_equal(spam_header("X-Spam", "Yes"), 1);
	assert_int_equal(spam_header("x-spam-flag", "YES"), 1);
	assert_int_equal(spam_header("X-Spam-Status", "Yes, score=16.2"), 1);
	assert_int_equal(spam_header("X-Spam-Status", "No, score=0.1"), 0);
	assert_int_equal(spam_header("X-Spam", "Yesterday"), 0);
	assert_int_equal(spam_header("Subject", "Yes"), 0);
	assert_int_equal(spam_action_parse("refuse", 0, &a), 0);
	assert_int_equal(a, SPAM_REFUSE);
	assert_int_equal(spam_action_parse("", 0, &a), -1);
	assert_int_equal(spam_action_parse("", 1, &a), 0);
	assert_int_equal(a, SPAM_DEFAULT);
	assert_int_equal(spam_action_parse("store", 1, &a), -1);
	v = spam_decide(0, SPAM_REFUSE, SPAM_REFUSE);        /* not spam: nothing */
	assert_false(v.refuse || v.tag_subject);
	assert_true(v.keep_filter_subject);
	v = spam_decide(1, SPAM_DEFAULT, SPAM_REFUSE);        /* the provider's */
	assert_true(v.refuse);
	v = spam_decide(1, SPAM_SUBJECT, SPAM_REFUSE);        /* the domain's wins */
	assert_false(v.refuse);
	assert_true(v.tag_subject);
	v = spam_decide(1, SPAM_DEFAULT, SPAM_HEADERS);
	assert_false(v.refuse || v.tag_subject || v.keep_filter_subject);
	buf_init(&b, 0);
	assert_int_equal(spam_subject(" cheap", "[SPAM]", &b), 0);
	assert_string_equal(b.data, "[SPAM] cheap");
	assert_int_equal(spam_subject("[SPAM] cheap", "[SPAM]", &b), 0);
	assert_string_equal(b.data, "[SPAM] cheap");
	assert_int_equal(spam_subject("", "[SPAM]", &b), 0);
	assert_string_equal(b.data, "[SPAM]");
	buf_free(&b);
}

static void add(struct milter_client_result *r, char op, uint32_t index, const char *name, const char *value)
{
	r->edits = realloc(r->edits, (r->nedits + 1) * sizeof *r->edits);
	r->edits[r->nedits].op = op;
	r->edits[r->nedits].index = index;
	r->edits[r->nedits].name = name ? strdup(name) : NULL;
	r->edits[r->nedits].value = value ? strdup(value) : NULL;
	r->nedits++;
}

static void t_build_head(void **st)
{
	const char *head = "Received: from x\r\n\tby mx.test\r\n"
	                   "Authentication-Results: mx.test; dkim=pass header.d=forged.test\r\n"
	                   "Subject: hello\r\n"
	                   "X-A: 1\r\nX-A: 2\r\n"
	                   "\r\n";
	struct milter_hdr *h;
	struct milter_outcome o;
	struct spam_verdict sv = spam_decide(0, SPAM_DEFAULT, SPAM_HEADERS);
	struct buf b;
	long n;

	(void)st;
	n = milter_hdrs_parse(head, strlen(head), "mx.test", &h);
	assert_int_equal(n, 5);
	assert_string_equal(h[0].value, "from x\n\tby mx.test");
	assert_int_equal(h[1].hidden, 1);
	assert_string_equal(h[2].name, "Subject");
	memset(&o, 0, sizeof o);
	o.nres = 1;
	add(&o.res[0], SMFIR_CHGHEADER, 2, "X-A", "two");
	add(&o.res[0], SMFIR_CHGHEADER, 1, "X-A", "");
	add(&o.res[0], SMFIR_INSHEADER, 1, "X-Ins", "after received");
	add(&o.res[0], SMFIR_ADDHEADER, 0, "Authentication-Results", "f.test; spf=pass smtp.mailfrom=a@b.test");
	add(&o.res[0], SMFIR_ADDHEADER, 0, "X-Folded", "a\n\tb");
	buf_init(&b, 0);
	assert_int_equal(milter_build_head(head, strlen(head), h, (size_t)n, &o, "mx.test", &sv, "[SPAM]", &b), 1);
	assert_string_equal(b.data, "Authentication-Results: mx.test;\r\n\tspf=pass smtp.mailfrom=a@b.test\r\n"
	                    "Received: from x\r\n\tby mx.test\r\n"
	                    "X-Ins: after received\r\n"
	                    "Subject: hello\r\n"
	                    "X-A: two\r\n"
	                    "X-Folded: a\r\n\tb\r\n"
	                    "\r\n");
	assert_int_equal(milter_outcome_spam(&o), 0);
	/* spam, subject tagged; the filter's own subject change ignored */
	milter_outcome_free(&o);
	memset(&o, 0, sizeof o);
	o.nres = 1;
	add(&o.res[0], SMFIR_ADDHEADER, 0, "X-Spam", "Yes");
	add(&o.res[0], SMFIR_CHGHEADER, 1, "Subject", "*** SPAM *** hello");
	assert_int_equal(milter_outcome_spam(&o), 1);
	sv = spam_decide(1, SPAM_DEFAULT, SPAM_SUBJECT);
	assert_int_equal(milter_build_head(head, strlen(head), h, (size_t)n, &o, "mx.test", &sv, "[SPAM]", &b), 1);
	assert_non_null(strstr(b.data, "\r\nSubject: [SPAM] hello\r\n"));
	assert_null(strstr(b.data, "*** SPAM ***"));
	assert_null(strstr(b.data, "forged.test"));
	assert_non_null(strstr(b.data, "\r\nX-Spam: Yes\r\n\r\n"));
	/* a value's line breaks stay folds: no field, no end of the header, injected */
	milter_outcome_free(&o);
	memset(&o, 0, sizeof o);
	o.nres = 1;
	add(&o.res[0], SMFIR_ADDHEADER, 0, "X-Evil", "a\n\nAuthentication-Results: mx.test; dkim=pass\r\nB: c\n");
	add(&o.res[0], SMFIR_ADDHEADER, 0, "Bad Name", "x");
	add(&o.res[0], SMFIR_ADDHEADER, 0, "Bad:Name", "x");
	sv = spam_decide(0, SPAM_DEFAULT, SPAM_HEADERS);
	assert_int_equal(milter_build_head(head, strlen(head), h, (size_t)n, &o, "mx.test", &sv, "[SPAM]", &b), 1);
	assert_non_null(strstr(b.data, "\r\nX-Evil: a\r\n\tAuthentication-Results: mx.test; dkim=pass\r\n\tB: c\r\n\r\n"));
	assert_null(strstr(b.data, "Bad"));
	/* nothing asked, nothing hidden: unchanged */
	milter_outcome_free(&o);
	memset(&o, 0, sizeof o);
	sv = spam_decide(0, SPAM_DEFAULT, SPAM_HEADERS);
	milter_hdrs_free(h, (size_t)n);
	const char *clean = "Subject: x\r\n\r\n";
	n = milter_hdrs_parse(clean, strlen(clean), "mx.test", &h);
	assert_int_equal(milter_build_head(clean, strlen(clean), h, (size_t)n, &o, "mx.test", &sv, "[SPAM]", &b), 0);
	assert_string_equal(b.data, clean);
	milter_hdrs_free(h, (size_t)n);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_encode),
		cmocka_unit_test(t_decode_replies),
		cmocka_unit_test(t_decode_bad),
		cmocka_unit_test(t_spec),
		cmocka_unit_test(t_ar),
		cmocka_unit_test(t_spam),
		cmocka_unit_test(t_build_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
