/* Unit tests for the nodes of a fleet in the store (store/store_node.h),
 * on both backends (store_backends.h): add, get, list with the counts of
 * accounts and mailboxes homed there, drain, the pick of a new account's
 * home, removal refused while accounts live there, the home of an
 * address, a second store (another node) seeing the same nodes; and the
 * HOST:PORT parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "store/store_node.h"
#include "store_backends.h"

#define STORE(state) (((struct tstore *)*(state))->st)

static void add_node(struct store *st, int number)
{
	struct node n;
	char err[256];

	memset(&n, 0, sizeof n);
	n.number = number;
	snprintf(n.lmtp, sizeof n.lmtp, "127.0.0.%d:24", number);
	snprintf(n.pop3, sizeof n.pop3, "127.0.0.%d:110", number);
	assert_int_equal(store_node_add(st, &n, err, sizeof err), 0);
}

static void add_mailboxes(struct store *st, const char *account, int server, const char *domain, int n)
{
	char err[256], addr[64];

	assert_int_equal(store_account_add(st, account, NULL, server, err, sizeof err), 0);
	assert_int_equal(store_domain_add(st, account, domain, err, sizeof err), 0);
	for (int i = 0; i < n; i++) {
		snprintf(addr, sizeof addr, "u%d@%s", i, domain);
		assert_int_equal(store_mailbox_add(st, addr, "$6$x$y", err, sizeof err), 0);
	}
}

struct got {
	struct node n[8];
	int count;
};

static int collect(const struct node *n, void *arg)
{
	struct got *g = arg;

	if (g->count < 8)
		g->n[g->count++] = *n;
	return 0;
}

static void test_addr_parse(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(node_addr_parse("10.0.0.12:24", host, sizeof host, &port), 0);
	assert_string_equal(host, "10.0.0.12");
	assert_int_equal(port, 24);
	assert_int_equal(node_addr_parse("node12.example.net:2424", host, sizeof host, &port), 0);
	assert_string_equal(host, "node12.example.net");
	assert_int_equal(node_addr_parse("[2001:db8::12]:24", host, sizeof host, &port), 0);
	assert_string_equal(host, "2001:db8::12");
	assert_int_equal(node_addr_parse("10.0.0.12", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("10.0.0.12:", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse(":24", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("10.0.0.12:0", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("10.0.0.12:65536", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("10.0.0.12:+24", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("a b:24", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("[::1:24", NULL, 0, NULL), -1);
	assert_int_equal(node_addr_parse("", NULL, 0, NULL), -1);
}

static void test_add_get_list(void **state)
{
	struct store *st = STORE(state);
	struct node n;
	struct got g = { 0 };
	char err[256];
	int count;

	assert_int_equal(store_node_count(st, &count), 0);
	assert_int_equal(count, 0);
	add_node(st, 13);
	add_node(st, 11);
	memset(&n, 0, sizeof n);
	n.number = 11;
	snprintf(n.lmtp, sizeof n.lmtp, "x:1");
	snprintf(n.pop3, sizeof n.pop3, "x:2");
	assert_int_equal(store_node_add(st, &n, err, sizeof err), STORE_EEXIST);
	assert_string_equal(err, "node 11 already exists");
	n.number = 0;
	assert_int_equal(store_node_add(st, &n, err, sizeof err), STORE_EINVAL);
	n.number = 14;
	snprintf(n.lmtp, sizeof n.lmtp, "nohost");
	assert_int_equal(store_node_add(st, &n, err, sizeof err), STORE_EINVAL);
	add_mailboxes(st, "acme", 13, "acme.test", 2);
	assert_int_equal(store_node_get(st, 13, &n), 0);
	assert_string_equal(n.lmtp, "127.0.0.13:24");
	assert_string_equal(n.pop3, "127.0.0.13:110");
	assert_string_equal(n.imap, "");
	assert_int_equal(n.state, NODE_ACTIVE);
	assert_int_equal(store_node_get(st, 12, &n), STORE_ENOTFOUND);
	/* the IMAP address changes alone (a node gaining [imap] listen_cluster) */
	assert_int_equal(store_node_set_imap(st, 13, "127.0.0.13:1993", err, sizeof err), 0);
	assert_int_equal(store_node_get(st, 13, &n), 0);
	assert_string_equal(n.imap, "127.0.0.13:1993");
	assert_string_equal(n.pop3, "127.0.0.13:110");
	assert_int_equal(store_node_set_imap(st, 13, "nohost", err, sizeof err), STORE_EINVAL);
	assert_int_equal(store_node_set_imap(st, 12, "127.0.0.12:1993", err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "node 12 does not exist");
	assert_int_equal(store_node_set_imap(st, 13, "", err, sizeof err), 0);
	assert_int_equal(store_node_get(st, 13, &n), 0);
	assert_string_equal(n.imap, "");
	assert_int_equal(store_node_list(st, collect, &g), 0);
	assert_int_equal(g.count, 2);
	assert_int_equal(g.n[0].number, 11);
	assert_int_equal(g.n[0].accounts, 0);
	assert_int_equal(g.n[1].number, 13);
	assert_int_equal(g.n[1].accounts, 1);
	assert_int_equal(g.n[1].mailboxes, 2);
	/* another node sees the same */
	{
		struct store *other = tstore_open(*state);
		assert_int_equal(store_node_get(other, 11, &n), 0);
		assert_string_equal(n.lmtp, "127.0.0.11:24");
		store_close(other);
	}
}

