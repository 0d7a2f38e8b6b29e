/* Unit tests for src/policy/client_settings.c, autoconfig.c, mobileconfig.c,
 * client_dns.c, and src/util/port_map.c, xml.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "policy/autoconfig.h"
#include "policy/client_dns.h"
#include "policy/client_settings.h"
#include "policy/mobileconfig.h"
#include "policy/settings_json.h"
#include "util/port_map.h"
#include "util/xml.h"

static struct account account_of(const char *name, const char *created, int server)
{
	struct account a;

	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	snprintf(a.created, sizeof a.created, "%s", created);
	a.server_number = server;
	return a;
}

static void standard(struct config *c)
{
	config_defaults(c);
	config_parse_listen("0.0.0.0:25, 0.0.0.0:2525", &c->smtp);
	config_parse_listen("0.0.0.0:587, [::]:587", &c->submission);
	config_parse_listen("0.0.0.0:465", &c->submissions);
	config_parse_listen("0.0.0.0:110", &c->pop3);
	config_parse_listen("0.0.0.0:995", &c->pop3s);
}

static void test_port_map(void **state)
{
	struct port_map m;

	(void)state;
	assert_int_equal(port_map_parse("", &m), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(port_map_public(&m, 5587), 5587);
	assert_int_equal(port_map_parse(" 5587:587 , 5465:465,", &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(port_map_public(&m, 5587), 587);
	assert_int_equal(port_map_public(&m, 5465), 465);
	assert_int_equal(port_map_public(&m, 995), 995);
	assert_int_equal(port_map_parse("5587", &m), -1);
	assert_int_equal(port_map_parse("5587:0", &m), -1);
	assert_int_equal(port_map_parse("70000:25", &m), -1);
	assert_int_equal(port_map_parse("1:2 3:4", &m), -1);
	assert_int_equal(port_map_parse("1:2, 1:3", &m), -1);
	assert_int_equal(port_map_parse("a:2", &m), -1);
}

static void test_servers_recommended_first_without_mx_port(void **state)
{
	struct config c;
	struct account a = account_of("acme", "2024-01-01", 3);
	struct client_settings cs;
	char line[400];

	(void)state;
	standard(&c);
	assert_int_equal(client_settings_get(&c, &a, "alice@acme.test", &cs), 0);
	assert_string_equal(cs.host, "acme.mail.example.net");
	assert_string_equal(cs.username, "alice@acme.test");
	assert_int_equal(cs.nin, 2);
	assert_int_equal(cs.in[0].port, 995);
	assert_int_equal(cs.in[0].security, CS_SSL);
	assert_int_equal(cs.in[1].port, 110);
	assert_int_equal(cs.in[1].security, CS_STARTTLS);
	/* 465, 587 (once, though it listens twice), 2525; never 25 */
	assert_int_equal(cs.nout, 3);
	assert_int_equal(cs.out[0].port, 465);
	assert_int_equal(cs.out[1].port, 587);
	assert_int_equal(cs.out[2].port, 2525);
	assert_int_equal(cs.out[2].security, CS_STARTTLS);
	assert_int_equal(cs_server_line(&cs, &cs.out[1], line, sizeof line), 0);
	assert_string_equal(line, "SMTP acme.mail.example.net port 587 STARTTLS");
	assert_int_equal(cs_server_line(&cs, &cs.in[0], line, sizeof line), 0);
	assert_string_equal(line, "POP3 acme.mail.example.net port 995 SSL/TLS");
	/* with IMAP (Dovecot): recommended, before POP3 */
	config_parse_listen("0.0.0.0:993", &c.imaps);
	config_parse_listen("0.0.0.0:143", &c.imap);
	assert_int_equal(client_settings_get(&c, &a, "alice@acme.test", &cs), 0);
	assert_int_equal(cs.nin, 4);
	assert_int_equal(cs.in[0].proto, CS_IMAP);
	assert_int_equal(cs.in[0].port, 993);
	assert_int_equal(cs.in[1].port, 143);
	assert_int_equal(cs.in[2].proto, CS_POP3);
	assert_int_equal(cs_server_line(&cs, &cs.in[0], line, sizeof line), 0);
	assert_string_equal(line, "IMAP acme.mail.example.net port 993 SSL/TLS");
	c.imap.n = c.imaps.n = 0;
	/* legacy account: its numbered server */
	a = account_of("oldco", "2009-03-01", 7);
	assert_int_equal(client_settings_get(&c, &a, "info@old.example", &cs), 0);
	assert_string_equal(cs.host, "mail007.example.net");
}

