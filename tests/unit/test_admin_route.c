/* Unit tests for src/admin/admin_route.c: the admin API's routes, path
 * segments and query values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "admin/admin_route.h"

static void test_routes(void **state)
{
	struct admin_match m;

	(void)state;
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_ACCOUNT_LIST);
	assert_false(m.route->change);
	assert_int_equal(admin_route(HTTP_POST, "/api/accounts", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_ACCOUNT_ADD);
	assert_true(m.route->change);
	assert_int_equal(admin_route(HTTP_PUT, "/api/accounts/acme/limits", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_ACCOUNT_LIMITS);
	assert_string_equal(m.arg, "acme");
	assert_int_equal(admin_route(HTTP_HEAD, "/api/queue", &m), ROUTE_OK);   /* HEAD is GET */
	assert_int_equal(m.route->op, OP_QUEUE_LIST);
	assert_int_equal(admin_route(HTTP_POST, "/api/queue/flush", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_QUEUE_FLUSH_ALL);
	assert_int_equal(admin_route(HTTP_POST, "/api/queue/0ABC/bounce", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_QUEUE_BOUNCE);
	assert_string_equal(m.arg, "0ABC");
	assert_int_equal(admin_route(HTTP_GET, "/api/openapi.json", &m), ROUTE_OK);
	assert_false(m.route->auth);
	/* a domain's DKIM keys and records: reading changes nothing, rotating does */
	assert_int_equal(admin_route(HTTP_GET, "/api/domains/acme.test/dkim", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_DKIM_SHOW);
	assert_false(m.route->change);
	assert_string_equal(m.arg, "acme.test");
	assert_int_equal(admin_route(HTTP_POST, "/api/domains/acme.test/dkim/rotate", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_DKIM_ROTATE);
	assert_true(m.route->change);
	assert_int_equal(admin_route(HTTP_POST, "/api/domains/acme.test/dkim/activate", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_DKIM_ACTIVATE);
	assert_true(m.route->change);
	assert_int_equal(admin_route(HTTP_GET, "/api/domains/acme.test/dns", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_DNS_SHOW);
	assert_false(m.route->change);
	assert_int_equal(admin_route(HTTP_GET, "/api/domains/acme.test/dkim/rotate", &m), ROUTE_BAD_METHOD);
}

/* A mailbox's quota and autoresponder, the nodes, the moves (read only). */
static void test_quota_vacation_nodes(void **state)
{
	struct admin_match m;

	(void)state;
	assert_int_equal(admin_route(HTTP_PUT, "/api/mailboxes/a%40b.test/quota", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_QUOTA_SET);
	assert_true(m.route->change);
	assert_string_equal(m.arg, "a@b.test");
	assert_int_equal(admin_route(HTTP_GET, "/api/mailboxes/a%40b.test/quota", &m), ROUTE_BAD_METHOD);
	assert_int_equal(admin_route(HTTP_GET, "/api/mailboxes/a@b.test/vacation", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_VACATION_SHOW);
	assert_false(m.route->change);
	assert_int_equal(admin_route(HTTP_PUT, "/api/mailboxes/a@b.test/vacation", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_VACATION_SET);
	assert_int_equal(admin_route(HTTP_DELETE, "/api/mailboxes/a@b.test/vacation", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_VACATION_OFF);
	assert_true(m.route->change);
	assert_int_equal(admin_route(HTTP_GET, "/api/nodes", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_NODE_LIST);
	assert_int_equal(admin_route(HTTP_POST, "/api/nodes", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_NODE_ADD);
	assert_int_equal(admin_route(HTTP_POST, "/api/nodes/12/drain", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_NODE_DRAIN);
	assert_string_equal(m.arg, "12");
	assert_int_equal(admin_route(HTTP_POST, "/api/nodes/12/activate", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_NODE_ACTIVATE);
	assert_int_equal(admin_route(HTTP_DELETE, "/api/nodes/12", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_NODE_REMOVE);
	assert_int_equal(admin_route(HTTP_GET, "/api/nodes/12", &m), ROUTE_BAD_METHOD);
	assert_int_equal(admin_route(HTTP_GET, "/api/moves", &m), ROUTE_OK);
	assert_int_equal(m.route->op, OP_MOVE_LIST);
	assert_false(m.route->change);
	assert_int_equal(admin_route(HTTP_POST, "/api/moves", &m), ROUTE_BAD_METHOD);
}

static void test_not_found_and_methods(void **state)
{
	struct admin_match m;

	(void)state;
	assert_int_equal(admin_route(HTTP_GET, "/api/nothing", &m), ROUTE_NOT_FOUND);
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/", &m), ROUTE_NOT_FOUND);  /* empty segment */
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/a/b", &m), ROUTE_NOT_FOUND);
	assert_int_equal(admin_route(HTTP_GET, "/api/accountsx", &m), ROUTE_NOT_FOUND);
	assert_int_equal(admin_route(HTTP_DELETE, "/api/accounts", &m), ROUTE_BAD_METHOD);
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/acme/suspend", &m), ROUTE_BAD_METHOD);
	assert_null(m.route);
}

/* Segments are percent-decoded; what could change the path's meaning is refused. */
static void test_segments(void **state)
{
	struct admin_match m;
	char longp[600];

	(void)state;
	assert_int_equal(admin_route(HTTP_GET, "/api/mailboxes/alice%40acme.test", &m), ROUTE_OK);
	assert_string_equal(m.arg, "alice@acme.test");
	assert_int_equal(admin_route(HTTP_DELETE, "/api/relay/%3A%3a1", &m), ROUTE_OK);
	assert_string_equal(m.arg, "::1");
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/a%2Fb", &m), ROUTE_BAD_PATH);
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/a%00b", &m), ROUTE_BAD_PATH);
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/a%4", &m), ROUTE_BAD_PATH);
	assert_int_equal(admin_route(HTTP_GET, "/api/accounts/a%zz", &m), ROUTE_BAD_PATH);
	memcpy(longp, "/api/accounts/", 14);
	memset(longp + 14, 'a', 400);
	longp[414] = '\0';
	assert_int_equal(admin_route(HTTP_GET, longp, &m), ROUTE_BAD_PATH);
}

static void test_query(void **state)
{
	char v[64];

	(void)state;
	assert_int_equal(admin_query_get("account=acme", "account", v, sizeof v), 1);
	assert_string_equal(v, "acme");
	assert_int_equal(admin_query_get("x=1&domain=a%2Eb+c&y=2", "domain", v, sizeof v), 1);
	assert_string_equal(v, "a.b c");
	assert_int_equal(admin_query_get("accounts=acme", "account", v, sizeof v), 0);
	assert_int_equal(admin_query_get("", "account", v, sizeof v), 0);
	assert_int_equal(admin_query_get("account=%", "account", v, sizeof v), -1);
	assert_int_equal(admin_query_get("account=", "account", v, sizeof v), 1);   /* empty: no such account */
	assert_string_equal(v, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_quota_vacation_nodes),
		cmocka_unit_test(test_not_found_and_methods),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
