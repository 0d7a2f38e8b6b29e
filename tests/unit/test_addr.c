/* Unit tests for src/smtp/addr.c: RFC 5321 paths and mailboxes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "smtp/addr.h"

/* Parse s as a path; on success the whole string must be consumed. */
static int path(const char *s, struct mail_addr *a, int allow_null, int utf8)
{
	const char *why = NULL;
	int n = addr_parse_path(s, strlen(s), a, allow_null, utf8, &why);

	if (n < 0) {
		assert_non_null(why);
		return -1;
	}
	assert_int_equal(n, (int)strlen(s));
	return 0;
}

static void ok(const char *s, const char *local, const char *domain)
{
	struct mail_addr a;

	if (path(s, &a, 0, 0) < 0)
		fail_msg("rejected: %s", s);
	assert_string_equal(a.local, local);
	assert_string_equal(a.domain, domain);
}

static void bad(const char *s)
{
	struct mail_addr a;

	if (path(s, &a, 1, 1) == 0)
		fail_msg("accepted: %s", s);
}

/* A string of n copies of c. */
static char *rep(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	dst[n] = '\0';
	return dst;
}

static void t_simple(void **st)
{
	(void)st;
	ok("<user@example.com>", "user", "example.com");
	ok("<User.Name+tag@Example.COM>", "User.Name+tag", "example.com");
	ok("<a@b>", "a", "b");
	ok("<!#$%&'*+-/=?^_`{|}~@x.y>", "!#$%&'*+-/=?^_`{|}~", "x.y");
	ok("<u@a-b.c0m>", "u", "a-b.c0m");
	ok("<u@123.example>", "u", "123.example");
}

static void t_consumed_stops_at_gt(void **st)
{
	struct mail_addr a;
	const char *why;
	const char *s = "<a@b.c> SIZE=10";

	(void)st;
	assert_int_equal(addr_parse_path(s, strlen(s), &a, 0, 0, &why), 7);
	/* len bounds the scan: no '>' inside it. */
	assert_int_equal(addr_parse_path(s, 6, &a, 0, 0, &why), -1);
}

static void t_null(void **st)
{
	struct mail_addr a;

	(void)st;
	assert_int_equal(path("<>", &a, 1, 0), 0);
	assert_int_equal(a.null, 1);
	assert_int_equal(path("<>", &a, 0, 0), -1);
	bad("< >");
}

static void t_dot_string(void **st)
{
	(void)st;
	bad("<.a@b>");
	bad("<a.@b>");
	bad("<a..b@b>");
	bad("<@b>");
	bad("<a b@c>");
	bad("<a(b)@c>");
	bad("<a,b@c>");
	bad("<a@b@c>");
	bad("<a>");
	bad("<a@>");
	bad("a@b");
	bad("<a@b");
	bad("");
}

static void t_quoted(void **st)
{
	struct mail_addr a;

	(void)st;
	assert_int_equal(path("<\"john doe\"@x.org>", &a, 0, 0), 0);
	assert_string_equal(a.local, "\"john doe\"");
	assert_int_equal(a.quoted, 1);
	ok("<\"a\\\"b\"@x>", "\"a\\\"b\"", "x");
	ok("<\"a\\\\b\"@x>", "\"a\\\\b\"", "x");
	ok("<\"a>b\"@x>", "\"a>b\"", "x");
	ok("<\"a@b\"@x>", "\"a@b\"", "x");
	bad("<\"\"@x>");           /* empty local part */
	bad("<\"abc@x>");          /* unterminated */
	bad("<\"abc>");
	bad("<\"a\"b@x>");         /* quoted then atom */
	bad("<a\"b\"@x>");
	bad("<\"a\tb\"@x>");       /* control char */
	bad("<\"a\\\tb\"@x>");     /* quoted-pair of a control char */
	bad("<\"a\\");
}

static void t_source_route(void **st)
{
	struct mail_addr a;

	(void)st;
	ok("<@a.example:user@d.example>", "user", "d.example");
	ok("<@a,@b.c:user@d>", "user", "d");
	assert_int_equal(path("<@relay.x,@r2:u@d>", &a, 0, 0), 0);
	bad("<@a:b@c");
	bad("@a:b@c");
	bad("<@a b@c>");
	bad("<@:u@d>");
	bad("<@a,u@d>");
	bad("<@a,:u@d>");
	bad("<@a;u@d>");
	bad("<@-a:u@d>");
}

static void t_relay_tricks(void **st)
{
	(void)st;
	/* Syntactically valid: returned faithfully, policy refuses them. */
	ok("<user%other.example@host.example>", "user%other.example", "host.example");
	ok("<\"u@d\"@host>", "\"u@d\"", "host");
	ok("<a!b@host>", "a!b", "host");
	ok("<a!b!c%d@host>", "a!b!c%d", "host");
	bad("<;sleep 66;>");
	bad("<`id`>");
	bad("<a@b;c>");
	bad("<a@b|c>");
}