static void test_public_ports(void **state)
{
	struct config c;
	struct account a = account_of("acme", "2024-01-01", 3);
	struct client_settings cs;

	(void)state;
	config_defaults(&c);
	config_parse_listen("127.0.0.1:2525", &c.smtp);
	config_parse_listen("127.0.0.1:5587", &c.submission);
	config_parse_listen("127.0.0.1:5465", &c.submissions);
	config_parse_listen("127.0.0.1:5995", &c.pop3s);
	/* 2525 behind the NAT is the MX port 25: not offered */
	assert_int_equal(port_map_parse("5587:587, 5465:465, 5995:995, 2525:25", &c.acc_public_ports), 0);
	assert_int_equal(client_settings_get(&c, &a, "a@acme.test", &cs), 0);
	assert_int_equal(cs.nin, 1);
	assert_int_equal(cs.in[0].port, 995);
	assert_int_equal(cs.nout, 2);
	assert_int_equal(cs.out[0].port, 465);
	assert_int_equal(cs.out[1].port, 587);
}

static void test_size_mb(void **state)
{
	char s[32];

	(void)state;
	cs_size_mb(41943040, s, sizeof s);
	assert_string_equal(s, "40 MB");
	cs_size_mb(1572864, s, sizeof s);
	assert_string_equal(s, "1.5 MB");
	cs_size_mb(1048576, s, sizeof s);
	assert_string_equal(s, "1 MB");
}

static void test_xml_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(xml_escape(&b, "a<b>&\"c'"), 0);
	assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;c&apos;");
	buf_reset(&b);
	assert_int_equal(xml_escape(&b, "bell\a"), -1);
	buf_reset(&b);
	assert_int_equal(xml_element(&b, "x", "1 & 2"), 0);
	assert_string_equal(b.data, "<x>1 &amp; 2</x>");
	buf_free(&b);
}

static void test_mozilla_autoconfig(void **state)
{
	struct config c;
	struct account a = account_of("acme", "2024-01-01", 3);
	struct client_settings cs;
	struct buf b;

	(void)state;
	standard(&c);
	client_settings_get(&c, &a, "secret-user@acme.test", &cs);
	buf_init(&b, 0);
	assert_int_equal(autoconfig_mozilla(&b, &cs, "acme.test", "Example & Co <Hosting>",
	                                    "https://acc.example.net/"), 0);
	assert_non_null(strstr(b.data, "<clientConfig version=\"1.1\">"));
	assert_non_null(strstr(b.data, "<emailProvider id=\"acme.test\">"));
	assert_non_null(strstr(b.data, "<displayName>Example &amp; Co &lt;Hosting&gt;</displayName>"));
	assert_non_null(strstr(b.data, "<incomingServer type=\"pop3\">\n      <hostname>acme.mail.example.net</hostname>\n"
	                               "      <port>995</port>\n      <socketType>SSL</socketType>"));
	assert_non_null(strstr(b.data, "<outgoingServer type=\"smtp\">\n      <hostname>acme.mail.example.net</hostname>\n"
	                               "      <port>465</port>\n      <socketType>SSL</socketType>"));
	assert_non_null(strstr(b.data, "<port>587</port>\n      <socketType>STARTTLS</socketType>"));
	assert_null(strstr(b.data, "<port>25</port>"));
	/* the answer never names the address it was asked for */
	assert_null(strstr(b.data, "secret-user"));
	assert_non_null(strstr(b.data, "<username>%EMAILADDRESS%</username>"));
	assert_non_null(strstr(b.data, "<documentation url=\"https://acc.example.net/\">"));
	buf_free(&b);
}

