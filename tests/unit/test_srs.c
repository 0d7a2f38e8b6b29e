/* Unit tests for src/routing/srs.c: forward rewriting against vectors
 * computed independently (tests/unit/srs_vectors.py, a Python
 * reimplementation of postsrsd's scheme), reversal with its hash and age
 * checks, forged and malformed addresses, several secrets, case rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "routing/srs.h"

#define NOW 1764892800   /* 2025-12-05T00:00:00Z */
#define DAY 86400

static void setup(struct srs *s, const char *secret, const char *domain)
{
	memset(s, 0, sizeof *s);
	snprintf(s->secrets[0], sizeof s->secrets[0], "%s", secret);
	s->nsecrets = 1;
	s->max_age_days = 21;
	snprintf(s->domain, sizeof s->domain, "%s", domain);
}

static const struct { const char *secret, *sender, *domain, *want; } vectors[] = {
	{ "tops3cr3t", "alice@example.org", "fwd.example.net", "SRS0=Z6CI=6L=example.org=alice@fwd.example.net" },
	{ "tops3cr3t", "Bob.Smith@Example.COM", "fwd.example.net",
	  "SRS0=SDAf=6L=Example.COM=Bob.Smith@fwd.example.net" },
	{ "another secret", "x+tag@sub.example.org", "srs.example", "SRS0=8HFq=6L=sub.example.org=x+tag@srs.example" },
	{ "tops3cr3t", "SRS0=abcd=TT=orig.example=user@hop.example", "fwd.example.net",
	  "SRS1=jSIH=hop.example==abcd=TT=orig.example=user@fwd.example.net" },
	{ "tops3cr3t", "SRS1=wxyz=hop.example==abcd=TT=orig.example=user@hop2.example", "fwd.example.net",
	  "SRS1=jSIH=hop.example==abcd=TT=orig.example=user@fwd.example.net" },
	/* hashes with '/' and '+': postsrsd 1.x's base64 alphabet */
	{ "tops3cr3t", "user1@example.org", "fwd.example.net", "SRS0=6NO/=6L=example.org=user1@fwd.example.net" },
	{ "tops3cr3t", "user19@example.org", "fwd.example.net", "SRS0=l+cT=6L=example.org=user19@fwd.example.net" },
};

static void t_forward_vectors(void **st)
{
	struct srs s;
	char out[SRS_ADDR_MAX];

	(void)st;
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		setup(&s, vectors[i].secret, vectors[i].domain);
		assert_int_equal(srs_forward(&s, vectors[i].sender, NOW, out, sizeof out), SRS_OK);
		assert_string_equal(out, vectors[i].want);
	}
}

