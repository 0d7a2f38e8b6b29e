/* Unit tests for src/policy/smtp_policy.c: the MAIL, RCPT and From: header
 * decisions, each asserting what the client sees (reply code, RFC 3463
 * enhanced code, text) and what the log gets (DESIGN.md, docs/limits.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "policy/smtp_policy.h"

static const char doms[2][POLICY_DOMAIN_MAX] = { "acme.example", "acme-shop.example" };

static struct policy_client client(int submission, enum policy_auth auth)
{
	struct policy_client cl;

	memset(&cl, 0, sizeof cl);
	cl.submission = submission;
	cl.auth = auth;
	cl.max_recipients = 100;
	if (auth != POLICY_ANON) {
		cl.account = "acme";
		cl.user = "joe@acme.example";
		cl.domains = doms;
		cl.ndomains = 2;
		cl.lim = (struct account_limits){ 500, 2000, 10 };
	}
	return cl;
}

static struct policy_mail mail(const char *sender, const char *domain)
{
	struct policy_mail m;

	memset(&m, 0, sizeof m);
	m.sender = sender;
	m.domain = domain;
	m.size_limit = 41943040;
	m.disk_min_free = 67108864;
	m.disk_known = 1;
	m.disk_avail = 10ULL << 30;
	return m;
}

#define assert_refused(v, c, e) do { \
		assert_int_equal((v).code, (c)); \
		assert_string_equal((v).enh, (e)); \
	} while (0)

#define assert_accepted(v) do { \
		assert_int_equal((v).code, 0); \
		assert_null((v).enh); \
		assert_string_equal((v).text, ""); \
	} while (0)

/* ---- MAIL ---- */

static void test_mail_submission_needs_auth(void **state)
{
	struct policy_client cl = client(1, POLICY_ANON);
	struct policy_mail m = mail("joe@acme.example", "acme.example");
	struct policy_verdict v;
	int relay = 7;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 530);
	assert_refused(v, 530, "5.7.0");              /* RFC 4954 6 */
	assert_string_equal(v.text, "Authentication required");
	assert_int_equal(relay, 0);
	assert_int_equal(v.client_error, 1);
	assert_non_null(strstr(v.log, "530 5.7.0"));
}

static void test_mail_mx_role_anyone(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_mail m = mail("someone@elsewhere.example", "elsewhere.example");
	struct policy_verdict v;
	int relay = 7;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	assert_accepted(v);
	assert_int_equal(relay, 0);                      /* RCPT decides */
	assert_string_equal(v.log, "");
	m = mail("", "");                                /* the null sender: bounces come in */
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	assert_int_equal(relay, 0);
}

static void test_mail_size_over_limit(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_mail m = mail("a@b.example", "b.example");
	struct policy_verdict v;
	int relay;

	(void)state;
	m.declared_size = m.size_limit;                  /* exactly the limit fits */
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	m.declared_size = m.size_limit + 1;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 552);
	assert_refused(v, 552, "5.3.4");                 /* RFC 1870 6.1, RFC 3463 */
	assert_string_equal(v.text, "Message size exceeds fixed limit of 41943040 bytes");
	assert_int_equal(v.client_error, 0);
	assert_non_null(strstr(v.log, "SIZE=41943041"));
}

/* A message over the fixed limit is refused for good (552), even when the
 * disk is short too: a 452 would have the client retry what can never fit. */
static void test_mail_size_before_disk(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_mail m = mail("a@b.example", "b.example");
	struct policy_verdict v;
	int relay;

	(void)state;
	m.disk_avail = 1;
	m.declared_size = m.size_limit + 1;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 552);
	assert_refused(v, 552, "5.3.4");
}