static void test_autodiscover(void **state)
{
	struct config c;
	struct account a = account_of("oldco", "2009-03-01", 7);
	struct client_settings cs;
	struct buf b;
	char addr[320];
	const char *req =
		"<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
		"outlook/requestschema/2006\"><Request><EMailAddress> info@old.example </EMailAddress>"
		"<AcceptableResponseSchema>x</AcceptableResponseSchema></Request></Autodiscover>";

	(void)state;
	assert_int_equal(autodiscover_request_address(req, strlen(req), addr, sizeof addr), 0);
	assert_string_equal(addr, "info@old.example");
	req = "<a:Autodiscover><a:Request><a:EMailAddress>x@y.test</a:EMailAddress></a:Request></a:Autodiscover>";
	assert_int_equal(autodiscover_request_address(req, strlen(req), addr, sizeof addr), 0);
	assert_string_equal(addr, "x@y.test");
	req = "<EMailAddress>a&amp;b@y.test</EMailAddress>";
	assert_int_equal(autodiscover_request_address(req, strlen(req), addr, sizeof addr), -1);
	req = "<EMailAddress></EMailAddress>";
	assert_int_equal(autodiscover_request_address(req, strlen(req), addr, sizeof addr), -1);
	req = "<EMailAddress>unterminated@y.test";
	assert_int_equal(autodiscover_request_address(req, strlen(req), addr, sizeof addr), -1);
	req = "<Request><LegacyDN>x</LegacyDN></Request>";
	assert_int_equal(autodiscover_request_address(req, strlen(req), addr, sizeof addr), -1);
	assert_int_equal(autodiscover_request_address(req, 3, addr, 2), -1);

	standard(&c);
	client_settings_get(&c, &a, "info@old.example", &cs);
	buf_init(&b, 0);
	assert_int_equal(autodiscover_response(&b, &cs), 0);
	assert_non_null(strstr(b.data, "<Type>POP3</Type>\n        <Server>mail007.example.net</Server>\n"
	                               "        <Port>995</Port>\n        <LoginName>info@old.example</LoginName>"));
	assert_non_null(strstr(b.data, "<Type>SMTP</Type>\n        <Server>mail007.example.net</Server>\n"
	                               "        <Port>465</Port>"));
	assert_non_null(strstr(b.data, "<Encryption>SSL</Encryption>"));
	buf_free(&b);
}

static void test_mobileconfig(void **state)
{
	struct config c;
	struct account a = account_of("acme", "2024-01-01", 3);
	struct client_settings cs;
	struct mobileconfig_ids ids = { "net.example.mail.x", "11111111-1111-4111-8111-111111111111",
	                                "22222222-2222-4222-8222-222222222222" };
	struct buf b;

	(void)state;
	standard(&c);
	client_settings_get(&c, &a, "alice@acme.test", &cs);
	buf_init(&b, 0);
	assert_int_equal(mobileconfig_profile(&b, &cs, "Example", &ids, NULL), 0);
	assert_non_null(strstr(b.data, "<key>IncomingMailServerHostName</key>\n\t\t\t<string>acme.mail.example.net</string>"));
	assert_non_null(strstr(b.data, "<key>IncomingMailServerPortNumber</key>\n\t\t\t<integer>995</integer>"));
	assert_non_null(strstr(b.data, "<key>OutgoingMailServerPortNumber</key>\n\t\t\t<integer>465</integer>"));
	assert_null(strstr(b.data, "Password</key>\n\t\t\t<string>"));
	buf_reset(&b);
	assert_int_equal(mobileconfig_profile(&b, &cs, "Example", &ids, "p<w>&"), 0);
	assert_non_null(strstr(b.data, "<key>IncomingPassword</key>\n\t\t\t<string>p&lt;w&gt;&amp;</string>"));
	cs.nout = 0;
	assert_int_equal(mobileconfig_profile(&b, &cs, "Example", &ids, NULL), -1);
	buf_free(&b);
}

static void test_client_dns(void **state)
{
	struct config c;
	struct account a = account_of("acme", "2024-01-01", 3);
	struct client_settings cs;
	struct buf b;

	(void)state;
	standard(&c);
	client_settings_get(&c, &a, "alice@acme.test", &cs);
	buf_init(&b, 0);
	assert_int_equal(client_dns_records(&b, "acme.test", &cs, "acc.example.net"), 0);
	assert_string_equal(b.data,
		"_submission._tcp.acme.test. 3600 IN SRV 1 1 587 acme.mail.example.net.\n"
		"_submissions._tcp.acme.test. 3600 IN SRV 0 1 465 acme.mail.example.net.\n"
		"_imap._tcp.acme.test. 3600 IN SRV 0 0 0 .\n"
		"_imaps._tcp.acme.test. 3600 IN SRV 0 0 0 .\n"
		"_pop3._tcp.acme.test. 3600 IN SRV 1 1 110 acme.mail.example.net.\n"
		"_pop3s._tcp.acme.test. 3600 IN SRV 0 1 995 acme.mail.example.net.\n"
		"autoconfig.acme.test. 3600 IN CNAME acc.example.net.\n"
		"autodiscover.acme.test. 3600 IN CNAME acc.example.net.\n");
	/* IMAP through Dovecot: its SRV records, before POP3 in priority */
	config_parse_listen("0.0.0.0:143", &c.imap);
	config_parse_listen("0.0.0.0:993", &c.imaps);
	client_settings_get(&c, &a, "alice@acme.test", &cs);
	buf_reset(&b);
	assert_int_equal(client_dns_records(&b, "acme.test", &cs, "acc.example.net"), 0);
	assert_non_null(strstr(b.data, "_imap._tcp.acme.test. 3600 IN SRV 1 1 143 acme.mail.example.net.\n"));
	assert_non_null(strstr(b.data, "_imaps._tcp.acme.test. 3600 IN SRV 0 1 993 acme.mail.example.net.\n"));
	assert_non_null(strstr(b.data, "_pop3s._tcp.acme.test. 3600 IN SRV 2 1 995 acme.mail.example.net.\n"));
	c.imap.n = c.imaps.n = 0;
	/* no POP3 at all: "." says so */
	c.pop3.n = c.pop3s.n = 0;
	client_settings_get(&c, &a, "alice@acme.test", &cs);
	buf_reset(&b);
	assert_int_equal(client_dns_records(&b, "acme.test", &cs, "acc.example.net"), 0);
	assert_non_null(strstr(b.data, "_pop3._tcp.acme.test. 3600 IN SRV 0 0 0 .\n"));
	assert_non_null(strstr(b.data, "_pop3s._tcp.acme.test. 3600 IN SRV 0 0 0 .\n"));
	buf_free(&b);
}

