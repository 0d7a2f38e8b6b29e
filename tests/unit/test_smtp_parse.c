/* Unit tests for src/smtp/smtp_parse.c: command lines, MAIL/RCPT, HELO, BDAT. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "smtp/smtp_parse.h"

static char linebuf[SMTP_LINE_MAX + 1];

static int cmd(const char *s, size_t len, struct smtp_cmd *c)
{
	memcpy(linebuf, s, len);
	return smtp_parse_cmd(linebuf, len, c);
}

static void verb_is(const char *s, enum smtp_verb v, const char *name, const char *arg)
{
	struct smtp_cmd c;

	assert_int_equal(cmd(s, strlen(s), &c), 0);
	assert_int_equal(c.verb, v);
	assert_string_equal(c.verb_text, name);
	assert_string_equal(c.arg, arg);
}

static void t_cmd_verbs(void **st)
{
	(void)st;
	verb_is("HELO x", SMTP_VERB_HELO, "HELO", "x");
	verb_is("ehlo client.example", SMTP_VERB_EHLO, "EHLO", "client.example");
	verb_is("MaIl FROM:<a@b>", SMTP_VERB_MAIL, "MAIL", "FROM:<a@b>");
	verb_is("RCPT   TO:<a@b>", SMTP_VERB_RCPT, "RCPT", "TO:<a@b>");
	verb_is("DATA", SMTP_VERB_DATA, "DATA", "");
	verb_is("data ", SMTP_VERB_DATA, "DATA", "");
	verb_is("BDAT 10 LAST", SMTP_VERB_BDAT, "BDAT", "10 LAST");
	verb_is("RSET", SMTP_VERB_RSET, "RSET", "");
	verb_is("NOOP anything", SMTP_VERB_NOOP, "NOOP", "anything");
	verb_is("QUIT", SMTP_VERB_QUIT, "QUIT", "");
	verb_is("VRFY u", SMTP_VERB_VRFY, "VRFY", "u");
	verb_is("EXPN l", SMTP_VERB_EXPN, "EXPN", "l");
	verb_is("HELP", SMTP_VERB_HELP, "HELP", "");
	verb_is("starttls", SMTP_VERB_STARTTLS, "STARTTLS", "");
	verb_is("AUTH PLAIN AGFAAGI=", SMTP_VERB_AUTH, "AUTH", "PLAIN AGFAAGI=");
}

static void t_cmd_unknown_and_bad(void **st)
{
	struct smtp_cmd c;

	(void)st;
	verb_is("FOO bar", SMTP_VERB_UNKNOWN, "", "bar");
	verb_is("MAILFROM:<a@b>", SMTP_VERB_UNKNOWN, "", "");
	verb_is("HEL", SMTP_VERB_UNKNOWN, "", "");
	verb_is("STARTTLSX", SMTP_VERB_UNKNOWN, "", "");
	verb_is("", SMTP_VERB_UNKNOWN, "", "");
	verb_is(" QUIT", SMTP_VERB_UNKNOWN, "", "QUIT");
	assert_int_equal(cmd("QU\0IT", 5, &c), -1);
	assert_int_equal(cmd("QUIT\0", 5, &c), -1);
	assert_int_equal(cmd("MAIL FROM:<a@b>\0x", 17, &c), -1);
	assert_int_equal(cmd("QU\rIT", 5, &c), -1);
	assert_int_equal(cmd("QUIT\r", 5, &c), -1);
	assert_int_equal(cmd("NOOP\t", 5, &c), -1);
	assert_int_equal(cmd("\x1b[2J", 4, &c), -1);
	assert_int_equal(cmd("DA\x7fTA", 5, &c), -1);
}

static void t_cmd_not_nul_terminated(void **st)
{
	struct smtp_cmd c;

	(void)st;
	memset(linebuf, 'Z', sizeof(linebuf));
	memcpy(linebuf, "QUIT", 4);
	assert_int_equal(smtp_parse_cmd(linebuf, 4, &c), 0);
	assert_int_equal(c.verb, SMTP_VERB_QUIT);
	assert_int_equal(linebuf[4], '\0');
}

static int mail(const char *arg, struct smtp_mail_args *m, int *code, const char **enh)
{
	const char *why = NULL;
	int r = smtp_parse_mail(arg, m, code, enh, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void mail_err(const char *arg, int code, const char *enh)
{
	struct smtp_mail_args m;
	int c = 0;
	const char *e = NULL;

	if (mail(arg, &m, &c, &e) == 0)
		fail_msg("accepted: %s", arg);
	assert_int_equal(c, code);
	assert_string_equal(e, enh);
}

static void t_mail_basic(void **st)
{
	struct smtp_mail_args m;
	int code;
	const char *enh;

	(void)st;
	assert_int_equal(mail("FROM:<a@b.c>", &m, &code, &enh), 0);
	assert_string_equal(m.from.local, "a");
	assert_string_equal(m.from.domain, "b.c");
	assert_int_equal(m.has_size, 0);
	assert_int_equal(m.body, SMTP_BODY_7BIT);
	assert_int_equal(mail("from: <a@b.c>", &m, &code, &enh), 0);
	assert_string_equal(m.from.domain, "b.c");
	assert_int_equal(mail("FROM:<a@b.c>   ", &m, &code, &enh), 0);
	assert_int_equal(mail("FROM:<>", &m, &code, &enh), 0);
	assert_int_equal(m.from.null, 1);
	assert_int_equal(mail("FROM:<@r1,@r2:a@b.c>", &m, &code, &enh), 0);
	assert_string_equal(m.from.local, "a");
	mail_err("", 501, "5.5.4");
	mail_err("FROM", 501, "5.5.4");
	mail_err("TO:<a@b>", 501, "5.5.4");
	mail_err("FROM <a@b>", 501, "5.5.4");
	mail_err("FROM:", 501, "5.1.7");
	mail_err("FROM:a@b", 501, "5.1.7");
	mail_err("FROM:<a@b", 501, "5.1.7");
	mail_err("FROM:<a@@b>", 501, "5.1.7");
	mail_err("FROM:<;sleep 66;>", 501, "5.1.7");
	mail_err("FROM:@a:b@c", 501, "5.1.7");
	mail_err("FROM:<a@b>x", 501, "5.5.4");
	mail_err("FROM:<a@b>\r", 501, "5.5.4");
}

static void t_mail_params(void **st)
{
	struct smtp_mail_args m;
	int code;
	const char *enh;

	(void)st;
	assert_int_equal(mail("FROM:<a@b> SIZE=12345 BODY=8BITMIME", &m, &code, &enh), 0);
	assert_int_equal(m.has_size, 1);
	assert_int_equal(m.size, 12345);
	assert_int_equal(m.body, SMTP_BODY_8BITMIME);
	assert_int_equal(mail("FROM:<a@b>  size=0  body=binarymime  ", &m, &code, &enh), 0);
	assert_int_equal(m.size, 0);
	assert_int_equal(m.body, SMTP_BODY_BINARYMIME);
	assert_int_equal(mail("FROM:<a@b> BODY=7bit", &m, &code, &enh), 0);
	assert_int_equal(m.body, SMTP_BODY_7BIT);
	assert_int_equal(mail("FROM:<a@b> SIZE=18446744073709551615", &m, &code, &enh), 0);
	assert_true(m.size == UINT64_MAX);
	assert_int_equal(mail("FROM:<a@b> AUTH=<>", &m, &code, &enh), 0);
	assert_int_equal(m.has_auth, 1);
	assert_int_equal(mail("FROM:<a@b> AUTH=joe+40example.com", &m, &code, &enh), 0);
	assert_int_equal(mail("FROM:<a@b> SMTPUTF8", &m, &code, &enh), 0);
	assert_int_equal(m.smtputf8, 1);

	mail_err("FROM:<a@b> SIZE=18446744073709551616", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=99999999999999999999999", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=-1", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=1k", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=1 SIZE=2", 501, "5.5.4");
	mail_err("FROM:<a@b> BODY=8BITMIME body=7BIT", 501, "5.5.4");
	mail_err("FROM:<a@b> SMTPUTF8 SMTPUTF8", 501, "5.5.4");
	mail_err("FROM:<a@b> BODY=9BIT", 501, "5.5.4");
	mail_err("FROM:<a@b> SMTPUTF8=yes", 501, "5.5.4");
	mail_err("FROM:<a@b> AUTH=a+4", 501, "5.5.4");
	mail_err("FROM:<a@b> AUTH=a+zz", 501, "5.5.4");
	mail_err("FROM:<a@b> AUTH=", 501, "5.5.4");
	mail_err("FROM:<a@b> RET=HDRS", 555, "5.5.4");
	mail_err("FROM:<a@b> X-FOO", 555, "5.5.4");
	mail_err("FROM:<a@b> =x", 501, "5.5.4");
	mail_err("FROM:<a@b> A=b=c", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=1\tBODY=7BIT", 501, "5.5.4");
	mail_err("FROM:<a@b> SIZE=1\r\n", 501, "5.5.4");
	mail_err("FROM:<a@b> X=\xc3\xa9", 501, "5.5.4");
}

static void t_mail_utf8(void **st)
{
	struct smtp_mail_args m;
	int code;
	const char *enh;

	(void)st;
	assert_int_equal(mail("FROM:<j\xc3\xb6@b\xc3\xbc.example> SMTPUTF8", &m, &code, &enh), 0);
	assert_int_equal(m.from.utf8, 1);
	mail_err("FROM:<j\xc3\xb6@b.example>", 553, "5.6.7");
	mail_err("FROM:<j\xc3\xb6@b.example> SIZE=1", 553, "5.6.7");
	mail_err("FROM:<j\xc0\xaf@b.example> SMTPUTF8", 501, "5.1.7");
}

static int rcpt(const char *arg, struct smtp_rcpt_args *r, int *code, const char **enh)
{
	const char *why = NULL;
	int rc = smtp_parse_rcpt(arg, r, code, enh, &why);

	if (rc < 0)
		assert_non_null(why);
	return rc;
}

static void rcpt_err(const char *arg, int code, const char *enh)
{
	struct smtp_rcpt_args r;
	int c = 0;
	const char *e = NULL;

	if (rcpt(arg, &r, &c, &e) == 0)
		fail_msg("accepted: %s", arg);
	assert_int_equal(c, code);
	assert_string_equal(e, enh);
}

static void t_rcpt(void **st)
{
	struct smtp_rcpt_args r;
	int code;
	const char *enh;

	(void)st;
	assert_int_equal(rcpt("TO:<u@Hosted.Example>", &r, &code, &enh), 0);
	assert_string_equal(r.to.local, "u");
	assert_string_equal(r.to.domain, "hosted.example");
	assert_int_equal(rcpt("to: <u@d>  ", &r, &code, &enh), 0);
	assert_int_equal(rcpt("TO:<postmaster>", &r, &code, &enh), 0);
	assert_string_equal(r.to.local, "postmaster");
	assert_string_equal(r.to.domain, "");
	assert_int_equal(rcpt("TO:<PostMaster>", &r, &code, &enh), 0);
	assert_string_equal(r.to.local, "postmaster");
	assert_string_equal(r.to.domain, "");
	assert_int_equal(rcpt("TO:<Postmaster@Hosted.Example>", &r, &code, &enh), 0);
	assert_string_equal(r.to.local, "Postmaster");
	assert_string_equal(r.to.domain, "hosted.example");
	/* UTF-8 always syntactically fine on RCPT: the session checks SMTPUTF8 */
	assert_int_equal(rcpt("TO:<\xc3\xa9@d>", &r, &code, &enh), 0);
	assert_int_equal(r.to.utf8, 1);
	/* relay tricks parse faithfully */
	assert_int_equal(rcpt("TO:<u%other@hosted.example>", &r, &code, &enh), 0);
	assert_string_equal(r.to.local, "u%other");
	assert_int_equal(rcpt("TO:<\"u@other\"@hosted.example>", &r, &code, &enh), 0);
	assert_int_equal(rcpt("TO:<a!b@hosted.example>", &r, &code, &enh), 0);
	assert_int_equal(rcpt("TO:<@hosted.example:u@other.example>", &r, &code, &enh), 0);
	assert_string_equal(r.to.domain, "other.example");

	rcpt_err("TO:<>", 501, "5.1.3");
	rcpt_err("TO:<postmaster >", 501, "5.1.3");
	rcpt_err("TO:<postmasterx>", 501, "5.1.3");
	rcpt_err("TO:<postmaster>x", 501, "5.5.4");
	rcpt_err("TO:u@d", 501, "5.1.3");
	rcpt_err("TO:@a:b@c", 501, "5.1.3");
	rcpt_err("TO:<;sleep 66;>", 501, "5.1.3");
	rcpt_err("TO:<\"unterminated@d>", 501, "5.1.3");
	rcpt_err("TO:<\xc3@d>", 501, "5.1.3");
	rcpt_err("FROM:<a@b>", 501, "5.5.4");
	rcpt_err("", 501, "5.5.4");
	rcpt_err("TO:<u@d> NOTIFY=NEVER", 555, "5.5.4");
	rcpt_err("TO:<postmaster> X", 555, "5.5.4");
	rcpt_err("TO:<u@d> =", 501, "5.5.4");
}