static void t_bad_chars(void **st)
{
	struct mail_addr a;
	const char *why;
	const char nul[] = "<a\0b@c>";

	(void)st;
	bad("<a\r@b>");
	bad("<a\n@b>");
	bad("<a@b\r>");
	bad("<a@b\n.c>");
	bad("<a\x7f@b>");
	bad("<a@b\x01>");
	bad("<\"a\rb\"@c>");
	bad("<\"a\nb\"@c>");
	bad("<\"a\x7f\"@c>");
	assert_int_equal(addr_parse_path(nul, sizeof(nul) - 1, &a, 0, 1, &why), -1);
	assert_int_equal(addr_parse_path("<\"a\0b\"@c>", 9, &a, 0, 1, &why), -1);
}

static void t_domain(void **st)
{
	(void)st;
	ok("<u@EXAMPLE.Net>", "u", "example.net");
	bad("<u@-a.b>");
	bad("<u@a-.b>");
	bad("<u@a..b>");
	bad("<u@.a>");
	bad("<u@a.>");
	bad("<u@a_b.c>");
	bad("<u@a b>");
	bad("<u@a:b>");
}

static void t_ip_literal(void **st)
{
	struct mail_addr a;

	(void)st;
	assert_int_equal(path("<u@[192.0.2.1]>", &a, 0, 0), 0);
	assert_string_equal(a.domain, "[192.0.2.1]");
	assert_int_equal(a.ip_literal, 1);
	ok("<u@[0.0.0.0]>", "u", "[0.0.0.0]");
	ok("<u@[255.255.255.255]>", "u", "[255.255.255.255]");
	ok("<u@[IPv6:2001:DB8::1]>", "u", "[IPv6:2001:db8::1]");
	ok("<u@[ipv6:::1]>", "u", "[IPv6:::1]");
	ok("<u@[IPv6:::ffff:192.0.2.1]>", "u", "[IPv6:::ffff:192.0.2.1]");
	bad("<u@[256.0.0.1]>");
	bad("<u@[1.2.3]>");
	bad("<u@[1.2.3.4.5]>");
	bad("<u@[1.2.3.4 ]>");
	bad("<u@[1.2.3.4>");
	bad("<u@[1.2.3.0004]>");
	bad("<u@[]>");
	bad("<u@[IPv6:]>");
	bad("<u@[IPv6:1.2.3.4]>");
	bad("<u@[IPv6:2001:db8::1%eth0]>");
	bad("<u@[IPv6:gggg::1]>");
	bad("<u@[2001:db8::1]>");     /* missing IPv6: tag */
	bad("<u@[x-tag:abc]>");       /* general literal: not routable */
	bad("<u@[1.2.3.4]x>");
}

static void t_utf8(void **st)
{
	struct mail_addr a;

	(void)st;
	/* "jösé@bücher.example", "用户@例子.广告" */
	assert_int_equal(path("<j\xc3\xb6s\xc3\xa9@b\xc3\xbc" "cher.example>", &a, 0, 0), -1);
	assert_int_equal(path("<j\xc3\xb6s\xc3\xa9@b\xc3\xbc" "cher.example>", &a, 0, 1), 0);
	assert_int_equal(a.utf8, 1);
	assert_string_equal(a.local, "j\xc3\xb6s\xc3\xa9");
	assert_int_equal(path("<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a>", &a, 0, 1), 0);
	assert_int_equal(path("<u@b\xc3\xbc" "cher.example>", &a, 0, 0), -1);
	assert_int_equal(path("<u@B\xc3\xbc" "CHER.example>", &a, 0, 1), 0);
	assert_string_equal(a.domain, "b\xc3\xbc" "cher.example");
	assert_int_equal(path("<\"\xc3\xa9 x\"@d>", &a, 0, 1), 0);
	assert_int_equal(a.utf8, 1);
	assert_int_equal(path("<\"\xc3\xa9 x\"@d>", &a, 0, 0), -1);
	assert_int_equal(path("<u\xf0\x9f\x98\x80@d>", &a, 0, 1), 0); /* U+1F600 */
	assert_int_equal(path("<a@b>", &a, 0, 1), 0);
	assert_int_equal(a.utf8, 0);
	bad("<\xc0\xaf@d>");             /* overlong '/' */
	bad("<\xc1\xbf@d>");
	bad("<\xe0\x80\xaf@d>");         /* overlong 3-byte */
	bad("<\xf0\x80\x80\xaf@d>");     /* overlong 4-byte */
	bad("<\xed\xa0\x80@d>");         /* surrogate U+D800 */
	bad("<\xf4\x90\x80\x80@d>");     /* > U+10FFFF */
	bad("<\xf5\x80\x80\x80@d>");
	bad("<\xff@d>");
	bad("<\x80@d>");                 /* lone continuation */
	bad("<\xc3@d>");                 /* truncated */
	bad("<\xe4\xbe@d>");
	bad("<u@\xc3>");
	bad("<u@d\xc3\xa9\xa9>");
	bad("<\"\xc3\"@d>");
	bad("<u@\xc2\x85>");             /* U+0085 NEL: a C1 control */
	bad("<\xc2\x9f@d>");
}

