/*
 * test_smtp_client_parse: the outbound client's reply parser (single and
 * multi-line replies, bare "250" and "250-" lines, bad lines, code changes,
 * overlong text bounded, control bytes neutralised), enhanced status
 * codes, EHLO keywords, and the chunked DATA dot-stuffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "delivery/smtp_client_parse.h"

static enum smtpc_feed feed(struct smtpc_reply *r, const char *line)
{
	return smtpc_reply_feed(r, line, strlen(line));
}

static void t_single_and_multi(void **st)
{
	struct smtpc_reply r;

	(void)st;
	smtpc_reply_reset(&r);
	assert_int_equal(feed(&r, "220 mx.example ESMTP"), SMTPC_DONE);
	assert_int_equal(r.code, 220);
	assert_string_equal(r.text, "220 mx.example ESMTP");
	/* the next feed starts a new reply */
	assert_int_equal(feed(&r, "250-mx.example"), SMTPC_MORE);
	assert_int_equal(feed(&r, "250-PIPELINING"), SMTPC_MORE);
	assert_int_equal(feed(&r, "250 8BITMIME"), SMTPC_DONE);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.text, "250 mx.example PIPELINING 8BITMIME");
}

static void t_short_lines(void **st)
{
	struct smtpc_reply r;

	(void)st;
	smtpc_reply_reset(&r);
	assert_int_equal(feed(&r, "553"), SMTPC_DONE);
	assert_int_equal(r.code, 553);
	assert_string_equal(r.text, "553");
	smtpc_reply_reset(&r);
	assert_int_equal(feed(&r, "250-"), SMTPC_MORE);
	assert_int_equal(feed(&r, "250-"), SMTPC_MORE);
	assert_int_equal(feed(&r, "250"), SMTPC_DONE);
	assert_int_equal(r.nlines, 3);
	smtpc_reply_reset(&r);
	assert_int_equal(feed(&r, "250 "), SMTPC_DONE);
}

static void t_bad_lines(void **st)
{
	struct smtpc_reply r;
	static const char *const bad[] = { "", "25", "abc", "2500 x", "250x", "150 x", "650 x", "25a x" };

	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		smtpc_reply_reset(&r);
		assert_int_equal(feed(&r, bad[i]), SMTPC_BAD);
	}
	/* the code may not change inside a reply */
	smtpc_reply_reset(&r);
	assert_int_equal(feed(&r, "250-a"), SMTPC_MORE);
	assert_int_equal(feed(&r, "251 b"), SMTPC_BAD);
	/* nor can a reply go on for ever */
	smtpc_reply_reset(&r);
	for (int i = 0; i < SMTPC_MAX_LINES; i++)
		assert_int_equal(feed(&r, "250-x"), SMTPC_MORE);
	assert_int_equal(feed(&r, "250-x"), SMTPC_BAD);
}

static void t_text_bounded_and_clean(void **st)
{
	struct smtpc_reply r;
	char line[SMTPC_LINE_MAX];

	(void)st;
	memset(line, 'a', sizeof line);
	memcpy(line, "550 ", 4);
	smtpc_reply_reset(&r);
	assert_int_equal(smtpc_reply_feed(&r, line, sizeof line), SMTPC_DONE);
	assert_int_equal(strlen(r.text), SMTPC_TEXT_MAX);
	smtpc_reply_reset(&r);
	assert_int_equal(smtpc_reply_feed(&r, "550 a\rb\x01\xff" "c", 10), SMTPC_DONE);
	assert_string_equal(r.text, "550 a?b??c");
	/* a NUL in the line does not end the text early */
	smtpc_reply_reset(&r);
	assert_int_equal(smtpc_reply_feed(&r, "550 a\0b", 7), SMTPC_DONE);
	assert_string_equal(r.text, "550 a?b");
}

