/* Unit tests for src/policy/hostnames.c and src/policy/mail_settings.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "policy/hostnames.h"
#include "policy/mail_settings.h"

static struct account acct(const char *name, const char *created, int server)
{
	struct account a;

	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	snprintf(a.created, sizeof a.created, "%s", created);
	a.server_number = server;
	return a;
}

static void test_legacy_padded(void **state)
{
	struct config c;
	struct account a = acct("oldco", "2009-03-01", 7);
	char out[256];

	(void)state;
	config_defaults(&c);
	assert_true(account_is_legacy(&c, &a));
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "mail007.example.net");
	a.server_number = 123;
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "mail123.example.net");
	a.server_number = 1234;
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "mail1234.example.net");
}

static void test_new_and_cutover_day(void **state)
{
	struct config c;
	struct account a = acct("acme", "2011-06-01", 7);
	char out[256];

	(void)state;
	config_defaults(&c);
	/* created on the cutover day is already "new" */
	assert_false(account_is_legacy(&c, &a));
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "acme.mail.example.net");
	snprintf(a.created, sizeof a.created, "2011-05-31");
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "mail007.example.net");
}

static void test_custom_patterns(void **state)
{
	struct config c;
	struct account a = acct("shop", "2020-01-01", 42);
	char out[256];

	(void)state;
	config_defaults(&c);
	snprintf(c.hostname_pattern, sizeof c.hostname_pattern, "{user}-{server}.{x}.test");
	snprintf(c.hostname_legacy_cutover, sizeof c.hostname_legacy_cutover, "2021-01-01");
	snprintf(c.hostname_legacy_pattern, sizeof c.hostname_legacy_pattern, "s{server}.test");
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "s042.test");
	snprintf(c.hostname_legacy_cutover, sizeof c.hostname_legacy_cutover, "2019-01-01");
	assert_int_equal(account_smtp_host(&c, &a, out, sizeof out), 0);
	assert_string_equal(out, "shop-042.{x}.test");
}

static void test_too_small(void **state)
{
	struct account a = acct("acme", "2020-01-01", 7);
	char out[8];

	(void)state;
	assert_int_equal(hostname_expand("{user}.mail", &a, out, sizeof out), -1);
	assert_int_equal(hostname_expand("{user}.m", &a, out, sizeof out), 0);
	assert_string_equal(out, "acme.m");
	assert_int_equal(hostname_expand("{server}12345", &a, out, sizeof out), -1);
	assert_int_equal(hostname_expand("", &a, out, 0), -1);
}

static void test_ports_describe(void **state)
{
	struct listen_list l;
	char out[128];

	(void)state;
	assert_int_equal(config_parse_listen("127.0.0.1:25, [::1]:25, 0.0.0.0:2525", &l), 0);
	assert_int_equal(ports_describe(&l, "STARTTLS", out, sizeof out), 0);
	assert_string_equal(out, "25, 2525 (STARTTLS)");
	l.n = 0;
	assert_int_equal(ports_describe(&l, "STARTTLS", out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void test_mail_settings(void **state)
{
	struct config c;
	struct account a = acct("acme", "2024-01-01", 3);
	struct mail_settings ms;
	static const char *want[][2] = {
		{ "username", "alice@acme.test" },
		{ "smtp_host", "acme.mail.example.net" },
		{ "smtp_ports", "2525 (STARTTLS); 587 (STARTTLS); 465 (SSL/TLS)" },
		{ "pop3_host", "acme.mail.example.net" },
		{ "pop3_ports", "110 (STLS); 995 (SSL/TLS)" },
		{ "auth", "required, with TLS" },
		{ "pop_before_smtp", "90 minutes" },
		{ "max_message_size", "41943040 bytes (40 MiB)" },
	};
	int i;

	(void)state;
	config_defaults(&c);
	config_parse_listen("0.0.0.0:25, 0.0.0.0:2525", &c.smtp);
	config_parse_listen("0.0.0.0:587", &c.submission);
	config_parse_listen("0.0.0.0:465", &c.submissions);
	config_parse_listen("0.0.0.0:110", &c.pop3);
	config_parse_listen("0.0.0.0:995", &c.pop3s);
	assert_int_equal(mail_settings_get(&c, &a, "alice@acme.test", &ms), 0);
	assert_int_equal(ms.n, 8);
	for (i = 0; i < 8; i++) {
		assert_string_equal(ms.s[i].key, want[i][0]);
		assert_string_equal(ms.s[i].value, want[i][1]);
	}
	/* nothing configured for POP3, no pop-before-smtp, odd size */
	c.pop3.n = c.pop3s.n = 0;
	c.submissions.n = 0;
	c.pop_before_smtp_minutes = 0;
	c.message_size = 1000000;
	assert_int_equal(mail_settings_get(&c, &a, "alice@acme.test", &ms), 0);
	assert_string_equal(ms.s[2].value, "2525 (STARTTLS); 587 (STARTTLS)");
	assert_string_equal(ms.s[4].value, "none");
	assert_string_equal(ms.s[6].value, "disabled");
	assert_string_equal(ms.s[7].value, "1000000 bytes");
	/* behind a NAT: the announced ports; one that is 25 outside is the MX */
	assert_int_equal(port_map_parse("2525:25, 587:5870", &c.acc_public_ports), 0);
	assert_int_equal(mail_settings_get(&c, &a, "alice@acme.test", &ms), 0);
	assert_string_equal(ms.s[2].value, "5870 (STARTTLS)");
}

/* With [imap] (Dovecot beside hostmaild) the customer is told about IMAP
 * too, on the same host, right after POP3; without it, nothing. */
static void test_mail_settings_imap(void **state)
{
	struct config c;
	struct account a = acct("acme", "2024-01-01", 3);
	struct mail_settings ms;

	(void)state;
	config_defaults(&c);
	config_parse_listen("0.0.0.0:995", &c.pop3s);
	assert_int_equal(mail_settings_get(&c, &a, "alice@acme.test", &ms), 0);
	assert_int_equal(ms.n, 8);
	config_parse_listen("0.0.0.0:143, [::]:143", &c.imap);
	config_parse_listen("0.0.0.0:993", &c.imaps);
	assert_int_equal(mail_settings_get(&c, &a, "alice@acme.test", &ms), 0);
	assert_int_equal(ms.n, 10);
	assert_string_equal(ms.s[5].key, "imap_host");
	assert_string_equal(ms.s[5].value, "acme.mail.example.net");
	assert_string_equal(ms.s[6].key, "imap_ports");
	assert_string_equal(ms.s[6].value, "143 (STARTTLS); 993 (SSL/TLS)");
	assert_string_equal(ms.s[7].key, "auth");
	c.imap.n = 0;
	assert_int_equal(mail_settings_get(&c, &a, "alice@acme.test", &ms), 0);
	assert_string_equal(ms.s[6].value, "993 (SSL/TLS)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_padded),
		cmocka_unit_test(test_new_and_cutover_day),
		cmocka_unit_test(test_custom_patterns),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_ports_describe),
		cmocka_unit_test(test_mail_settings),
		cmocka_unit_test(test_mail_settings_imap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
