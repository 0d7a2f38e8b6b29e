/*
 * test_submit_fixup: RFC 6409 8 fix-ups of a submitted message (which of
 * Date:/Message-ID: are missing, on whole header lines only; the lines
 * added; where the header section ends) and the 998-octet line limit
 * (line_limit.c), fed in pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "smtp/submit_fixup.h"
#include "smtp/line_limit.h"

#define S(x) x, sizeof x - 1

static void t_missing(void **st)
{
	(void)st;
	assert_int_equal(submit_fixup_missing(S("Subject: x\r\nFrom: <a@b>\r\n")),
	                 SUBMIT_NEED_DATE | SUBMIT_NEED_MSGID);
	assert_int_equal(submit_fixup_missing(S("date: Sat, 5 Dec 2026\r\nMESSAGE-ID: <a@b>\r\n")), 0);
	assert_int_equal(submit_fixup_missing(S("Date : x\r\nSubject: y\r\n")), SUBMIT_NEED_MSGID);
	/* folded values and body lines never count */
	assert_int_equal(submit_fixup_missing(S("Subject: a\r\n Date: no\r\n\r\nMessage-ID: <body@x>\r\n")),
	                 SUBMIT_NEED_DATE | SUBMIT_NEED_MSGID);
	/* a longer name is another field */
	assert_int_equal(submit_fixup_missing(S("Date-Received: x\r\nMessage-IDs: y\r\n")),
	                 SUBMIT_NEED_DATE | SUBMIT_NEED_MSGID);
	assert_int_equal(submit_fixup_missing(S("")), SUBMIT_NEED_DATE | SUBMIT_NEED_MSGID);
}

static void t_header_end(void **st)
{
	(void)st;
	assert_int_equal(submit_header_end(S("A: b\r\nC: d\r\n\r\nbody\r\n")), 12);
	assert_int_equal(submit_header_end(S("\r\nbody\r\n")), 0);
	assert_int_equal(submit_header_end(S("A: b\r\nC: d\r\n")), -1);
}

static void t_lines(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(submit_fixup_lines(&b, SUBMIT_NEED_DATE | SUBMIT_NEED_MSGID, 86400 * 365, "0ID", "mx.test"), 0);
	assert_string_equal(b.data, "Date: Fri, 01 Jan 1971 00:00:00 +0000\r\n"
	                            "Message-ID: <19710101000000.0ID@mx.test>\r\n");
	buf_reset(&b);
	assert_int_equal(submit_fixup_lines(&b, SUBMIT_NEED_MSGID, 0, "X", "h"), 0);
	assert_string_equal(b.data, "Message-ID: <19700101000000.X@h>\r\n");
	buf_free(&b);
}

static void t_line_limit(void **st)
{
	char line[1001];
	struct line_limit l;

	(void)st;
	memset(line, 'x', sizeof line);
	line_limit_init(&l);
	line_limit_feed(&l, line, 998);
	line_limit_feed(&l, "\r", 1);       /* CRLF split across chunks */
	line_limit_feed(&l, "\nshort\r\n", 8);
	assert_false(line_limit_exceeded(&l));
	assert_int_equal(l.longest, 998);
	line_limit_feed(&l, line, 500);
	line_limit_feed(&l, line, 499);     /* 999 in two pieces */
	assert_true(line_limit_exceeded(&l));
	line_limit_feed(&l, "\r\n", 2);
	assert_true(line_limit_exceeded(&l));
	assert_int_equal(l.longest, 999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_missing),
		cmocka_unit_test(t_header_end),
		cmocka_unit_test(t_lines),
		cmocka_unit_test(t_line_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
