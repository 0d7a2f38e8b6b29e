/* Unit tests for the pure parts of internal delivery (cluster/lmtp_proto.h):
 * the hop header made and found (folded and odd spellings, only in the
 * header section, its id), LMTP reply lines, the dedup key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "cluster/lmtp_proto.h"

static struct lmtp_hop scan(const char *msg)
{
	struct lmtp_hop h;

	lmtp_hop_scan(msg, strlen(msg), &h);
	return h;
}

static void test_format(void **state)
{
	char b[200];

	(void)state;
	assert_int_equal(lmtp_hop_format(b, sizeof b, 11, 13, "0TPKNX1"), 45);
	assert_string_equal(b, "X-Hostmail-Hop: from=11 to=13 id=11.0TPKNX1\r\n");
	assert_int_equal(lmtp_hop_format(b, sizeof b, 11, 13, ""), -1);
	assert_int_equal(lmtp_hop_format(b, sizeof b, 11, 13, "a/b"), -1);
	assert_int_equal(lmtp_hop_format(b, sizeof b, 11, 13, "a\r\nX: y"), -1);
	assert_int_equal(lmtp_hop_format(b, 20, 11, 13, "0TPKNX1"), -1);
	assert_int_equal(lmtp_hop_format(b, sizeof b, 11, 13,
	                                 "0123456789012345678901234567890123456789012345678901234567890"), -1);
}

static void test_scan(void **state)
{
	struct lmtp_hop h;

	(void)state;
	h = scan("Subject: x\r\n\r\nbody\r\n");
	assert_int_equal(h.count, 0);
	assert_string_equal(h.id, "");
	h = scan("X-Hostmail-Hop: from=11 to=13 id=11.ABC\r\nSubject: x\r\n\r\nbody\r\n");
	assert_int_equal(h.count, 1);
	assert_string_equal(h.id, "11.ABC");
	/* case, space before the colon, LF only, folding */
	h = scan("x-hostmail-hop : from=12 to=13\r\n id=12.DEF;\r\nX-HOSTMAIL-HOP: id=11.A\n\nbody");
	assert_int_equal(h.count, 2);
	assert_string_equal(h.id, "");   /* the first one's id is on its folded line */
	h = scan("X-Hostmail-Hop: from=11 to=13 id=11.A\r\nX-Hostmail-Hop: from=12 to=13 id=12.B\r\n\r\n");
	assert_int_equal(h.count, 2);
	assert_string_equal(h.id, "11.A");
	/* only the header section counts; other names do not */
	h = scan("Subject: x\r\n\r\nX-Hostmail-Hop: from=11 to=13 id=11.A\r\n");
	assert_int_equal(h.count, 0);
	h = scan("X-Hostmail-Hops: 1\r\nX-Hostmail-Hop\r\nX-Hostmail-Hop: noid=1 xid=2\r\n");
	assert_int_equal(h.count, 1);
	assert_string_equal(h.id, "");
	h = scan("X-Hostmail-Hop: id=11.A<script>\r\n");
	assert_string_equal(h.id, "11.A");
	h = scan("");
	assert_int_equal(h.count, 0);
}

static void test_reply_line(void **state)
{
	const char *t;
	int code, last;

	(void)state;
	assert_int_equal(lmtp_reply_line("250-mx.example", &code, &last, &t), 0);
	assert_int_equal(code, 250);
	assert_int_equal(last, 0);
	assert_string_equal(t, "mx.example");
	assert_int_equal(lmtp_reply_line("550 5.1.1 no", &code, &last, &t), 0);
	assert_int_equal(code, 550);
	assert_int_equal(last, 1);
	assert_string_equal(t, "5.1.1 no");
	assert_int_equal(lmtp_reply_line("221", &code, &last, &t), 0);
	assert_int_equal(last, 1);
	assert_string_equal(t, "");
	assert_int_equal(lmtp_reply_line("25", &code, &last, &t), -1);
	assert_int_equal(lmtp_reply_line("650 x", &code, &last, &t), -1);
	assert_int_equal(lmtp_reply_line("250x", &code, &last, &t), -1);
	assert_int_equal(lmtp_reply_line("", &code, &last, &t), -1);
}

static void test_dedup_key(void **state)
{
	char a[65], b[65], c[65];

	(void)state;
	lmtp_dedup_key("11.A", "bob@x.test", a);
	lmtp_dedup_key("11.A", "bob@x.test", b);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	lmtp_dedup_key("11.Ab", "ob@x.test", c);
	assert_string_not_equal(a, c);
	lmtp_dedup_key("11.A", "alice@x.test", c);
	assert_string_not_equal(a, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_reply_line),
		cmocka_unit_test(test_dedup_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