static void test_mail_disk_short(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_mail m = mail("a@b.example", "b.example");
	struct policy_verdict v;
	int relay;

	(void)state;
	/* free space minus the declared size must stay above min_free_space */
	m.declared_size = 1000;
	m.disk_avail = m.disk_min_free + 1000;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	m.disk_avail = m.disk_min_free + 999;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 452);
	assert_refused(v, 452, "4.3.1");                 /* RFC 1870 6.2, RFC 3463 */
	assert_string_equal(v.text, "Insufficient system storage");
	assert_int_equal(v.warn, 1);
	assert_int_equal(v.client_error, 0);
	/* without SIZE= only the reserve counts */
	m.declared_size = 0;
	m.disk_avail = m.disk_min_free - 1;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 452);
	/* unknown free space: the write itself will tell */
	m.disk_known = 0;
	m.disk_avail = 0;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
}

/* A SIZE= near 2^64 must not wrap the disk arithmetic into "fits". */
static void test_mail_disk_no_wrap(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_mail m = mail("a@b.example", "b.example");
	struct policy_verdict v;
	int relay;

	(void)state;
	m.size_limit = UINT64_MAX;
	m.declared_size = UINT64_MAX - 10;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 452);
	assert_refused(v, 452, "4.3.1");
}

static void test_mail_auth_own_domain_relays(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_mail m = mail("joe@acme.example", "acme.example");
	struct policy_verdict v;
	int relay = 0;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	assert_accepted(v);
	assert_int_equal(relay, 1);
	/* any of the account's domains, in any case (domains are case-insensitive) */
	m = mail("shop@ACME-Shop.Example", "ACME-Shop.Example");
	relay = 0;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	assert_int_equal(relay, 1);
}

static void test_mail_auth_foreign_sender(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_mail m = mail("boss@bigbank.example", "bigbank.example");
	struct policy_verdict v;
	int relay = 7;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 553);
	assert_refused(v, 553, "5.7.1");                 /* DESIGN.md: sender affiliation */
	assert_string_equal(v.text, "Sender address <boss@bigbank.example> not owned by your account acme");
	assert_int_equal(relay, 0);
	assert_int_equal(v.client_error, 1);
	assert_int_equal(v.warn, 1);
	assert_non_null(strstr(v.log, "user=joe@acme.example"));
	/* a subdomain is another domain */
	m = mail("x@mail.acme.example", "mail.acme.example");
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 553);
	/* so is the port-25 session authorized by SMTP AUTH */
	cl = client(0, POLICY_SMTP_AUTH);
	m = mail("boss@bigbank.example", "bigbank.example");
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 553);
}

/* The null sender is in no domain: an authorized session cannot relay it. */
static void test_mail_auth_null_sender(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_mail m = mail("", "");
	struct policy_verdict v;
	int relay = 7;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 553);
	assert_refused(v, 553, "5.7.1");
	assert_int_equal(relay, 0);
}

/* POP-before-SMTP authorizes an IP others may share: on port 25 a foreign
 * sender is plain MX traffic (logged), not a refusal. */
static void test_mail_pop_grant_foreign_on_25(void **state)
{
	struct policy_client cl = client(0, POLICY_POP_GRANT);
	struct policy_mail m = mail("friend@elsewhere.example", "elsewhere.example");
	struct policy_verdict v;
	int relay = 7;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	assert_int_equal(v.code, 0);
	assert_int_equal(relay, 0);
	assert_non_null(strstr(v.log, "POP-before-SMTP authorization not used"));
	/* its own sender relays */
	m = mail("joe@acme.example", "acme.example");
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 0);
	assert_int_equal(relay, 1);
}

static void test_mail_pop_grant_foreign_on_submission(void **state)
{
	struct policy_client cl = client(1, POLICY_POP_GRANT);
	struct policy_mail m = mail("friend@elsewhere.example", "elsewhere.example");
	struct policy_verdict v;
	int relay = 7;

	(void)state;
	assert_int_equal(policy_mail(&cl, &m, &relay, &v), 553);
	assert_refused(v, 553, "5.7.1");
	assert_int_equal(relay, 0);
}

/* ---- RCPT count ---- */

