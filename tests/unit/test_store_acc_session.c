/* Unit tests for ACC sessions in the store (store/store_acc_session.h),
 * on both backends (store_backends.h): ids and tokens, idle and absolute
 * expiry, flash messages, logout, ending an account's sessions (by call,
 * by a new ACC password, by suspension, by removal), the per-account cap,
 * sessions seen from a second store, and that only SHA-256 of an id is
 * kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include "store/store_acc_session.h"
#include "store_backends.h"

#define IDLE 1800
#define LIFE 43200
#define T0 ((time_t)1767225600)

static int setup(void **state)
{
	struct tstore *t;
	char err[256];

	if (tstore_setup(state) < 0)
		return -1;
	t = *state;
	return store_account_add(t->st, "acme", NULL, 1, err, sizeof err) ||
	       store_account_add(t->st, "other", NULL, 1, err, sizeof err) ? -1 : 0;
}

#define STORE(state) (((struct tstore *)*(state))->st)

static int hexstr(const char *s)
{
	return strlen(s) == STORE_SESSION_ID_LEN && strspn(s, "0123456789abcdef") == STORE_SESSION_ID_LEN;
}

static void test_create_find(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a, b, f;

	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_create(st, "other", T0, 10, &b), 0);
	assert_true(hexstr(a.id) && hexstr(a.csrf));
	assert_string_not_equal(a.id, b.id);
	assert_string_not_equal(a.id, a.csrf);
	assert_string_equal(a.account, "acme");
	assert_int_equal(a.created, T0);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + 5, IDLE, LIFE, &f), 0);
	assert_string_equal(f.id, a.id);
	assert_string_equal(f.csrf, a.csrf);
	assert_string_equal(f.account, "acme");
	assert_int_equal(f.created, T0);
	assert_int_equal(f.last, T0 + 5);
	assert_string_equal(f.flash, "");
	assert_int_equal(store_acc_session_find(st, b.id, T0 + 5, IDLE, LIFE, &f), 0);
	assert_string_equal(f.account, "other");
	/* a CSRF token, a malformed or an unknown id is no session */
	assert_int_equal(store_acc_session_find(st, a.csrf, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, "", T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, NULL, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, "' OR 1=1 --", T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	a.id[0] = a.id[0] == 'a' ? 'b' : 'a';
	assert_int_equal(store_acc_session_find(st, a.id, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_create(st, "nobody", T0, 10, &a), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_create(st, "Bad Name", T0, 10, &a), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_create(st, "acme", T0, 0, &a), STORE_EINVAL);
}

static void test_expiry(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a, f;
	time_t t;

	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	/* used every 20 minutes it lives until its lifetime, not longer */
	for (t = T0 + 1200; t < T0 + LIFE; t += 1200)
		assert_int_equal(store_acc_session_find(st, a.id, t, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + LIFE, IDLE, LIFE, &f), STORE_ENOTFOUND);
	/* idle too long: ended (and gone, even for a later, earlier-dated look) */
	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + IDLE - 1, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + 2 * IDLE, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + IDLE, IDLE, LIFE, &f), STORE_ENOTFOUND);
	/* a clock that went back before the session was made */
	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0 - 10, IDLE, LIFE, &f), STORE_ENOTFOUND);
}

static void test_flash(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a, f;
	char msg[STORE_SESSION_FLASH_MAX + 100];
	int error = -1;

	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_take_flash(st, a.id, msg, sizeof msg, &error), 0);
	assert_string_equal(msg, "");
	assert_int_equal(error, 0);
	assert_int_equal(store_acc_session_set_flash(st, a.id, 1, "The mailbox bob@acme.test could not be removed."), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + 1, IDLE, LIFE, &f), 0);
	assert_string_equal(f.flash, "The mailbox bob@acme.test could not be removed.");
	assert_int_equal(f.flash_error, 1);
	assert_int_equal(store_acc_session_take_flash(st, a.id, msg, sizeof msg, &error), 0);
	assert_string_equal(msg, "The mailbox bob@acme.test could not be removed.");
	assert_int_equal(error, 1);
	assert_int_equal(store_acc_session_take_flash(st, a.id, msg, sizeof msg, &error), 0);
	assert_string_equal(msg, "");
	/* cut at the limit; quotes are data */
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	msg[0] = '\'';
	assert_int_equal(store_acc_session_set_flash(st, a.id, 0, msg), 0);
	assert_int_equal(store_acc_session_take_flash(st, a.id, msg, sizeof msg, &error), 0);
	assert_int_equal(strlen(msg), STORE_SESSION_FLASH_MAX - 1);
	assert_int_equal(msg[0], '\'');
	assert_int_equal(error, 0);
	assert_int_equal(store_acc_session_set_flash(st, a.csrf, 0, "x"), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_take_flash(st, a.csrf, msg, sizeof msg, &error), STORE_ENOTFOUND);
}