static void t_helo(void **st)
{
	char out[300];

	(void)st;
	assert_int_equal(smtp_parse_helo("client.example", out, sizeof(out)), 0);
	assert_string_equal(out, "client.example");
	assert_int_equal(smtp_parse_helo("Client.Example   ", out, sizeof(out)), 0);
	assert_string_equal(out, "Client.Example");
	assert_int_equal(smtp_parse_helo("localhost", out, sizeof(out)), 0);
	assert_int_equal(smtp_parse_helo("[192.0.2.7]", out, sizeof(out)), 0);
	assert_string_equal(out, "[192.0.2.7]");
	assert_int_equal(smtp_parse_helo("[IPv6:2001:db8::7]", out, sizeof(out)), 0);
	assert_int_equal(smtp_parse_helo("", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("   ", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("a b", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("a\tb", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("a\r", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("a\x1b", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("-bad.example", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("a..b", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("[300.1.1.1]", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("[1.2.3.4]x", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("b\xc3\xbc.example", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("a@b", out, sizeof(out)), -1);
	assert_int_equal(smtp_parse_helo("<a.b>", out, sizeof(out)), -1);
	/* output bound: "abc" needs 4 bytes */
	assert_int_equal(smtp_parse_helo("abc", out, 4), 0);
	assert_int_equal(smtp_parse_helo("abcd", out, 4), -1);
}

static void t_helo_limits(void **st)
{
	char in[300], out[300];

	(void)st;
	memset(in, 'a', 255);
	in[63] = in[127] = in[191] = '.';
	in[255] = '\0';
	assert_int_equal(smtp_parse_helo(in, out, sizeof(out)), 0);
	in[255] = 'a';
	in[254] = '.';
	in[256] = '\0';
	assert_int_equal(smtp_parse_helo(in, out, sizeof(out)), -1);
}

static void t_bdat(void **st)
{
	uint64_t n;
	int last;

	(void)st;
	assert_int_equal(smtp_parse_bdat("100", &n, &last), 0);
	assert_true(n == 100 && last == 0);
	assert_int_equal(smtp_parse_bdat("0 LAST", &n, &last), 0);
	assert_true(n == 0 && last == 1);
	assert_int_equal(smtp_parse_bdat("42 last", &n, &last), 0);
	assert_true(n == 42 && last == 1);
	assert_int_equal(smtp_parse_bdat("42   LaSt  ", &n, &last), 0);
	assert_int_equal(last, 1);
	assert_int_equal(smtp_parse_bdat("18446744073709551615", &n, &last), 0);
	assert_true(n == UINT64_MAX);
	assert_int_equal(smtp_parse_bdat("18446744073709551616", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("LAST", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("10LAST", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("10 LASTX", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("10 LAST x", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("10 FIRST", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("-1", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("+1", &n, &last), -1);
	assert_int_equal(smtp_parse_bdat("1\t", &n, &last), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cmd_verbs),
		cmocka_unit_test(t_cmd_unknown_and_bad),
		cmocka_unit_test(t_cmd_not_nul_terminated),
		cmocka_unit_test(t_mail_basic),
		cmocka_unit_test(t_mail_params),
		cmocka_unit_test(t_mail_utf8),
		cmocka_unit_test(t_rcpt),
		cmocka_unit_test(t_helo),
		cmocka_unit_test(t_helo_limits),
		cmocka_unit_test(t_bdat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