static void test_rcpt_count_mx(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_rcpt_count(&cl, 0, 99, &v), 0);    /* the 100th is fine */
	assert_accepted(v);
	assert_int_equal(policy_rcpt_count(&cl, 0, 100, &v), 452);  /* the 101st is not */
	assert_refused(v, 452, "4.5.3");                 /* RFC 5321 4.5.3.1.10, RFC 3463 */
	assert_string_equal(v.text, "Error: too many recipients (at most 100 per message)");
	assert_int_equal(v.client_error, 0);
	assert_non_null(strstr(v.log, "account=-"));
	/* the text names the limit, not the count so far */
	assert_int_equal(policy_rcpt_count(&cl, 0, 150, &v), 452);
	assert_string_equal(v.text, "Error: too many recipients (at most 100 per message)");
	assert_non_null(strstr(v.log, "too many recipients (150)"));
}

/* A transaction relaying as the account has the account's cap. */
static void test_rcpt_count_account_cap(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_rcpt_count(&cl, 1, 9, &v), 0);
	assert_int_equal(policy_rcpt_count(&cl, 1, 10, &v), 452);
	assert_refused(v, 452, "4.5.3");
	assert_string_equal(v.text, "Error: too many recipients (at most 10 per message)");
	assert_non_null(strstr(v.log, "account=acme"));
	/* not relaying (a POP grant with a foreign sender): the server's cap */
	assert_int_equal(policy_rcpt_count(&cl, 0, 10, &v), 0);
}

/* ---- RCPT ---- */

static struct policy_rcpt rcpt(const char *addr, int hosted, int exists)
{
	struct policy_rcpt r;

	memset(&r, 0, sizeof r);
	r.addr = addr;
	r.sender = "joe@acme.example";
	r.hosted = hosted;
	r.exists = exists;
	return r;
}

static void test_rcpt_needs_budget(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);

	(void)state;
	assert_true(policy_rcpt_needs_budget(&cl, 1, 0, 0, 0));     /* relayed */
	assert_true(policy_rcpt_needs_budget(&cl, 1, 0, 1, 1));     /* hosted: counts too */
	assert_false(policy_rcpt_needs_budget(&cl, 1, 0, 1, 0));    /* refused 550 anyway */
	assert_false(policy_rcpt_needs_budget(&cl, 1, 1, 0, 0));    /* lookup failed: 451 */
	assert_false(policy_rcpt_needs_budget(&cl, 0, 0, 0, 0));    /* MX traffic never counts */
	assert_false(policy_rcpt_needs_budget(&cl, 0, 0, 1, 1));
}

static void test_rcpt_relay_denied(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_rcpt r = rcpt("victim@elsewhere.example", 0, 0);
	struct policy_verdict v;

	(void)state;
	r.sender = "spammer@x.example";
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 554);
	assert_refused(v, 554, "5.7.1");                 /* DESIGN.md: relaying refused */
	assert_string_equal(v.text, "<victim@elsewhere.example>: Relay access denied");
	assert_int_equal(v.client_error, 1);
	assert_non_null(strstr(v.log, "relay access denied from=<spammer@x.example> to=<victim@elsewhere.example>"));
}

static void test_rcpt_mx_hosted(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_rcpt r = rcpt("joe@acme.example", 1, 1);
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 0);
	assert_accepted(v);
	assert_string_equal(v.log, "");
	r = rcpt("nobody@acme.example", 1, 0);
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 550);
	assert_refused(v, 550, "5.1.1");                 /* RFC 3463: bad destination mailbox */
	assert_string_equal(v.text, "<nobody@acme.example>: Recipient address rejected: no such mailbox");
	assert_int_equal(v.client_error, 1);
}

static void test_rcpt_lookup_failed(void **state)
{
	struct policy_client cl = client(0, POLICY_ANON);
	struct policy_rcpt r = rcpt("joe@acme.example", 0, 0);
	struct policy_verdict v;

	(void)state;
	r.lookup_failed = 1;
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 451);
	assert_refused(v, 451, "4.3.0");
	assert_string_equal(v.text, "<joe@acme.example>: Temporary lookup failure");
	assert_int_equal(v.client_error, 0);
	/* the budget's store call failing is the same temporary failure */
	cl = client(1, POLICY_SMTP_AUTH);
	r = rcpt("a@elsewhere.example", 0, 0);
	r.budget = BUDGET_FAILED;
	assert_int_equal(policy_rcpt(&cl, 1, &r, &v), 451);
	assert_refused(v, 451, "4.3.0");
}

