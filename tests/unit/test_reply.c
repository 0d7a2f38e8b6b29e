/* Unit tests for src/smtp/reply.c: single and multi-line replies, enhanced
 * codes, control bytes neutralised, the buf bound respected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "smtp/reply.h"

static void t_single(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(smtp_reply(&b, 250, "2.1.0", "Sender <%s> OK", "a@b"), 0);
	assert_string_equal(b.data, "250 2.1.0 Sender <a@b> OK\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply(&b, 220, NULL, "%s ESMTP hostmail", "mx.example"), 0);
	assert_string_equal(b.data, "220 mx.example ESMTP hostmail\r\n");
	buf_free(&b);
}

static void t_appends(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "one"), 0);
	assert_int_equal(smtp_reply(&b, 354, NULL, "go ahead"), 0);
	assert_string_equal(b.data, "250 2.0.0 one\r\n354 go ahead\r\n");
	buf_free(&b);
}

static void t_multiline(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(smtp_reply(&b, 250, NULL, "%s\nPIPELINING\nSIZE %d\n8BITMIME",
	                            "mx.example", 41943040), 0);
	assert_string_equal(b.data,
	                    "250-mx.example\r\n250-PIPELINING\r\n"
	                    "250-SIZE 41943040\r\n250 8BITMIME\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply(&b, 452, "4.5.3", "Too many recipients\ntry later"), 0);
	assert_string_equal(b.data, "452-4.5.3 Too many recipients\r\n452 4.5.3 try later\r\n");
	buf_reset(&b);
	/* a trailing newline does not add an empty last line */
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "a\n"), 0);
	assert_string_equal(b.data, "250 2.0.0 a\r\n");
	buf_reset(&b);
	/* an empty middle line stays (as "CODE-") */
	assert_int_equal(smtp_reply(&b, 214, NULL, "a\n\nb"), 0);
	assert_string_equal(b.data, "214-a\r\n214-\r\n214 b\r\n");
	buf_free(&b);
}

static void t_empty_text(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	assert_int_equal(smtp_reply(&b, 250, NULL, "%s", ""), 0);
	assert_string_equal(b.data, "250\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "%s", ""), 0);
	assert_string_equal(b.data, "250 2.0.0\r\n");
	buf_free(&b);
}

static void t_control_bytes(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 0);
	/* peer data echoed: CR, tab, ESC, DEL become '?'; LF splits lines only
	 * as lines of this reply, never as a new reply code of the peer's */
	assert_int_equal(smtp_reply(&b, 501, "5.1.7", "bad <%s>", "x\r\n250 ok\t\x1b\x7f"), 0);
	assert_string_equal(b.data, "501-5.1.7 bad <x?\r\n501 5.1.7 250 ok???" ">\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply(&b, 500, NULL, "%c%s", 0, "x\r"), 0);
	assert_string_equal(b.data, "500 ?x?\r\n");
	buf_reset(&b);
	/* UTF-8 passes (RFC 6531 replies) */
	assert_int_equal(smtp_reply(&b, 250, NULL, "j\xc3\xb6"), 0);
	assert_string_equal(b.data, "250 j\xc3\xb6\r\n");
	buf_free(&b);
}

static void t_bound(void **st)
{
	struct buf b;

	(void)st;
	buf_init(&b, 20);
	assert_int_equal(buf_puts(&b, "x"), 0);
	/* "250 2.0.0 0123456789\r\n" is 22 bytes: refused, buf unchanged */
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "0123456789"), -1);
	assert_string_equal(b.data, "x");
	assert_int_equal(b.len, 1);
	/* multi-line that overflows only on its last line: still all or nothing */
	assert_int_equal(smtp_reply(&b, 250, NULL, "abcd\nefghijkl"), -1);
	assert_string_equal(b.data, "x");
	/* 1 + 19 = 20 fits exactly */
	assert_int_equal(smtp_reply(&b, 250, NULL, "abcdefghijklm"), 0);
	assert_int_equal(b.len, 20);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_single),
		cmocka_unit_test(t_appends),
		cmocka_unit_test(t_multiline),
		cmocka_unit_test(t_empty_text),
		cmocka_unit_test(t_control_bytes),
		cmocka_unit_test(t_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
