/*
 * test_pop3_parse: POP3 command lines (keywords, argument counts and
 * forms, PASS with spaces, bad numbers, NUL bytes) and the RETR/TOP
 * encoder (LF -> CRLF, dot-stuffing, TOP's body line limit, input split
 * at every byte, the final "." line).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pop3/pop3_parse.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum pop3_parse_result parse(const char *line, struct pop3_command *c)
{
	return pop3_parse(line, strlen(line), c);
}

static void test_keywords(void **state)
{
	static const struct { const char *line; enum pop3_cmd cmd; } ok[] = {
		{ "STAT", POP3_STAT }, { "stat", POP3_STAT }, { "Quit", POP3_QUIT },
		{ "NOOP", POP3_NOOP }, { "RSET", POP3_RSET }, { "CAPA", POP3_CAPA },
		{ "STLS", POP3_STLS }, { "LIST", POP3_LIST }, { "UIDL", POP3_UIDL },
		{ "AUTH", POP3_AUTH }, { "top 1 2", POP3_TOP }, { "retr 3", POP3_RETR },
		{ "DELE 1", POP3_DELE }, { "USER a@b.c", POP3_USER }, { "PASS x", POP3_PASS },
		{ "APOP a b", POP3_APOP },
	};
	struct pop3_command c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(parse(ok[i].line, &c), POP3_PARSE_OK);
		assert_int_equal(c.cmd, ok[i].cmd);
	}
	assert_int_equal(parse("", &c), POP3_PARSE_UNKNOWN);
	assert_int_equal(parse("STATS", &c), POP3_PARSE_UNKNOWN);
	assert_int_equal(parse("STA", &c), POP3_PARSE_UNKNOWN);
	assert_int_equal(parse("EHLO x", &c), POP3_PARSE_UNKNOWN);
	assert_int_equal(parse(" STAT", &c), POP3_PARSE_UNKNOWN);
	assert_int_equal(parse("XTND XMIT", &c), POP3_PARSE_UNKNOWN);
}

static void test_arguments(void **state)
{
	struct pop3_command c;

	(void)state;
	assert_int_equal(parse("STAT 1", &c), POP3_PARSE_SYNTAX);
	assert_string_equal(c.error, "Syntax: STAT");
	assert_int_equal(parse("STAT ", &c), POP3_PARSE_OK); /* trailing space tolerated */
	assert_int_equal(parse("LIST", &c), POP3_PARSE_OK);
	assert_int_equal(c.nargs, 0);
	assert_int_equal(parse("LIST 42", &c), POP3_PARSE_OK);
	assert_int_equal(c.nargs, 1);
	assert_int_equal(c.num[0], 42);
	assert_int_equal(parse("LIST 1 2", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("LIST x", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("LIST -1", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("LIST +1", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("LIST 1234567890", &c), POP3_PARSE_SYNTAX); /* over 9 digits */
	assert_int_equal(parse("LIST 0", &c), POP3_PARSE_OK);   /* the session says "no such message" */
	assert_int_equal(c.num[0], 0);
	assert_int_equal(parse("RETR", &c), POP3_PARSE_SYNTAX);
	assert_string_equal(c.error, "Syntax: RETR msg");
	assert_int_equal(parse("DELE 1 1", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("TOP 1", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("TOP 3 0", &c), POP3_PARSE_OK);
	assert_int_equal(c.num[0], 3);
	assert_int_equal(c.num[1], 0);
	assert_int_equal(parse("TOP 1 2 3", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("UIDL 7", &c), POP3_PARSE_OK);
	assert_int_equal(c.num[0], 7);
}

static void test_user_pass_auth(void **state)
{
	struct pop3_command c;
	char big[POP3_ARG_MAX + 16];

	(void)state;
	assert_int_equal(parse("USER alice@acme.test", &c), POP3_PARSE_OK);
	assert_string_equal(c.arg, "alice@acme.test");
	assert_int_equal(parse("USER", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("USER a b", &c), POP3_PARSE_SYNTAX);
	/* PASS: everything after one space, spaces included */
	assert_int_equal(parse("PASS  secret with spaces ", &c), POP3_PARSE_OK);
	assert_string_equal(c.arg, " secret with spaces ");
	assert_int_equal(parse("PASS", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("PASS ", &c), POP3_PARSE_SYNTAX);
	assert_int_equal(parse("AUTH", &c), POP3_PARSE_OK);
	assert_int_equal(c.nargs, 0);
	assert_int_equal(parse("AUTH PLAIN", &c), POP3_PARSE_OK);
	assert_int_equal(c.nargs, 1);
	assert_string_equal(c.arg, "PLAIN");
	assert_int_equal(parse("AUTH PLAIN AGFAYg==", &c), POP3_PARSE_OK);
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.arg2, "AGFAYg==");
	assert_int_equal(parse("AUTH PLAIN a b", &c), POP3_PARSE_SYNTAX);
	/* an argument too long for the buffer is a syntax error, never truncated */
	memset(big, 'a', sizeof big);
	memcpy(big, "PASS ", 5);
	big[sizeof big - 1] = '\0';
	assert_int_equal(parse(big, &c), POP3_PARSE_SYNTAX);
	/* a NUL byte inside a known command */
	assert_int_equal(pop3_parse("PASS a\0b", 8, &c), POP3_PARSE_SYNTAX);
	assert_int_equal(pop3_parse("STAT\0", 5, &c), POP3_PARSE_UNKNOWN);
}

/* Encode in, fed one byte at a time when bytewise, then finish. */
static char *encode(const char *in, long top, int bytewise, size_t *outlen)
{
	size_t n = strlen(in), o = 0, i;
	char *out = malloc(2 * n + 8);
	struct pop3_enc e;

	assert_non_null(out);
	pop3_enc_init(&e, top);
	if (bytewise)
		for (i = 0; i < n; i++)
			o += pop3_enc_step(&e, in + i, 1, out + o);
	else
		o = pop3_enc_step(&e, in, n, out);
	o += pop3_enc_finish(&e, out + o);
	out[o] = '\0';
	*outlen = o;
	return out;
}

static void check(const char *in, long top, const char *want)
{
	int bytewise;

	for (bytewise = 0; bytewise < 2; bytewise++) {
		size_t n;
		char *got = encode(in, top, bytewise, &n);

		assert_int_equal(n, strlen(want));
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_encode_retr(void **state)
{
	(void)state;
	check("Subject: x\n\nbody\n", -1, "Subject: x\r\n\r\nbody\r\n.\r\n");
	/* dot-stuffing, in the header and the body, and a lone dot */
	check("A: b\n\n.\n..x\nx.\n.end\n", -1, "A: b\r\n\r\n..\r\n...x\r\nx.\r\n..end\r\n.\r\n");
	check(".X: y\n\nb\n", -1, "..X: y\r\n\r\nb\r\n.\r\n");
	/* no final line end: one is added before the terminator */
	check("A: b\n\nlast", -1, "A: b\r\n\r\nlast\r\n.\r\n");
	/* empty message */
	check("", -1, ".\r\n");
	/* every LF counts: a stored CR before LF is kept, as the W= size says */
	check("A: b\r\n\nx\r\n", -1, "A: b\r\r\n\r\nx\r\r\n.\r\n");
	/* a bare CR is data */
	check("A: b\n\nx\ry\n", -1, "A: b\r\n\r\nx\ry\r\n.\r\n");
}

static void test_encode_top(void **state)
{
	const char *msg = "From: a\nTo: b\n\nline1\n.line2\nline3\n";

	(void)state;
	check(msg, 0, "From: a\r\nTo: b\r\n\r\n.\r\n");
	check(msg, 1, "From: a\r\nTo: b\r\n\r\nline1\r\n.\r\n");
	check(msg, 2, "From: a\r\nTo: b\r\n\r\nline1\r\n..line2\r\n.\r\n");
	check(msg, 3, "From: a\r\nTo: b\r\n\r\nline1\r\n..line2\r\nline3\r\n.\r\n");
	check(msg, 100, "From: a\r\nTo: b\r\n\r\nline1\r\n..line2\r\nline3\r\n.\r\n");
	/* empty body lines count as lines */
	check("A: b\n\n\n\nx\n", 2, "A: b\r\n\r\n\r\n\r\n.\r\n");
	/* no header/body separator: TOP gives the whole message */
	check("A: b\nC: d", 0, "A: b\r\nC: d\r\n.\r\n");
	/* an unterminated last body line within the limit */
	check("A: b\n\nx", 5, "A: b\r\n\r\nx\r\n.\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_user_pass_auth),
		cmocka_unit_test(test_encode_retr),
		cmocka_unit_test(test_encode_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
