/* Unit tests for src/routing/route.c: alias expansion over a table of
 * domains, mailboxes, aliases, catch-alls and contacts: two targets, an
 * outside target, nested aliases, keeping a copy, postmaster@/abuse@,
 * catch-all, loops (direct, through two domains, coming back), the store
 * unavailable; and the header loop check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "routing/route.h"

struct kv { const char *k, *v; };

static const char *const domains[] = { "acme.test", "other.test", NULL };
static const char *const mailboxes[] = { "bob@acme.test", "alice@acme.test", "info@acme.test", "carol@other.test",
	                                 NULL };
static const struct kv aliases[] = {
	{ "sales@acme.test", "bob@acme.test,alice@acme.test" },
	{ "fwd@acme.test", "someone@outside.example" },
	{ "both@acme.test", "team@acme.test,x@outside.example" },
	{ "team@acme.test", "bob@acme.test,carol@other.test" },
	{ "info@acme.test", "info@acme.test,x@outside.example" },
	{ "ping@acme.test", "pong@other.test" },
	{ "pong@other.test", "ping@acme.test" },
	{ "dangling@acme.test", "nobody@acme.test" },
	{ NULL, NULL },
};
static const struct kv catchalls[] = { { "other.test", "carol@other.test" }, { NULL, NULL } };
static const struct kv contacts[] = { { "acme.test", "alice@acme.test" }, { "other.test", "" }, { NULL, NULL } };
static int down;     /* the store "unavailable" */

static int in(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static int kv(const struct kv *t, const char *k, char *out, size_t len)
{
	if (down)
		return -1;
	for (; t->k; t++)
		if (!strcmp(t->k, k)) {
			snprintf(out, len, "%s", t->v);
			return 1;
		}
	return 0;
}

static int db_hosted(void *a, const char *d) { (void)a; return down ? -1 : in(domains, d); }
static int db_mailbox(void *a, const char *m) { (void)a; return down ? -1 : in(mailboxes, m); }
static int db_alias(void *a, const char *x, char *o, size_t n) { (void)a; return kv(aliases, x, o, n); }
static int db_catchall(void *a, const char *d, char *o, size_t n) { (void)a; return kv(catchalls, d, o, n); }
static int db_contact(void *a, const char *d, char *o, size_t n) { (void)a; return kv(contacts, d, o, n); }

static const struct route_db db = { NULL, db_hosted, db_mailbox, db_alias, db_catchall, db_contact };

static struct route_result *resolve(const char *addr, int seen)
{
	static struct route_result r;

	route_resolve(&db, addr, seen, &r);
	return &r;
}

static void t_mailbox(void **st)
{
	(void)st;
	assert_int_equal(resolve("bob@acme.test", 0)->kind, ROUTE_MAILBOX);
	assert_int_equal(resolve("nobody@acme.test", 0)->kind, ROUTE_UNKNOWN);
	assert_non_null(strstr(resolve("nobody@acme.test", 0)->why, "5.1.1"));
}

static void t_two_targets(void **st)
{
	struct route_result *r = resolve("sales@acme.test", 0);

	(void)st;
	assert_int_equal(r->kind, ROUTE_FORWARD);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->t[0].addr, "bob@acme.test");
	assert_int_equal(r->t[0].local, 1);
	assert_string_equal(r->t[1].addr, "alice@acme.test");
}

static void t_outside_and_nested(void **st)
{
	struct route_result *r = resolve("fwd@acme.test", 0);

	(void)st;
	assert_int_equal(r->kind, ROUTE_FORWARD);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->t[0].addr, "someone@outside.example");
	assert_int_equal(r->t[0].local, 0);
	r = resolve("both@acme.test", 0);
	assert_int_equal(r->kind, ROUTE_FORWARD);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->t[0].addr, "bob@acme.test");
	assert_string_equal(r->t[1].addr, "carol@other.test");
	assert_string_equal(r->t[2].addr, "x@outside.example");
	assert_int_equal(r->t[2].local, 0);
}