static void test_pick_drain_remove(void **state)
{
	struct store *st = STORE(state);
	struct node n;
	char err[256];
	int number;

	assert_int_equal(store_node_pick(st, &number), STORE_ENOTFOUND);
	add_node(st, 11);
	add_node(st, 12);
	add_node(st, 13);
	add_mailboxes(st, "a11", 11, "a11.test", 3);
	add_mailboxes(st, "a12", 12, "a12.test", 1);
	add_mailboxes(st, "a13", 13, "a13.test", 2);
	assert_int_equal(store_node_pick(st, &number), 0);
	assert_int_equal(number, 12);
	assert_int_equal(store_node_set_state(st, 12, NODE_DRAINING, err, sizeof err), 0);
	assert_int_equal(store_node_get(st, 12, &n), 0);
	assert_int_equal(n.state, NODE_DRAINING);
	assert_int_equal(store_node_pick(st, &number), 0);
	assert_int_equal(number, 13);
	assert_int_equal(store_node_set_state(st, 99, NODE_DRAINING, err, sizeof err), STORE_ENOTFOUND);
	assert_string_equal(err, "node 99 does not exist");
	/* removal: refused while an account lives there */
	assert_int_equal(store_node_remove(st, 12, err, sizeof err), STORE_EEXIST);
	assert_non_null(strstr(err, "node 12 is the home of 1 account(s)"));
	assert_int_equal(store_account_remove(st, "a12", err, sizeof err), 0);
	assert_int_equal(store_node_remove(st, 12, err, sizeof err), 0);
	assert_int_equal(store_node_get(st, 12, &n), STORE_ENOTFOUND);
	assert_int_equal(store_node_remove(st, 12, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_node_set_state(st, 11, NODE_DRAINING, err, sizeof err), 0);
	assert_int_equal(store_node_set_state(st, 13, NODE_DRAINING, err, sizeof err), 0);
	assert_int_equal(store_node_pick(st, &number), STORE_ENOTFOUND);
}

static void test_mailbox_home(void **state)
{
	struct store *st = STORE(state);
	int number, exists;

	add_mailboxes(st, "acme", 13, "acme.test", 1);
	assert_int_equal(store_mailbox_home(st, "u0", "ACME.test", &number, &exists), 0);
	assert_int_equal(number, 13);
	assert_int_equal(exists, 1);
	assert_int_equal(store_mailbox_home(st, "U0", "acme.test", &number, &exists), 0);
	assert_int_equal(exists, 1);
	assert_int_equal(store_mailbox_home(st, "nobody", "acme.test", &number, &exists), 0);
	assert_int_equal(number, 13);
	assert_int_equal(exists, 0);
	assert_int_equal(store_mailbox_home(st, "u0", "other.test", &number, &exists), STORE_ENOTFOUND);
	assert_int_equal(store_mailbox_home(st, "u0", "not a domain", &number, &exists), STORE_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test_setup_teardown(test_add_get_list, tstore_setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_pick_drain_remove, tstore_setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_home, tstore_setup, tstore_teardown),
	};
	return tstore_run_groups("store node", tests);
}