static void test_json(void **state)
{
	struct config c;
	struct account a = account_of("acme", "2024-01-01", 3);
	struct client_settings cs;
	struct buf b;

	(void)state;
	standard(&c);
	c.pop3.n = 0;
	c.smtp.n = 0;
	c.submission.n = 0;
	client_settings_get(&c, &a, "al\"ice@acme.test", &cs);
	buf_init(&b, 0);
	assert_int_equal(settings_json(&b, &cs), 0);
	assert_string_equal(b.data,
		"{\"username\":\"al\\\"ice@acme.test\",\"host\":\"acme.mail.example.net\","
		"\"incoming\":[{\"protocol\":\"POP3\",\"host\":\"acme.mail.example.net\",\"port\":995,"
		"\"security\":\"SSL/TLS\",\"authentication\":\"password\",\"username\":\"al\\\"ice@acme.test\","
		"\"recommended\":true}],"
		"\"outgoing\":[{\"protocol\":\"SMTP\",\"host\":\"acme.mail.example.net\",\"port\":465,"
		"\"security\":\"SSL/TLS\",\"authentication\":\"password\",\"username\":\"al\\\"ice@acme.test\","
		"\"recommended\":true}],\"max_message_size\":41943040,\"pop_before_smtp_minutes\":90}\n");
	buf_reset(&b);
	assert_int_equal(json_string(&b, "a\x01\\"), 0);
	assert_string_equal(b.data, "\"a\\u0001\\\\\"");
	buf_free(&b);
}

/* config_load of an [acc] section holding body; 0 or -1. */
static int load_acc(const char *body, struct config *c)
{
	char path[] = "/tmp/hm-test-config-XXXXXX", err[512];
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fprintf(f, "[acc]\n%s\n", body);
	fclose(f);
	rc = config_load(path, c, err, sizeof err);
	unlink(path);
	return rc;
}

static void test_config_keys(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load_acc("", &c), 0);
	assert_string_equal(c.acc_provider_name, "hostmail");
	assert_string_equal(c.acc_provider_logo, "");
	assert_int_equal(c.acc_public_ports.n, 0);
	assert_int_equal(load_acc("public_ports = 5587:587, 5465:465\nprovider_name = Example & Co\n"
	                          "provider_logo = https://cdn.example.net/l.png\nsupport_url = mailto:help@example.net",
	                          &c), 0);
	assert_int_equal(port_map_public(&c.acc_public_ports, 5465), 465);
	assert_string_equal(c.acc_provider_name, "Example & Co");
	assert_string_equal(c.acc_support_url, "mailto:help@example.net");
	assert_int_equal(load_acc("public_ports = 5587", &c), -1);
	assert_int_equal(load_acc("provider_name =", &c), -1);
	assert_int_equal(load_acc("provider_logo = http://cdn.example.net/l.png", &c), -1);
	assert_int_equal(load_acc("provider_logo = mailto:x@example.net", &c), -1);
	/* nothing that could end the CSP source list or the attribute */
	assert_int_equal(load_acc("provider_logo = https://a.example/x;script-src *", &c), -1);
	assert_int_equal(load_acc("provider_logo = https://a.example/\"x", &c), -1);
	assert_int_equal(load_acc("support_url = javascript:alert(1)", &c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_map),
		cmocka_unit_test(test_servers_recommended_first_without_mx_port),
		cmocka_unit_test(test_public_ports),
		cmocka_unit_test(test_size_mb),
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_mozilla_autoconfig),
		cmocka_unit_test(test_autodiscover),
		cmocka_unit_test(test_mobileconfig),
		cmocka_unit_test(test_client_dns),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