static void t_roundtrip(void **st)
{
	struct srs s;
	char fwd[SRS_ADDR_MAX], back[SRS_ADDR_MAX];

	(void)st;
	setup(&s, "tops3cr3t", "fwd.example.net");
	assert_int_equal(srs_forward(&s, "Alice@Example.org", NOW, fwd, sizeof fwd), SRS_OK);
	assert_int_equal(srs_reverse(&s, fwd, NOW + 3 * DAY, back, sizeof back), SRS_OK);
	assert_string_equal(back, "Alice@Example.org");
	/* the tag, stamp and hash are case-insensitive (a relay may lower-case) */
	for (char *p = fwd; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	assert_int_equal(srs_reverse(&s, fwd, NOW, back, sizeof back), SRS_OK);
	assert_string_equal(back, "alice@example.org");
}

static void t_reverse_vector_srs1(void **st)
{
	struct srs s;
	char back[SRS_ADDR_MAX];

	(void)st;
	setup(&s, "tops3cr3t", "fwd.example.net");
	assert_int_equal(srs_reverse(&s, vectors[3].want, NOW, back, sizeof back), SRS_OK);
	assert_string_equal(back, "SRS0=abcd=TT=orig.example=user@hop.example");
}

static void t_age(void **st)
{
	struct srs s;
	char fwd[SRS_ADDR_MAX], back[SRS_ADDR_MAX];

	(void)st;
	setup(&s, "k", "fwd.example.net");
	assert_int_equal(srs_forward(&s, "a@b.example", NOW, fwd, sizeof fwd), SRS_OK);
	assert_int_equal(srs_reverse(&s, fwd, NOW + 21 * DAY, back, sizeof back), SRS_OK);
	assert_int_equal(srs_reverse(&s, fwd, NOW + 22 * DAY, back, sizeof back), SRS_EEXPIRED);
	/* a stamp from the future reads as 1024 days old */
	assert_int_equal(srs_reverse(&s, fwd, NOW - 2 * DAY, back, sizeof back), SRS_EEXPIRED);
}

static void t_forged(void **st)
{
	struct srs s;
	char fwd[SRS_ADDR_MAX], back[SRS_ADDR_MAX];

	(void)st;
	setup(&s, "tops3cr3t", "fwd.example.net");
	assert_int_equal(srs_forward(&s, "alice@example.org", NOW, fwd, sizeof fwd), SRS_OK);
	/* another target with the same hash */
	fwd[strlen("SRS0=Z6CI=6L=example.org=")] = 'm';
	assert_int_equal(srs_reverse(&s, fwd, NOW, back, sizeof back), SRS_EHASH);
	assert_int_equal(srs_reverse(&s, "SRS0=AAAA=6L=example.org=alice@fwd.example.net", NOW, back, sizeof back),
	                 SRS_EHASH);
	assert_int_equal(srs_reverse(&s, "SRS0=Z6C=6L=example.org=alice@x", NOW, back, sizeof back), SRS_EHASH);
	assert_int_equal(srs_reverse(&s, "SRS0=Z6CI=6L=example.org@x", NOW, back, sizeof back), SRS_ESYNTAX);
	assert_int_equal(srs_reverse(&s, "SRS0=Z6CI=6!=example.org=a@x", NOW, back, sizeof back), SRS_ESYNTAX);
	assert_int_equal(srs_reverse(&s, "SRS1=Z6CI=host@x", NOW, back, sizeof back), SRS_ESYNTAX);
	assert_int_equal(srs_reverse(&s, "alice@example.org", NOW, back, sizeof back), SRS_NOT_SRS);
	assert_int_equal(srs_reverse(&s, "SRS2=x=y@z", NOW, back, sizeof back), SRS_NOT_SRS);
	/* a longer hash is checked on its first 4 characters, as postsrsd does */
	assert_int_equal(srs_reverse(&s, "SRS0=Z6CIxx=6L=example.org=alice@x", NOW, back, sizeof back), SRS_OK);
	/* '+' and '/' count as '-' and '_' */
	assert_int_equal(srs_is_srs("SRS0+x"), 1);
	assert_int_equal(srs_is_srs("srs1-x"), 1);
	assert_int_equal(srs_is_srs("SRS0"), 0);
}

static void t_secrets(void **st)
{
	struct srs old, s;
	char fwd[SRS_ADDR_MAX], back[SRS_ADDR_MAX];
	const char file[] = "new secret\r\n\nold secret\n";

	(void)st;
	setup(&old, "old secret", "fwd.example.net");
	assert_int_equal(srs_forward(&old, "alice@example.org", NOW, fwd, sizeof fwd), SRS_OK);
	setup(&s, "x", "fwd.example.net");
	assert_int_equal(srs_parse_secrets(&s, file, sizeof file - 1), 2);
	assert_string_equal(s.secrets[0], "new secret");
	assert_string_equal(s.secrets[1], "old secret");
	assert_int_equal(srs_reverse(&s, fwd, NOW, back, sizeof back), SRS_OK);
	assert_int_equal(srs_parse_secrets(&s, "\n\n", 2), -1);
}

static void t_unchanged_and_bounds(void **st)
{
	struct srs s;
	char out[SRS_ADDR_MAX], small[20];

	(void)st;
	setup(&s, "k", "fwd.example.net");
	assert_int_equal(srs_forward(&s, "me@FWD.example.net", NOW, out, sizeof out), SRS_UNCHANGED);
	assert_string_equal(out, "me@FWD.example.net");
	assert_int_equal(srs_forward(&s, "a@b.example", NOW, small, sizeof small), SRS_ETOOLONG);
	assert_int_equal(srs_forward(&s, "nodomain", NOW, out, sizeof out), SRS_ESYNTAX);
	assert_int_equal(srs_forward(&s, "@b", NOW, out, sizeof out), SRS_ESYNTAX);
	s.nsecrets = 0;
	assert_int_equal(srs_forward(&s, "a@b.example", NOW, out, sizeof out), SRS_ENOSECRET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_forward_vectors), cmocka_unit_test(t_roundtrip),
		cmocka_unit_test(t_reverse_vector_srs1), cmocka_unit_test(t_age),
		cmocka_unit_test(t_forged), cmocka_unit_test(t_secrets),
		cmocka_unit_test(t_unchanged_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