static void test_rcpt_relayed(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_rcpt r = rcpt("friend@elsewhere.example", 0, 0);
	struct policy_verdict v;

	(void)state;
	r.budget = BUDGET_RESERVED;
	assert_int_equal(policy_rcpt(&cl, 1, &r, &v), 0);
	assert_accepted(v);
	assert_string_equal(v.log, "relay from=<joe@acme.example> to=<friend@elsewhere.example> account=acme");
	/* an authorized session that does not relay (a foreign sender): denied */
	cl = client(0, POLICY_SMTP_AUTH);
	r.budget = BUDGET_NOT_ASKED;
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 554);
	assert_refused(v, 554, "5.7.1");
}

/* A POP grant whose foreign sender was let through MAIL as MX traffic gets
 * the reason, not a bare relay denial. */
static void test_rcpt_pop_grant_foreign(void **state)
{
	struct policy_client cl = client(0, POLICY_POP_GRANT);
	struct policy_rcpt r = rcpt("x@elsewhere.example", 0, 0);
	struct policy_verdict v;

	(void)state;
	r.sender = "friend@other.example";
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 553);
	assert_refused(v, 553, "5.7.1");
	assert_string_equal(v.text, "<x@elsewhere.example>: Relay refused: sender <friend@other.example> "
	                            "not owned by your account acme");
	assert_int_equal(v.client_error, 1);
	/* hosted recipients are still MX mail */
	r = rcpt("joe@acme.example", 1, 1);
	assert_int_equal(policy_rcpt(&cl, 0, &r, &v), 0);
}

static void test_rcpt_budget_hour(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_rcpt r = rcpt("friend@elsewhere.example", 0, 0);
	/* 2026-12-05 05:00 and 2026-12-06 00:00 UTC */
	struct rate_use use = { 500, 700, 1796446800 + 3600, 1796515200 };
	struct policy_verdict v;

	(void)state;
	r.budget = BUDGET_OVER_HOUR;
	r.use = &use;
	assert_int_equal(policy_rcpt(&cl, 1, &r, &v), 450);
	assert_refused(v, 450, "4.7.1");                 /* docs/limits.md */
	assert_string_equal(v.text, "<friend@elsewhere.example>: Recipient refused: account acme "
	                            "hourly limit of 500 recipients reached; it resets at 06:00 UTC");
	assert_int_equal(v.client_error, 0);
	assert_int_equal(v.warn, 1);
	assert_non_null(strstr(v.log, "450 4.7.1 account=acme user=joe@acme.example to=<friend@elsewhere.example>"));
}

static void test_rcpt_budget_day(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_rcpt r = rcpt("joe@acme.example", 1, 1);
	struct rate_use use = { 3, 2000, 1796446800 + 3600, 1796515200 };
	struct policy_verdict v;

	(void)state;
	r.budget = BUDGET_OVER_DAY;
	r.use = &use;
	assert_int_equal(policy_rcpt(&cl, 1, &r, &v), 450);
	assert_refused(v, 450, "4.7.1");
	assert_string_equal(v.text, "<joe@acme.example>: Recipient refused: account acme "
	                            "daily limit of 2000 recipients reached; it resets at 2026-12-06 00:00 UTC");
}

/* A 0 budget override admits no recipient at all. */
static void test_rcpt_budget_zero(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	struct policy_rcpt r = rcpt("friend@elsewhere.example", 0, 0);
	struct rate_use use = { 0, 0, 1796446800 + 3600, 1796515200 };
	struct policy_verdict v;

	(void)state;
	cl.lim.per_hour = 0;
	r.budget = BUDGET_OVER_HOUR;
	r.use = &use;
	assert_int_equal(policy_rcpt(&cl, 1, &r, &v), 450);
	assert_non_null(strstr(v.text, "hourly limit of 0 recipients reached"));
}