static void t_keep_copy(void **st)
{
	struct route_result *r = resolve("info@acme.test", 0);

	(void)st;
	assert_int_equal(r->kind, ROUTE_FORWARD);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->t[0].addr, "info@acme.test");
	assert_int_equal(r->t[0].local, 1);
	/* the copy forwarded for info@ comes back to info@: delivered, not forwarded again */
	assert_int_equal(resolve("info@acme.test", 1)->kind, ROUTE_MAILBOX);
	/* an alias without its own copy that sees the message again: a loop */
	assert_int_equal(resolve("fwd@acme.test", 1)->kind, ROUTE_LOOP);
}

static void t_roles_and_catchall(void **st)
{
	struct route_result *r = resolve("postmaster@acme.test", 0);

	(void)st;
	assert_int_equal(r->kind, ROUTE_FORWARD);
	assert_string_equal(r->t[0].addr, "alice@acme.test");
	assert_string_equal(resolve("abuse@acme.test", 0)->t[0].addr, "alice@acme.test");
	/* other.test: no contact, a catch-all: postmaster@ goes to the catch-all */
	assert_string_equal(resolve("postmaster@other.test", 0)->t[0].addr, "carol@other.test");
	assert_string_equal(resolve("random@other.test", 0)->t[0].addr, "carol@other.test");
	assert_int_equal(resolve("random@acme.test", 0)->kind, ROUTE_UNKNOWN);
	/* a recipient of a domain no longer hosted is not sent out */
	assert_int_equal(resolve("someone@gone.test", 0)->kind, ROUTE_UNKNOWN);
}

static void t_loops(void **st)
{
	struct route_result *r = resolve("ping@acme.test", 0);

	(void)st;
	assert_int_equal(r->kind, ROUTE_LOOP);
	assert_non_null(strstr(r->why, "5.4.6"));
	assert_int_equal(resolve("dangling@acme.test", 0)->kind, ROUTE_UNKNOWN);
}

static void t_store_down(void **st)
{
	(void)st;
	down = 1;
	assert_int_equal(resolve("bob@acme.test", 0)->kind, ROUTE_TEMP);
	assert_int_equal(resolve("sales@acme.test", 0)->kind, ROUTE_TEMP);
	down = 0;
}

static void t_header_loop(void **st)
{
	const char h1[] = "Delivered-To: <Info@ACME.test>\r\nReceived: x\r\n\r\nDelivered-To: fwd@acme.test\r\n";
	char big[ROUTE_MAX_HOPS * 16 + 4];
	int hops;

	(void)st;
	assert_int_equal(route_header_loop(h1, sizeof h1 - 1, "info@acme.test", &hops), 1);
	assert_int_equal(hops, 0);
	/* a field in the body is not the header */
	assert_int_equal(route_header_loop(h1, sizeof h1 - 1, "fwd@acme.test", &hops), 0);
	assert_int_equal(route_header_loop("Delivered-To : a@b.test\n", 24, "a@b.test", &hops), 1);
	assert_int_equal(route_header_loop("X-Delivered-To: a@b.test\n", 25, "a@b.test", &hops), 0);
	big[0] = '\0';
	for (int i = 0; i < ROUTE_MAX_HOPS; i++)
		strcat(big, "Received: hop\r\n");
	assert_int_equal(route_header_loop(big, strlen(big), "a@b.test", &hops), 1);
	assert_int_equal(hops, 1);
	assert_int_equal(route_header_loop(big, strlen(big) - 15, "a@b.test", &hops), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_mailbox), cmocka_unit_test(t_two_targets), cmocka_unit_test(t_outside_and_nested),
		cmocka_unit_test(t_keep_copy), cmocka_unit_test(t_roles_and_catchall), cmocka_unit_test(t_loops),
		cmocka_unit_test(t_store_down), cmocka_unit_test(t_header_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
