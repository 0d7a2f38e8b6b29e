/* Unit tests for the autoresponder's pure logic (routing/vacation.h):
 * the RFC 3834 decision from header and envelope, the dates, and the
 * reply's header fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>
#include "routing/vacation.h"
#include "store/store_vacation.h"

#define BOX "alice@acme.test"

static enum vacation_verdict decide(const char *hdr, const char *sender)
{
	return vacation_decide(hdr, strlen(hdr), sender, BOX, NULL);
}

static void test_replies_to_a_person(void **state)
{
	struct vacation_orig o;
	const char *h = "From: Bob <bob@x.test>\r\nTo: Team <team@acme.test>,\r\n Alice <ALICE@acme.test>\r\n"
	                "Subject: Lunch\r\n  tomorrow\r\nMessage-ID: <m1@x.test>\r\nReferences: <m0@x.test>\r\n\r\nbody";

	(void)state;
	assert_int_equal(vacation_decide(h, strlen(h), "bob@x.test", BOX, &o), VACATION_REPLY);
	assert_string_equal(o.subject, "Lunch  tomorrow");
	assert_string_equal(o.message_id, "<m1@x.test>");
	assert_string_equal(o.references, "<m0@x.test>");
	assert_int_equal(decide("To: x@y.test\nCc: alice@acme.test\n\n", "bob@x.test"), VACATION_REPLY);
	assert_int_equal(decide("To: x@y.test\nAuto-Submitted: no\nCc: <alice@acme.test>\n", "bob@x.test"),
	                 VACATION_REPLY);
}

static void test_never_replies(void **state)
{
	(void)state;
	assert_int_equal(decide("To: alice@acme.test\r\n\r\n", ""), VACATION_NULL_SENDER);
	assert_int_equal(decide("To: alice@acme.test\r\n\r\n", "MAILER-DAEMON@x.test"), VACATION_ROBOT_SENDER);
	assert_int_equal(decide("To: alice@acme.test\r\n\r\n", "owner-list@x.test"), VACATION_ROBOT_SENDER);
	assert_int_equal(decide("To: alice@acme.test\r\n\r\n", "list-request@x.test"), VACATION_ROBOT_SENDER);
	assert_int_equal(decide("To: alice@acme.test\r\nAuto-Submitted: auto-replied\r\n\r\n", "b@x.test"),
	                 VACATION_AUTO_SUBMITTED);
	assert_int_equal(decide("To: alice@acme.test\r\nauto-submitted:  Auto-Generated (x)\r\n\r\n", "b@x.test"),
	                 VACATION_AUTO_SUBMITTED);
	assert_int_equal(decide("To: alice@acme.test\r\nPrecedence: BULK\r\n\r\n", "b@x.test"), VACATION_PRECEDENCE);
	assert_int_equal(decide("To: alice@acme.test\r\nPrecedence: junk\r\n\r\n", "b@x.test"), VACATION_PRECEDENCE);
	assert_int_equal(decide("To: alice@acme.test\r\nPrecedence: list\r\n\r\n", "b@x.test"), VACATION_PRECEDENCE);
	assert_int_equal(decide("To: alice@acme.test\r\nList-Id: <l.x.test>\r\n\r\n", "b@x.test"), VACATION_LIST);
	assert_int_equal(decide("To: alice@acme.test\r\nList-Unsubscribe: <mailto:u@x.test>\r\n\r\n", "b@x.test"),
	                 VACATION_LIST);
	assert_int_equal(decide("To: bob@acme.test\r\nCc: xalice@acme.test, alice@acme.testing\r\n\r\n", "b@x.test"),
	                 VACATION_NOT_ADDRESSED);
	assert_int_equal(decide("To: alice@acme.test\r\n\r\n", "Alice@Acme.test"), VACATION_SELF);
	assert_int_equal(decide("", "b@x.test"), VACATION_BAD_HEADER);
	/* fields after the header section do not count */
	assert_int_equal(decide("To: x@y.test\r\n\r\nCc: alice@acme.test\r\n", "b@x.test"), VACATION_NOT_ADDRESSED);
}

static void test_dates(void **state)
{
	struct vacation v;
	time_t t = 1796428800;   /* 2026-12-05 00:00:00 UTC */

	(void)state;
	memset(&v, 0, sizeof v);
	assert_false(vacation_in_force(&v, t));
	v.enabled = 1;
	assert_true(vacation_in_force(&v, t));
	strcpy(v.start, "2026-12-05");
	strcpy(v.end, "2026-12-05");
	assert_true(vacation_in_force(&v, t));
	assert_true(vacation_in_force(&v, t + 86399));
	assert_false(vacation_in_force(&v, t + 86400));
	assert_false(vacation_in_force(&v, t - 1));
}

static void test_format_reply(void **state)
{
	struct vacation_orig o;
	struct vacation_reply r;
	struct buf b;
	const char *h = "To: alice@acme.test\r\nSubject: Hi\r\nMessage-ID: <m1@x.test>\r\n\r\n";

	(void)state;
	assert_int_equal(vacation_decide(h, strlen(h), "bob@x.test", BOX, &o), VACATION_REPLY);
	memset(&r, 0, sizeof r);
	r.from = BOX;
	r.to = "bob@x.test";
	r.subject = "";
	r.text = "Away.\nBack \xc3\xa0 Monday.";
	r.message_id = "id1@mx.test";
	r.now = 1796428800;
	r.orig = &o;
	buf_init(&b, 1 << 20);
	assert_int_equal(vacation_format(&b, &r), 0);
	assert_non_null(strstr(b.data, "From: <alice@acme.test>\r\nTo: <bob@x.test>\r\nSubject: Auto: Hi\r\n"));
	assert_non_null(strstr(b.data, "Date: Sat, 05 Dec 2026 00:00:00 +0000\r\nMessage-ID: <id1@mx.test>\r\n"));
	assert_non_null(strstr(b.data, "In-Reply-To: <m1@x.test>\r\nReferences: <m1@x.test>\r\n"));
	assert_non_null(strstr(b.data, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(b.data, "\r\n\r\nAway.\r\nBack \xc3\xa0 Monday.\r\n"));
	buf_reset(&b);
	r.subject = "Abwesend \xc3\xbc";
	assert_int_equal(vacation_format(&b, &r), 0);
	assert_non_null(strstr(b.data, "Subject: =?UTF-8?Q?Abwesend_=C3=BC?=\r\n"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies_to_a_person),
		cmocka_unit_test(test_never_replies),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_format_reply),
	};
	return cmocka_run_group_tests_name("vacation", tests, NULL, NULL);
}