static void t_status(void **st)
{
	struct smtpc_reply r;
	char s[16];

	(void)st;
	smtpc_reply_reset(&r);
	feed(&r, "550 5.1.1 <x@y>: no such user");
	smtpc_reply_status(&r, s, sizeof s);
	assert_string_equal(s, "5.1.1");
	smtpc_reply_reset(&r);
	feed(&r, "451 try later");
	smtpc_reply_status(&r, s, sizeof s);
	assert_string_equal(s, "4.0.0");
	/* a code of the wrong class is not believed */
	smtpc_reply_reset(&r);
	feed(&r, "550 2.0.0 odd");
	smtpc_reply_status(&r, s, sizeof s);
	assert_string_equal(s, "5.0.0");
	smtpc_reply_reset(&r);
	feed(&r, "552 5.3.4");
	smtpc_reply_status(&r, s, sizeof s);
	assert_string_equal(s, "5.3.4");
	smtpc_reply_reset(&r);
	feed(&r, "550 5.1.1000 too many digits");
	smtpc_reply_status(&r, s, sizeof s);
	assert_string_equal(s, "5.0.0");
}

static void ehlo(struct smtpc_ehlo *e, const char *line)
{
	smtpc_ehlo_line(e, line, strlen(line));
}

static void t_ehlo(void **st)
{
	struct smtpc_ehlo e;

	(void)st;
	memset(&e, 0, sizeof e);
	ehlo(&e, "pipelining");
	ehlo(&e, "SIZE 41943040");
	ehlo(&e, "8BITMIME");
	ehlo(&e, "STARTTLS");
	ehlo(&e, "STARTTLSX");          /* not the keyword */
	ehlo(&e, "AUTH PLAIN LOGIN");
	assert_int_equal(e.ext, SMTPC_EXT_PIPELINING | SMTPC_EXT_SIZE | SMTPC_EXT_8BITMIME | SMTPC_EXT_STARTTLS);
	assert_int_equal(e.size_max, 41943040);
	memset(&e, 0, sizeof e);
	ehlo(&e, "SIZE");
	assert_int_equal(e.ext, SMTPC_EXT_SIZE);
	assert_int_equal(e.size_max, 0);
	ehlo(&e, "SIZE 99999999999999999999999999");  /* absurd: no limit */
	assert_int_equal(e.size_max, 0);
	ehlo(&e, "SMTPUTF8");
	assert_true(e.ext & SMTPC_EXT_SMTPUTF8);
}

/* Stuff in in pieces of size step; compare with want. */
static void stuff_by(const char *in, size_t step, const char *want)
{
	struct smtpc_stuffer s;
	struct buf b;
	size_t n = strlen(in);

	buf_init(&b, 0);
	smtpc_stuff_init(&s);
	for (size_t i = 0; i < n; i += step)
		assert_int_equal(smtpc_stuff(&s, in + i, n - i < step ? n - i : step, &b), 0);
	assert_int_equal(smtpc_stuff_end(&s, &b), 0);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void t_stuffing(void **st)
{
	static const char in[] = ".x\r\nab\r\n.\r\n..\r\n a.\r\n.";
	static const char want[] = "..x\r\nab\r\n..\r\n...\r\n a.\r\n..\r\n.\r\n";

	(void)st;
	for (size_t step = 1; step <= sizeof in; step++)
		stuff_by(in, step, want);
	stuff_by("a\r\n", 1, "a\r\n.\r\n");
	stuff_by("a\r\n", 2, "a\r\n.\r\n");
	stuff_by("a", 1, "a\r\n.\r\n");
	stuff_by("a\r", 1, "a\r\r\n.\r\n");
	stuff_by("", 1, ".\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_single_and_multi),
		cmocka_unit_test(t_short_lines),
		cmocka_unit_test(t_bad_lines),
		cmocka_unit_test(t_text_bounded_and_clean),
		cmocka_unit_test(t_status),
		cmocka_unit_test(t_ehlo),
		cmocka_unit_test(t_stuffing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