/* ---- From: header ---- */

static void test_from_own_domains(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	const char from[2][POLICY_DOMAIN_MAX] = { "ACME.example", "acme-shop.example" };
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_header_from(&cl, from, 2, 0, 65536, &v), 0);
	assert_accepted(v);
	assert_int_equal(policy_header_from(&cl, from, 0, 0, 65536, &v), 0);
}

static void test_from_foreign_domain(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	const char from[2][POLICY_DOMAIN_MAX] = { "acme.example", "bigbank.example" };
	struct policy_verdict v;

	(void)state;
	/* the second of two addresses is enough */
	assert_int_equal(policy_header_from(&cl, from, 2, 0, 65536, &v), 550);
	assert_refused(v, 550, "5.7.1");
	assert_string_equal(v.text, "Header From: address in bigbank.example not owned by your account acme");
	assert_int_equal(v.warn, 1);
	assert_non_null(strstr(v.log, "header From domain bigbank.example not owned by account acme"));
}

static void test_from_unparsable_or_too_long(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);
	const char from[1][POLICY_DOMAIN_MAX] = { "acme.example" };
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_header_from(&cl, from, -1, 0, 65536, &v), 550);
	assert_refused(v, 550, "5.7.1");
	assert_string_equal(v.text, "Header From: address is not valid");
	/* overflow wins even over an own From: that was seen */
	assert_int_equal(policy_header_from(&cl, from, 1, 1, 65536, &v), 550);
	assert_refused(v, 550, "5.7.1");
	assert_string_equal(v.text, "Header section too large (over 65536 bytes) for the sender check");
}

static void test_owns_domain(void **state)
{
	struct policy_client cl = client(1, POLICY_SMTP_AUTH);

	(void)state;
	assert_true(policy_owns_domain(&cl, "acme.example"));
	assert_true(policy_owns_domain(&cl, "Acme-Shop.EXAMPLE"));
	assert_false(policy_owns_domain(&cl, "acme.example.evil"));
	assert_false(policy_owns_domain(&cl, "example"));
	assert_false(policy_owns_domain(&cl, ""));
	cl = client(0, POLICY_ANON);                     /* no domains at all */
	assert_false(policy_owns_domain(&cl, "acme.example"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mail_submission_needs_auth),
		cmocka_unit_test(test_mail_mx_role_anyone),
		cmocka_unit_test(test_mail_size_over_limit),
		cmocka_unit_test(test_mail_size_before_disk),
		cmocka_unit_test(test_mail_disk_short),
		cmocka_unit_test(test_mail_disk_no_wrap),
		cmocka_unit_test(test_mail_auth_own_domain_relays),
		cmocka_unit_test(test_mail_auth_foreign_sender),
		cmocka_unit_test(test_mail_auth_null_sender),
		cmocka_unit_test(test_mail_pop_grant_foreign_on_25),
		cmocka_unit_test(test_mail_pop_grant_foreign_on_submission),
		cmocka_unit_test(test_rcpt_count_mx),
		cmocka_unit_test(test_rcpt_count_account_cap),
		cmocka_unit_test(test_rcpt_needs_budget),
		cmocka_unit_test(test_rcpt_relay_denied),
		cmocka_unit_test(test_rcpt_mx_hosted),
		cmocka_unit_test(test_rcpt_lookup_failed),
		cmocka_unit_test(test_rcpt_relayed),
		cmocka_unit_test(test_rcpt_pop_grant_foreign),
		cmocka_unit_test(test_rcpt_budget_hour),
		cmocka_unit_test(test_rcpt_budget_day),
		cmocka_unit_test(test_rcpt_budget_zero),
		cmocka_unit_test(test_from_own_domains),
		cmocka_unit_test(test_from_foreign_domain),
		cmocka_unit_test(test_from_unparsable_or_too_long),
		cmocka_unit_test(test_owns_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
