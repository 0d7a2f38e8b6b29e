/*
 * test_bounce: RFC 3464 reports. Reason strings taken apart (status,
 * remote MTA, diagnostic), and the formatted report: headers, the three
 * parts, per-recipient fields, CR/LF-free and 7-bit values, the original
 * headers attached.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "delivery/bounce.h"

static void t_reason_parse(void **st)
{
	char s[16], r[256], d[600];

	(void)st;
	dsn_reason_parse("5.1.1 host mx.remote.test[127.0.0.1]:25 said: 550 5.1.1 no such user (in reply to RCPT TO)",
	                 s, sizeof s, r, sizeof r, d, sizeof d);
	assert_string_equal(s, "5.1.1");
	assert_string_equal(r, "mx.remote.test");
	assert_string_equal(d, "550 5.1.1 no such user (in reply to RCPT TO)");
	dsn_reason_parse("5.1.10 null.test does not accept mail (null MX)", s, sizeof s, r, sizeof r, d, sizeof d);
	assert_string_equal(s, "5.1.10");
	assert_string_equal(r, "");
	assert_string_equal(d, "null.test does not accept mail (null MX)");
	dsn_reason_parse("4.4.7 message expired after 9 seconds in the queue; last error: 4.4.1 host h[::1]:25 said: 421 busy",
	                 s, sizeof s, r, sizeof r, d, sizeof d);
	assert_string_equal(s, "4.4.7");
	assert_string_equal(r, "h");
	assert_string_equal(d, "421 busy");
	dsn_reason_parse("something odd", s, sizeof s, r, sizeof r, d, sizeof d);
	assert_string_equal(s, "5.0.0");
	assert_string_equal(d, "something odd");
	dsn_reason_parse("", s, sizeof s, r, sizeof r, d, sizeof d);
	assert_string_equal(s, "5.0.0");
	dsn_reason_parse("5.1.1000 x", s, sizeof s, r, sizeof r, d, sizeof d);
	assert_string_equal(s, "5.0.0");
}

static void t_format(void **st)
{
	static const char hdr[] = "Received: from x\r\nSubject: hello\r\nFrom: <a@b.test>\r\n";
	struct dsn_rcpt rc[2] = {
		{ "nobody@remote.test", "5.1.1 host mx.remote.test[127.0.0.1]:25 said: 550 5.1.1 no\r\nsuch \xff user" },
		{ "x@null.test", "5.1.10 null.test does not accept mail (null MX)" },
	};
	struct dsn d;
	struct buf b;

	(void)st;
	memset(&d, 0, sizeof d);
	d.reporting_mta = "mx.example";
	d.queue_id = "0ABC";
	d.message_id = "NEW@mx.example";
	d.boundary = "BOUND";
	d.to = "alice@acme.test";
	d.arrival = 0;
	d.now = 86400;
	d.rcpts = rc;
	d.nrcpt = 2;
	buf_init(&b, 0);
	assert_int_equal(dsn_format(&b, &d, hdr, strlen(hdr)), 0);
	assert_non_null(strstr(b.data, "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"));
	assert_non_null(strstr(b.data, "To: <alice@acme.test>\r\n"));
	assert_non_null(strstr(b.data, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"BOUND\"\r\n"));
	assert_non_null(strstr(b.data, "Reporting-MTA: dns; mx.example\r\nX-Hostmail-Queue-ID: 0ABC\r\n"
	                               "Arrival-Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	assert_non_null(strstr(b.data, "\r\nFinal-Recipient: rfc822; nobody@remote.test\r\nAction: failed\r\n"
	                               "Status: 5.1.1\r\nRemote-MTA: dns; mx.remote.test\r\n"
	                               "Diagnostic-Code: smtp; 550 5.1.1 no??such ? user\r\n"));
	assert_non_null(strstr(b.data, "Final-Recipient: rfc822; x@null.test\r\nAction: failed\r\nStatus: 5.1.10\r\n"
	                               "Diagnostic-Code: X-Hostmail; null.test does not accept mail (null MX)\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n\r\nReceived: from x\r\nSubject: hello\r\n"));
	assert_true(strlen(b.data) > 10 && strcmp(b.data + strlen(b.data) - 11, "--BOUND--\r\n") == 0);
	/* every line ends in CRLF, nothing 8-bit */
	for (size_t i = 0; i < b.len; i++) {
		assert_true((unsigned char)b.data[i] < 0x80);
		if (b.data[i] == '\n')
			assert_true(i > 0 && b.data[i - 1] == '\r');
		if (b.data[i] == '\r')
			assert_true(b.data[i + 1] == '\n');
	}
	buf_reset(&b);
	d.delayed = 1;
	d.retry_until = 2 * 86400;
	d.nrcpt = 1;
	assert_int_equal(dsn_format(&b, &d, "", 0), 0);
	assert_non_null(strstr(b.data, "Subject: Delayed Mail (still being retried)\r\n"));
	assert_non_null(strstr(b.data, "Action: delayed\r\n"));
	assert_non_null(strstr(b.data, "Will-Retry-Until: Sat, 03 Jan 1970 00:00:00 +0000\r\n"));
	buf_free(&b);
}

/* RFC 6533: a UTF-8 recipient makes a global report, its address of type
 * utf-8, as it is (never "n??body"); '+' and '=' as \x{HH}. */
static void t_format_global(void **st)
{
	static const char hdr[] = "Subject: gr\xc3\xbc\xc3\x9f\r\nFrom: <a@b.test>\r\n";
	struct dsn_rcpt rc[2] = {
		{ "z\xc3\xbcrich+x@plain.test", "5.6.7 the recipient's address is not ASCII" },
		{ "carol@plain.test", "5.6.7 the recipient's address is not ASCII" },
	};
	struct dsn d;
	struct buf b;

	(void)st;
	memset(&d, 0, sizeof d);
	d.reporting_mta = "mx.example";
	d.queue_id = "0ABC";
	d.message_id = "NEW@mx.example";
	d.boundary = "BOUND";
	d.to = "alice@acme.test";
	d.rcpts = rc;
	d.nrcpt = 2;
	buf_init(&b, 0);
	assert_int_equal(dsn_format(&b, &d, hdr, sizeof hdr - 1), 0);
	assert_non_null(strstr(b.data, "report-type=global-delivery-status;"));
	assert_non_null(strstr(b.data, "Content-Type: message/global-delivery-status\r\n"));
	assert_non_null(strstr(b.data, "Final-Recipient: utf-8; z\xc3\xbcrich\\x{2B}x@plain.test\r\n"));
	assert_non_null(strstr(b.data, "Final-Recipient: rfc822; carol@plain.test\r\n"));
	assert_non_null(strstr(b.data, "<z\xc3\xbcrich+x@plain.test>: 5.6.7"));
	assert_non_null(strstr(b.data, "Content-Type: message/global-headers\r\n\r\nSubject: gr\xc3\xbc"));
	assert_null(strstr(b.data, "??"));
	/* ASCII everywhere: the classic report */
	buf_reset(&b);
	rc[0].addr = "nobody@plain.test";
	assert_int_equal(dsn_format(&b, &d, "Subject: x\r\n", 11), 0);
	assert_non_null(strstr(b.data, "report-type=delivery-status;"));
	assert_non_null(strstr(b.data, "Content-Type: message/delivery-status\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_reason_parse),
		cmocka_unit_test(t_format),
		cmocka_unit_test(t_format_global),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
