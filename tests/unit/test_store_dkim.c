/* Unit tests for DKIM keys in the store (store/store_dkim.h), on both
 * backends (store_backends.h): a generation added whole, listed with and
 * without the private keys, activation retiring the old generation, a
 * second store (another node) seeing the same keys, a removed domain
 * taking its keys along; and key generation (dkim/dkim_keys.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include "dkim/dkim_keys.h"
#include "store/store_dkim.h"
#include "store/store_backend.h"
#include "store_backends.h"

static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	return store_account_add(t->st, "acme", NULL, 1, err, sizeof err) ||
	       store_domain_add(t->st, "acme", "acme.test", err, sizeof err) ? -1 : 0;
}

#define STORE(state) (((struct tstore *)*(state))->st)

struct got {
	struct dkim_key k[8];
	int n;
};

static int collect(const struct dkim_key *k, void *arg)
{
	struct got *g = arg;

	if (g->n < 8)
		g->k[g->n++] = *k;
	return 0;
}

static struct got *list(struct store *st, const char *domain, int priv)
{
	static struct got g;

	memset(&g, 0, sizeof g);
	assert_int_equal(store_dkim_list(st, domain, priv, collect, &g), 0);
	return &g;
}

static void add_gen(struct store *st, int gen, enum dkim_state s)
{
	struct dkim_key k[2];
	char err[256];

	assert_int_equal(dkim_keys_generate(gen, s, k, err, sizeof err), 0);
	assert_int_equal(store_dkim_add(st, "acme.test", k, 2, err, sizeof err), 0);
	OPENSSL_cleanse(k, sizeof k);
}

static void test_generate(void **state)
{
	struct dkim_key k[2];
	char err[256];

	(void)state;
	assert_int_equal(dkim_keys_generate(3, DKIM_PENDING, k, err, sizeof err), 0);
	assert_string_equal(k[0].selector, "hm3-rsa");
	assert_string_equal(k[1].selector, "hm3-ed25519");
	assert_int_equal(k[0].alg, DKIM_ALG_RSA);
	assert_true(!strncmp(k[0].private_key, "-----BEGIN PRIVATE KEY-----", 27));
	assert_true(!strncmp(k[1].private_key, "-----BEGIN PRIVATE KEY-----", 27));
	assert_int_equal(strlen(k[0].public_key), 392);   /* RSA-2048 SubjectPublicKeyInfo */
	assert_int_equal(strlen(k[1].public_key), 44);    /* 32 raw bytes */
	assert_int_equal(dkim_next_generation(k, 2), 4);
	assert_int_equal(dkim_parse_generation("hm12"), 12);
	assert_int_equal(dkim_parse_generation("hm2-rsa"), 2);
	assert_int_equal(dkim_parse_generation("hm2-ed25519"), 2);
	assert_int_equal(dkim_parse_generation("hm0"), -1);
	assert_int_equal(dkim_parse_generation("hm2-dsa"), -1);
	assert_int_equal(dkim_parse_generation("x1"), -1);
	OPENSSL_cleanse(k, sizeof k);
}

static void test_add_list(void **state)
{
	struct store *st = STORE(state);
	struct got *g;

	assert_int_equal(list(st, "acme.test", 0)->n, 0);
	add_gen(st, 1, DKIM_ACTIVE);
	g = list(st, "ACME.test", 0);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->k[0].selector, "hm1-rsa");
	assert_string_equal(g->k[1].selector, "hm1-ed25519");
	assert_int_equal(g->k[0].state, DKIM_ACTIVE);
	assert_string_equal(g->k[0].private_key, "");      /* not asked for */
	assert_true(g->k[0].public_key[0] != '\0');
	g = list(st, "acme.test", 1);
	assert_true(!strncmp(g->k[0].private_key, "-----BEGIN PRIVATE KEY-----", 27));
	assert_int_equal(g->k[1].alg, DKIM_ALG_ED25519);
	assert_int_equal(list(st, "other.test", 1)->n, 0);
}