static void t_limits(void **st)
{
	char l[300], d[300], s[700];
	struct mail_addr a;

	(void)st;
	/* local part: 64 ok, 65 not */
	snprintf(s, sizeof(s), "<%s@x>", rep(l, 'a', 64));
	assert_int_equal(path(s, &a, 0, 0), 0);
	assert_int_equal(strlen(a.local), 64);
	snprintf(s, sizeof(s), "<%s@x>", rep(l, 'a', 65));
	assert_int_equal(path(s, &a, 0, 0), -1);
	/* quoted: counted as written, with quotes */
	snprintf(s, sizeof(s), "<\"%s\"@x>", rep(l, 'a', 62));
	assert_int_equal(path(s, &a, 0, 0), 0);
	snprintf(s, sizeof(s), "<\"%s\"@x>", rep(l, 'a', 63));
	assert_int_equal(path(s, &a, 0, 0), -1);
	/* label: 63 ok, 64 not */
	snprintf(s, sizeof(s), "<u@%s.com>", rep(d, 'b', 63));
	assert_int_equal(path(s, &a, 0, 0), 0);
	snprintf(s, sizeof(s), "<u@%s.com>", rep(d, 'b', 64));
	assert_int_equal(path(s, &a, 0, 0), -1);
	/* domain: 255 ok, 256 not (labels of 63 + dots) */
	rep(d, 'c', 255);
	d[63] = d[127] = d[191] = '.';
	snprintf(s, sizeof(s), "u@%s", d);
	assert_int_equal(addr_parse_mailbox(s, &a, 0, &(const char *){0}), 0);
	assert_int_equal(strlen(a.domain), 255);
	rep(d, 'c', 256);           /* labels 63, 63, 63, 62, 1 */
	d[63] = d[127] = d[191] = d[254] = '.';
	snprintf(s, sizeof(s), "u@%s", d);
	assert_int_equal(addr_parse_mailbox(s, &a, 0, &(const char *){0}), -1);
	/* whole path: 256 with <> ok, 257 not; local 64 + '@' + domain */
	rep(d, 'c', 189);            /* 1+64+1+189+1 = 256 */
	d[63] = d[127] = '.';
	snprintf(s, sizeof(s), "<%s@%s>", rep(l, 'a', 64), d);
	assert_int_equal(strlen(s), 256);
	assert_int_equal(path(s, &a, 0, 0), 0);
	rep(d, 'c', 190);
	d[63] = d[127] = '.';
	snprintf(s, sizeof(s), "<%s@%s>", rep(l, 'a', 64), d);
	assert_int_equal(strlen(s), 257);
	assert_int_equal(path(s, &a, 0, 0), -1);
	/* a source route counts towards the path length */
	rep(d, 'c', 200);
	d[63] = d[127] = d[191] = '.';
	snprintf(s, sizeof(s), "<@%s:u@%s>", "r.example", d);
	assert_int_equal(path(s, &a, 0, 0), 0);
	snprintf(s, sizeof(s), "<@%s:%s@%s>", "r.example", rep(l, 'a', 50), d);
	assert_int_equal(path(s, &a, 0, 0), -1);
}

static void t_mailbox_and_format(void **st)
{
	struct mail_addr a;
	const char *why;
	char out[300];

	(void)st;
	assert_int_equal(addr_parse_mailbox("Joe@Example.ORG", &a, 0, &why), 0);
	addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "Joe@example.org");
	assert_int_equal(addr_parse_mailbox("\"a b\"@[10.0.0.1]", &a, 0, &why), 0);
	addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "\"a b\"@[10.0.0.1]");
	addr_format(&a, out, 5);
	assert_string_equal(out, "\"a b");
	assert_int_equal(addr_parse_mailbox("<a@b>", &a, 0, &why), -1);
	assert_int_equal(addr_parse_mailbox("a@b ", &a, 0, &why), -1);
	assert_int_equal(addr_parse_mailbox("a@b>", &a, 0, &why), -1);
	assert_int_equal(addr_parse_mailbox("ab", &a, 0, &why), -1);
	assert_int_equal(addr_parse_mailbox("", &a, 0, &why), -1);
	assert_int_equal(addr_parse_mailbox("@a:b@c", &a, 0, &why), -1);
	memset(&a, 0, sizeof(a));
	a.null = 1;
	addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "");
	memset(&a, 0, sizeof(a));
	memcpy(a.local, "postmaster", 11);
	addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "postmaster");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_simple),
		cmocka_unit_test(t_consumed_stops_at_gt),
		cmocka_unit_test(t_null),
		cmocka_unit_test(t_dot_string),
		cmocka_unit_test(t_quoted),
		cmocka_unit_test(t_source_route),
		cmocka_unit_test(t_relay_tricks),
		cmocka_unit_test(t_bad_chars),
		cmocka_unit_test(t_domain),
		cmocka_unit_test(t_ip_literal),
		cmocka_unit_test(t_utf8),
		cmocka_unit_test(t_limits),
		cmocka_unit_test(t_mailbox_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