static void test_end(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a[3], b, f;
	int i;

	for (i = 0; i < 3; i++)
		assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a[i]), 0);
	assert_int_equal(store_acc_session_create(st, "other", T0, 10, &b), 0);
	assert_int_equal(store_acc_session_end(st, a[0].id), 0);
	assert_int_equal(store_acc_session_end(st, a[0].id), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, a[0].id, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	/* all of acme's but the one making the change; never other's */
	assert_int_equal(store_acc_session_end_account(st, "acme", a[2].id), 1);
	assert_int_equal(store_acc_session_find(st, a[1].id, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, a[2].id, T0, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_find(st, b.id, T0, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_end_account(st, "acme", NULL), 1);
	assert_int_equal(store_acc_session_end_account(st, "acme", NULL), 0);
	assert_int_equal(store_acc_session_end_account(st, "nobody", NULL), 0);
	assert_int_equal(store_acc_session_find(st, b.id, T0, IDLE, LIFE, &f), 0);
}

/* A new ACC password, suspension and removal end the account's sessions. */
static void test_password_suspension_removal(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a, b, f;
	char err[256];

	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_create(st, "other", T0, 10, &b), 0);
	assert_int_equal(store_account_set_password(st, "acme", "$y$new", err, sizeof err), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, b.id, T0, IDLE, LIFE, &f), 0);
	/* the person who changed it logs in again */
	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_account_set_suspended(st, "acme", 0, err, sizeof err), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0, IDLE, LIFE, &f), 0);   /* resume: kept */
	assert_int_equal(store_account_set_suspended(st, "acme", 1, err, sizeof err), 0);
	assert_int_equal(store_acc_session_find(st, a.id, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, b.id, T0, IDLE, LIFE, &f), 0);
	assert_int_equal(store_account_remove(st, "other", err, sizeof err), 0);
	assert_int_equal(store_acc_session_find(st, b.id, T0, IDLE, LIFE, &f), STORE_ENOTFOUND);
}

/* At the cap, an account's least recently used session ends: its own. */
static void test_cap_per_account(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a[4], b, f;
	int i;

	assert_int_equal(store_acc_session_create(st, "other", T0, 3, &b), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(store_acc_session_create(st, "acme", T0 + i, 3, &a[i]), 0);
	/* a[0] used last: a[1] is now the least recently used */
	assert_int_equal(store_acc_session_find(st, a[0].id, T0 + 10, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_create(st, "acme", T0 + 11, 3, &a[3]), 0);
	assert_int_equal(store_acc_session_find(st, a[1].id, T0 + 12, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, a[0].id, T0 + 12, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_find(st, a[2].id, T0 + 12, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_find(st, a[3].id, T0 + 12, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_find(st, b.id, T0 + 12, IDLE, LIFE, &f), 0);
	/* a cap of 1: only the new one */
	assert_int_equal(store_acc_session_create(st, "acme", T0 + 13, 1, &a[1]), 0);
	assert_int_equal(store_acc_session_end_account(st, "acme", a[1].id), 0);
}

static void test_purge(void **state)
{
	struct store *st = STORE(state);
	struct store_acc_session a, b, c, f;

	assert_int_equal(store_acc_session_create(st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_create(st, "acme", T0 + IDLE, 10, &b), 0);
	assert_int_equal(store_acc_session_create(st, "other", T0 + IDLE + 100, 10, &c), 0);
	/* a idle too long; c, made "later", is from the future at this time */
	assert_int_equal(store_acc_session_purge(st, T0 + IDLE + 10, IDLE, LIFE), 2);
	assert_int_equal(store_acc_session_find(st, a.id, T0 + IDLE + 10, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, c.id, T0 + IDLE + 200, IDLE, LIFE, &f), STORE_ENOTFOUND);
	assert_int_equal(store_acc_session_find(st, b.id, T0 + IDLE + 10, IDLE, LIFE, &f), 0);
	assert_int_equal(store_acc_session_purge(st, T0 + IDLE + 20, IDLE, LIFE), 0);
	assert_int_equal(store_acc_session_purge(st, T0 + 10 * LIFE, IDLE, LIFE), 1);
	assert_int_equal(store_acc_session_purge(st, T0 + 10 * LIFE, IDLE, LIFE), 0);
}

/* A login made through one store (node) is valid through another. */
static void test_seen_by_second_store(void **state)
{
	struct tstore *t = *state;
	struct store *other = tstore_open(t);
	struct store_acc_session a, f;

	assert_non_null(other);
	assert_int_equal(store_acc_session_create(t->st, "acme", T0, 10, &a), 0);
	assert_int_equal(store_acc_session_set_flash(t->st, a.id, 0, "saved"), 0);
	assert_int_equal(store_acc_session_find(other, a.id, T0 + 1, IDLE, LIFE, &f), 0);
	assert_string_equal(f.csrf, a.csrf);
	assert_string_equal(f.flash, "saved");
	assert_int_equal(store_acc_session_end(other, a.id), 0);
	assert_int_equal(store_acc_session_find(t->st, a.id, T0 + 2, IDLE, LIFE, &f), STORE_ENOTFOUND);
	store_close(other);
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	int i;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL), 1);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* How many acc_sessions rows have id_hash = h, read past the store. */
static long long rows_with_hash(struct tstore *t, const char *h)
{
	char path[600];
	sqlite3 *db;
	sqlite3_stmt *s;
	long long n = -1;

	if (t->pg)
		return tstore_pg_int("SELECT count(*) FROM acc_sessions WHERE id_hash = $1", h);
	snprintf(path, sizeof path, "%s/hostmail.db", t->dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM acc_sessions WHERE id_hash = ?", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, h, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return n;
}

/* The database holds SHA-256(id), never the id. */
static void test_only_hash_stored(void **state)
{
	struct tstore *t = *state;
	struct store_acc_session a;
	char h[65];

	assert_int_equal(store_acc_session_create(t->st, "acme", T0, 10, &a), 0);
	sha256_hex(a.id, h);
	assert_int_equal(rows_with_hash(t, h), 1);
	assert_int_equal(rows_with_hash(t, a.id), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_find, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_flash, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_end, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_password_suspension_removal, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_cap_per_account, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_seen_by_second_store, setup, tstore_teardown),
		cmocka_unit_test_setup_teardown(test_only_hash_stored, setup, tstore_teardown),
	};
	return tstore_run_groups("store acc_session", tests);
}