static void test_add_refused(void **state)
{
	struct store *st = STORE(state);
	struct dkim_key k[2];
	char err[256];

	assert_int_equal(dkim_keys_generate(1, DKIM_ACTIVE, k, err, sizeof err), 0);
	assert_int_equal(store_dkim_add(st, "nowhere.test", k, 2, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_dkim_add(st, "acme.test", k, 2, err, sizeof err), 0);
	/* the same selectors again: refused whole, nothing half-added */
	k[1].generation = 2;
	snprintf(k[1].selector, sizeof k[1].selector, "hm2-ed25519");
	assert_int_equal(store_dkim_add(st, "acme.test", k, 2, err, sizeof err), STORE_EEXIST);
	assert_int_equal(list(st, "acme.test", 0)->n, 2);
	snprintf(k[0].selector, sizeof k[0].selector, "bad selector");
	assert_int_equal(store_dkim_add(st, "acme.test", k, 1, err, sizeof err), STORE_EINVAL);
	OPENSSL_cleanse(k, sizeof k);
}

static void test_activate(void **state)
{
	struct store *st = STORE(state);
	char err[256];
	struct got *g;

	add_gen(st, 1, DKIM_ACTIVE);
	add_gen(st, 2, DKIM_PENDING);
	assert_int_equal(store_dkim_activate(st, "acme.test", 3, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_dkim_activate(st, "acme.test", 1, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_dkim_activate(st, "nowhere.test", 2, err, sizeof err), STORE_ENOTFOUND);
	assert_int_equal(store_dkim_activate(st, "acme.test", 2, err, sizeof err), 0);
	g = list(st, "acme.test", 0);
	assert_int_equal(g->n, 4);
	assert_int_equal(g->k[0].state, DKIM_RETIRED);
	assert_int_equal(g->k[1].state, DKIM_RETIRED);
	assert_int_equal(g->k[2].state, DKIM_ACTIVE);
	assert_int_equal(g->k[3].state, DKIM_ACTIVE);
	/* activated once only */
	assert_int_equal(store_dkim_activate(st, "acme.test", 2, err, sizeof err), STORE_ENOTFOUND);
}

static void test_other_node_and_removal(void **state)
{
	struct tstore *t = *state;
	struct store *other;
	char err[256];

	add_gen(t->st, 1, DKIM_ACTIVE);
	other = tstore_open(t);
	assert_non_null(other);
	assert_int_equal(list(other, "acme.test", 1)->n, 2);
	store_close(other);
	assert_int_equal(store_domain_remove(t->st, "acme.test", err, sizeof err), 0);
	assert_int_equal(store_domain_add(t->st, "acme", "acme.test", err, sizeof err), 0);
	assert_int_equal(list(t->st, "acme.test", 0)->n, 0);   /* the old keys went with it */
}

/* A store of schema version 2 (before DKIM keys) is upgraded to 3, its
 * domains kept, and takes keys. */
static void test_upgrade_from_version_2(void **state)
{
	struct tstore *t = *state;
	char err[256], path[600];
	int from = -1, to = -1;
	sqlite3 *db;

	store_close(t->st);
	t->st = NULL;
	if (t->pg) {
		assert_int_equal(tstore_pg_exec("DROP TABLE dkim_keys, aliases, catchalls, account_contacts,"
		                                " vacations, vacation_replies, domain_spam, nodes, account_moves;"
		                                "DROP INDEX accounts_server_number;"
		                                "ALTER TABLE mailboxes DROP COLUMN quota_bytes, DROP COLUMN quota_messages;"
		                                "ALTER TABLE accounts DROP COLUMN mailbox_quota_bytes,"
		                                " DROP COLUMN mailbox_quota_messages;"
		                                "DELETE FROM schema_version WHERE version >= 3"), 0);
	} else {
		snprintf(path, sizeof path, "%s/hostmail.db", t->dir);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "DROP TABLE dkim_keys; DROP TABLE aliases; DROP TABLE catchalls;"
		                              "DROP TABLE account_contacts; DROP TABLE vacations; DROP TABLE vacation_replies;"
		                              "DROP TABLE domain_spam; DROP TABLE nodes; DROP TABLE account_moves;"
		                              "DROP INDEX accounts_server_number;"
		                              "ALTER TABLE mailboxes DROP COLUMN quota_bytes;"
		                              "ALTER TABLE mailboxes DROP COLUMN quota_messages;"
		                              "ALTER TABLE accounts DROP COLUMN mailbox_quota_bytes;"
		                              "ALTER TABLE accounts DROP COLUMN mailbox_quota_messages;"
		                              "DELETE FROM schema_version WHERE version >= 3;"
		                              "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(store_schema_init(&t->cfg, &from, &to, err, sizeof err), 0);
	assert_int_equal(from, 2);
	assert_int_equal(to, STORE_SCHEMA_VERSION);
	assert_non_null(t->st = store_open(&t->cfg, err, sizeof err));
	assert_int_equal(list(t->st, "acme.test", 0)->n, 0);
	add_gen(t->st, 1, DKIM_ACTIVE);
	assert_int_equal(list(t->st, "acme.test", 0)->n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate),
		cmocka_unit_test_setup_teardown(test_add_list, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_add_refused, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_activate, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_other_node_and_removal, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_2, setup, tstore_teardown),
	};
	return tstore_run_groups("store dkim", tests);
}
