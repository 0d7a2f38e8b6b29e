/* Unit tests for policy/dns_records.c: the records a domain publishes,
 * their zone-file lines (TXT split into 255-byte strings), and the check
 * of what DNS answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "policy/dns_records.h"

static struct dkim_key keys[3];

static int build(struct dns_record *r)
{
	struct dns_records_in in = { "acme.test", "mx.example.net", "v=spf1 a:mx.example.net ~all",
	                             "v=DMARC1; p=none", keys, 3 };
	memset(keys, 0, sizeof keys);
	snprintf(keys[0].selector, sizeof keys[0].selector, "hm1-rsa");
	keys[0].state = DKIM_RETIRED;
	snprintf(keys[0].public_key, sizeof keys[0].public_key, "OLD");
	snprintf(keys[1].selector, sizeof keys[1].selector, "hm2-rsa");
	keys[1].state = DKIM_ACTIVE;
	for (int i = 0; i < 392; i++)
		keys[1].public_key[i] = "ABCDEFGH"[i % 8];
	snprintf(keys[2].selector, sizeof keys[2].selector, "hm2-ed25519");
	keys[2].alg = DKIM_ALG_ED25519;
	keys[2].state = DKIM_PENDING;
	snprintf(keys[2].public_key, sizeof keys[2].public_key, "edkey=");
	return dns_records_build(&in, r, DNS_RECORDS_MAX);
}

static void test_build(void **state)
{
	struct dns_record r[DNS_RECORDS_MAX];
	int n = build(r);

	(void)state;
	assert_int_equal(n, 5);   /* MX, two DKIM (not the retired one), SPF, DMARC */
	assert_int_equal(r[0].type, DNS_RR_MX);
	assert_string_equal(r[0].value, "10 mx.example.net");
	assert_string_equal(r[1].name, "hm2-rsa._domainkey.acme.test");
	assert_true(!strncmp(r[1].value, "v=DKIM1; k=rsa; p=ABCDEFGH", 26));
	assert_string_equal(r[2].value, "v=DKIM1; k=ed25519; p=edkey=");
	assert_string_equal(r[2].what, "DKIM hm2-ed25519 (pending)");
	assert_string_equal(r[3].name, "acme.test");
	assert_string_equal(r[4].name, "_dmarc.acme.test");
	assert_int_equal(dns_records_build(&(struct dns_records_in){ "a.test", "m", "s", "d", keys, 3 }, r, 3), -1);
}

static void test_zone_lines(void **state)
{
	struct dns_record r[DNS_RECORDS_MAX];
	struct buf b;
	const char *p;

	(void)state;
	build(r);
	buf_init(&b, 0);
	assert_int_equal(dns_record_zone_line(&r[0], &b), 0);
	assert_string_equal(b.data, "acme.test. 3600 IN MX 10 mx.example.net.\n");
	buf_reset(&b);
	assert_int_equal(dns_record_zone_line(&r[1], &b), 0);
	/* 410 bytes: one string of 255, one of 155 */
	assert_true(!strncmp(b.data, "hm2-rsa._domainkey.acme.test. 3600 IN TXT \"v=DKIM1; k=rsa; p=", 61));
	p = strchr(b.data, '"');
	assert_int_equal(strchr(p + 1, '"') - p - 1, 255);
	p = strchr(strchr(p + 1, '"') + 1, '"');
	assert_int_equal(strchr(p + 1, '"') - p - 1, 410 - 255);
	assert_string_equal(strchr(p + 1, '"'), "\"\n");
	buf_reset(&b);
	snprintf(r[4].value, sizeof r[4].value, "say \"hi\\\"");
	assert_int_equal(dns_record_zone_line(&r[4], &b), 0);
	assert_string_equal(b.data, "_dmarc.acme.test. 3600 IN TXT \"say \\\"hi\\\\\\\"\"\n");
	buf_free(&b);
}

static void test_check(void **state)
{
	struct dns_record r[DNS_RECORDS_MAX];
	char dk[1024];
	const char *none[1] = { NULL };

	(void)state;
	build(r);
	/* MX: the host matters, not the preference or the trailing dot */
	assert_int_equal(dns_record_check(&r[0], (const char *[]){ "5 MX.example.net." }, 1), DNS_CHECK_OK);
	assert_int_equal(dns_record_check(&r[0], (const char *[]){ "10 mail.other.net" }, 1), DNS_CHECK_WRONG);
	assert_int_equal(dns_record_check(&r[0], none, 0), DNS_CHECK_MISSING);
	/* DKIM: same p=, whatever the spacing and tag order */
	snprintf(dk, sizeof dk, "k=ed25519 ;v=DKIM1; p = edk ey=");
	assert_int_equal(dns_record_check(&r[2], (const char *[]){ dk }, 1), DNS_CHECK_OK);
	assert_int_equal(dns_record_check(&r[2], (const char *[]){ "v=DKIM1; k=ed25519; p=other=" }, 1),
	                 DNS_CHECK_WRONG);
	assert_int_equal(dns_record_check(&r[1], none, 0), DNS_CHECK_MISSING);
	/* SPF: any v=spf1 naming our hosts; other TXT records do not count */
	assert_int_equal(dns_record_check(&r[3], (const char *[]){ "google-site-verification=x",
	                                                          "v=spf1 mx a:mx.example.net -all" }, 2),
	                 DNS_CHECK_OK);
	assert_int_equal(dns_record_check(&r[3], (const char *[]){ "v=spf1 include:other.net ~all" }, 1),
	                 DNS_CHECK_WRONG);
	assert_int_equal(dns_record_check(&r[3], (const char *[]){ "v=spf1 a:mx.example.net.evil ~all" }, 1),
	                 DNS_CHECK_WRONG);
	assert_int_equal(dns_record_check(&r[3], (const char *[]){ "something=else" }, 1), DNS_CHECK_MISSING);
	/* DMARC: any policy */
	assert_int_equal(dns_record_check(&r[4], (const char *[]){ "v=DMARC1; p=reject" }, 1), DNS_CHECK_OK);
	assert_int_equal(dns_record_check(&r[4], (const char *[]){ "v=spf1 -all" }, 1), DNS_CHECK_WRONG);
	assert_string_equal(dns_check_name(DNS_CHECK_MISSING), "missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_zone_lines),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
