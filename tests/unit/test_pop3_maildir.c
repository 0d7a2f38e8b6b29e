/*
 * test_pop3_maildir: the POP3 snapshot of a Maildir. new/ moves to cur/
 * with ":2,", cur/ is kept, dot files and directories are ignored, the
 * order is delivery order, sizes come from W= (or are measured), UIDLs
 * are the base names (stable across flag changes, hashed when too long),
 * and commit unlinks only the messages marked deleted. Sized names are
 * never opened; odd names, unmovable files and messages renamed by
 * another client still work.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pop3/pop3_maildir.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int setup(void **state)
{
	char *d = strdup("/tmp/hm-pop3md-XXXXXX"), p[PATH_MAX];

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	for (const char *const *s = (const char *const[]){ "tmp", "new", "cur", NULL }; *s; s++) {
		snprintf(p, sizeof p, "%s/%s", d, *s);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void put(const char *md, const char *sub, const char *name, const char *content)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s/%s", md, sub, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static int exists(const char *md, const char *sub, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s/%s", md, sub, name);
	return stat(p, &st) == 0;
}

static int count(const char *md, const char *sub)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof p, "%s/%s", md, sub);
	assert_non_null(d = opendir(p));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_snapshot(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char uid[POP3_UIDL_MAX + 1];

	/* W= sizes are trusted (deliberately not the real size here) */
	put(md, "new", "1700000002.M5P9Q1.host,S=10,W=12", "0123456789");
	put(md, "new", "1700000001.M900000P9Q0.host,S=5,W=6", "abcd\n");
	put(md, "cur", "1700000001.M10P9Q0.host,S=3,W=4:2,S", "ab\n");
	put(md, "cur", ".hidden", "x");
	/* no W=: measured, every LF counted twice */
	put(md, "new", "1700000003.M1P9Q2.other", "a\nb\n\n");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 4);
	assert_int_equal(count(md, "new"), 0);
	assert_int_equal(count(md, "cur"), 4);
	assert_true(exists(md, "cur", "1700000002.M5P9Q1.host,S=10,W=12:2,"));
	/* delivery order: seconds, then microseconds */
	assert_string_equal(mb.msgs[0].name, "1700000001.M10P9Q0.host,S=3,W=4:2,S");
	assert_string_equal(mb.msgs[1].name, "1700000001.M900000P9Q0.host,S=5,W=6:2,");
	assert_string_equal(mb.msgs[2].name, "1700000002.M5P9Q1.host,S=10,W=12:2,");
	assert_string_equal(mb.msgs[3].name, "1700000003.M1P9Q2.other:2,");
	assert_int_equal(mb.msgs[0].size, 4);
	assert_int_equal(mb.msgs[1].size, 6);
	assert_int_equal(mb.msgs[2].size, 12);
	assert_int_equal(mb.msgs[3].size, 8);
	pop3_uidl(mb.msgs[0].name, uid);
	assert_string_equal(uid, "1700000001.M10P9Q0.host,S=3,W=4");
	pop3_mailbox_free(&mb);

	/* a second snapshot: same messages, same order and UIDLs */
	put(md, "new", "1700000004.M1P9Q3.host,S=1,W=1", "x");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 5);
	assert_string_equal(mb.msgs[2].name, "1700000002.M5P9Q1.host,S=10,W=12:2,");
	assert_string_equal(mb.msgs[4].name, "1700000004.M1P9Q3.host,S=1,W=1:2,");
	pop3_mailbox_free(&mb);
}

static void test_commit(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char path[PATH_MAX];

	put(md, "new", "1.M1P1Q1.h,S=1,W=1", "a");
	put(md, "new", "2.M1P1Q1.h,S=1,W=1", "b");
	put(md, "new", "3.M1P1Q1.h,S=1,W=1", "c");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 3);
	assert_int_equal(pop3_mailbox_commit(&mb), 0);   /* nothing marked: nothing removed */
	assert_int_equal(count(md, "cur"), 3);
	mb.msgs[0].deleted = 1;
	mb.msgs[2].deleted = 1;
	/* one of them vanished meanwhile (another client): still a success */
	assert_int_equal(pop3_msg_path(&mb, &mb.msgs[2], path, sizeof path), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pop3_mailbox_commit(&mb), 0);
	assert_int_equal(count(md, "cur"), 1);
	assert_true(exists(md, "cur", "2.M1P1Q1.h,S=1,W=1:2,"));
	pop3_mailbox_free(&mb);
}

static void test_missing_maildir(void **state)
{
	struct pop3_mailbox mb;
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/nonexistent", (char *)*state);
	assert_int_equal(pop3_mailbox_open(p, &mb), -1);
	assert_null(mb.msgs);
	assert_null(mb.path);
}

static void test_uidl(void **state)
{
	char uid[POP3_UIDL_MAX + 1], uid2[POP3_UIDL_MAX + 1], name[300];

	(void)state;
	pop3_uidl("123.M4P5Q6.host,S=1,W=2:2,S", uid);
	assert_string_equal(uid, "123.M4P5Q6.host,S=1,W=2");
	pop3_uidl("123.M4P5Q6.host,S=1,W=2", uid2);
	assert_string_equal(uid, uid2);
	/* too long: a 40-character hex digest, the same whatever the flags */
	memset(name, 'h', 100);
	snprintf(name + 100, sizeof name - 100, ":2,S");
	pop3_uidl(name, uid);
	assert_int_equal(strlen(uid), 40);
	name[100] = '\0';
	pop3_uidl(name, uid2);
	assert_string_equal(uid, uid2);
	/* exactly 70 characters is still the name itself */
	memset(name, 'x', 70);
	name[70] = '\0';
	pop3_uidl(name, uid);
	assert_string_equal(uid, name);
	/* not printable (a space, a high byte): hashed */
	pop3_uidl("a b", uid);
	assert_int_equal(strlen(uid), 40);
	pop3_uidl("caf\xc3\xa9", uid);
	assert_int_equal(strlen(uid), 40);
	for (size_t i = 0; uid[i]; i++)
		assert_true(uid[i] > 0x20 && uid[i] < 0x7f);
}

static void test_wsize(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(pop3_name_wsize("1.M1P1Q1.h,S=10,W=12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(pop3_name_wsize("1.M1P1Q1.h,W=7,S=5:2,S", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(pop3_name_wsize("1.M1P1Q1.h,S=10", &v), -1);
	assert_int_equal(pop3_name_wsize("1.M1P1Q1.h,W=", &v), -1);
	assert_int_equal(pop3_name_wsize("1.M1P1Q1.h,W=12x", &v), -1);
	/* W= only counts in the base name, not in the flags */
	assert_int_equal(pop3_name_wsize("1.M1P1Q1.h:2,W=5", &v), -1);
	assert_int_equal(pop3_name_wsize("1.h,W=99999999999999999999999", &v), -1);
}

/* Sizes in the name are trusted without opening (or even stat'ing) the
 * file: dangling symlinks with W= names are listed with those sizes. */
static void test_sized_names_not_opened(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/cur/1.M1P1Q1.h,S=10,W=11:2,S", md);
	assert_int_equal(symlink("/nonexistent/a", p), 0);
	snprintf(p, sizeof p, "%s/new/2.M1P1Q1.h,S=20,W=22", md);
	assert_int_equal(symlink("/nonexistent/b", p), 0);
	/* a FIFO without a size: measuring it must not hang; it is left out */
	snprintf(p, sizeof p, "%s/cur/3.M1P1Q1.fifo:2,", md);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 2);
	assert_string_equal(mb.msgs[0].name, "1.M1P1Q1.h,S=10,W=11:2,S");
	assert_int_equal(mb.msgs[0].size, 11);
	assert_string_equal(mb.msgs[1].name, "2.M1P1Q1.h,S=20,W=22:2,");
	assert_int_equal(mb.msgs[1].size, 22);
	pop3_mailbox_free(&mb);
}

/* Names no delivery agent should write still give a usable maildrop. */
static void test_malformed_names(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char name[NAME_MAX + 1], uid[POP3_UIDL_MAX + 1], p[PATH_MAX];

	put(md, "new", "garbage", "a\n");
	put(md, "new", "no digits here,W=x", "bb\n");
	put(md, "cur", ",W=5:2,S", "ccccc");
	put(md, "cur", "1.M1P1Q1.h,W=99999999999999999999999:2,", "d\n");
	put(md, "new", "with space,S=1", "e");
	/* 254 characters: no room for ":2,", moved as it is */
	memset(name, 'n', 254);
	name[254] = '\0';
	memcpy(name, "5.M1P1Q1.h,W=3,", 15);
	put(md, "new", name, "abc");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 6);
	assert_int_equal(mb.unmoved, 0);
	assert_int_equal(count(md, "new"), 0);
	assert_true(exists(md, "cur", name));
	for (size_t i = 0; i < mb.n; i++) {
		pop3_uidl(mb.msgs[i].name, uid);
		assert_true(strlen(uid) >= 1 && strlen(uid) <= POP3_UIDL_MAX);
		for (size_t k = 0; uid[k]; k++)
			assert_true(uid[k] > 0x20 && uid[k] < 0x7f);
		assert_int_equal(pop3_msg_path(&mb, &mb.msgs[i], p, sizeof p), 0);
		if (strcmp(mb.msgs[i].name, ",W=5:2,S") == 0)
			assert_int_equal(mb.msgs[i].size, 5);          /* W= trusted */
		else if (strcmp(mb.msgs[i].name, name) == 0)
			assert_int_equal(mb.msgs[i].size, 3);
		else if (strncmp(mb.msgs[i].name, "garbage", 7) == 0)
			assert_int_equal(mb.msgs[i].size, 3);          /* measured */
		else if (strncmp(mb.msgs[i].name, "1.M1P1Q1.h,W=9", 14) == 0)
			assert_int_equal(mb.msgs[i].size, 3);          /* W= overflows: measured */
	}
	pop3_mailbox_free(&mb);
}

/* A message that cannot be moved to cur/ is served from new/. */
static void test_unmovable_served_from_new(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char p[PATH_MAX];

	put(md, "new", "1.M1P1Q1.h,S=2,W=3", "x\n");
	/* a directory in the way of the rename */
	snprintf(p, sizeof p, "%s/cur/1.M1P1Q1.h,S=2,W=3:2,", md);
	assert_int_equal(mkdir(p, 0700), 0);
	put(p, "", "block", "x");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 1);
	assert_int_equal(mb.unmoved, 1);
	assert_true(mb.msgs[0].in_new);
	assert_int_equal(pop3_msg_path(&mb, &mb.msgs[0], p, sizeof p), 0);
	assert_non_null(strstr(p, "/new/1.M1P1Q1.h,S=2,W=3"));
	mb.msgs[0].deleted = 1;
	assert_int_equal(pop3_mailbox_commit(&mb), 0);
	assert_int_equal(count(md, "new"), 0);
	pop3_mailbox_free(&mb);

	/* a file already there is never overwritten: both messages stay */
	put(md, "cur", "2.M1P1Q1.h,S=4,W=5:2,", "old\n");
	put(md, "new", "2.M1P1Q1.h,S=4,W=5:2,", "new\n");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 2);
	assert_int_equal(mb.unmoved, 1);
	assert_int_equal(count(md, "new"), 1);
	pop3_mailbox_free(&mb);
}

/* Another client changed a message's flags (renamed it) during the
 * session: it is found again by its base name, and DELE still removes it. */
static void test_renamed_by_another_client(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char from[PATH_MAX], to[PATH_MAX], *found;

	put(md, "new", "1.M1P1Q1.h,S=1,W=1", "a");
	put(md, "new", "1.M1P1Q10.h,S=1,W=1", "b");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 2);
	assert_string_equal(mb.msgs[0].name, "1.M1P1Q1.h,S=1,W=1:2,");
	snprintf(from, sizeof from, "%s/cur/1.M1P1Q1.h,S=1,W=1:2,", md);
	snprintf(to, sizeof to, "%s/cur/1.M1P1Q1.h,S=1,W=1:2,RS", md);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(pop3_msg_find(&mb, &mb.msgs[0], &found), 0);
	assert_string_equal(found, "1.M1P1Q1.h,S=1,W=1:2,RS");
	free(found);
	mb.msgs[0].deleted = 1;
	assert_int_equal(pop3_mailbox_commit(&mb), 0);
	assert_int_equal(count(md, "cur"), 1);
	assert_true(exists(md, "cur", "1.M1P1Q10.h,S=1,W=1:2,"));
	/* really gone: ENOENT */
	assert_int_equal(pop3_msg_find(&mb, &mb.msgs[0], &found), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(found);
	pop3_mailbox_free(&mb);
}

/* A file in tmp/ older than 36 hours is a delivery that died: removed at
 * login; a younger one may be a delivery in progress: kept. */
static void test_stale_tmp_removed(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	struct timeval old[2] = { { time(NULL) - 37 * 3600, 0 }, { time(NULL) - 37 * 3600, 0 } };
	char p[PATH_MAX];

	put(md, "tmp", "1.dead.host", "half a mess");
	put(md, "tmp", "2.writing.host", "in progress");
	snprintf(p, sizeof p, "%s/tmp/1.dead.host", md);
	assert_int_equal(utimes(p, old), 0);
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.tmp_removed, 1);
	assert_int_equal(mb.n, 0);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/tmp/2.writing.host", md);
	assert_int_equal(access(p, F_OK), 0);
	pop3_mailbox_free(&mb);
}

/* RFC 1939: unique-ids are unique in the maildrop, even when two files
 * share a base name (a copy with other flags; a new/ message whose name
 * cur/ already holds). The earlier keeps its base name, every later one
 * gets a digest of its whole name, and both are served. */
static void test_duplicate_base_names_get_distinct_uidls(void **state)
{
	const char *md = *state;
	struct pop3_mailbox mb;
	char u[3][POP3_UIDL_MAX + 1];

	put(md, "cur", "100.M1P1.h,S=2,W=3:2,", "a\n");
	put(md, "cur", "100.M1P1.h,S=2,W=3:2,S", "b\n");
	put(md, "cur", "200.M1P1.h,S=2,W=3:2,", "c\n");
	put(md, "new", "200.M1P1.h,S=2,W=3", "d\n");
	assert_int_equal(pop3_mailbox_open(md, &mb), 0);
	assert_int_equal(mb.n, 4);
	assert_int_equal(mb.unmoved, 1);
	pop3_msg_uidl(&mb.msgs[0], u[0]);
	pop3_msg_uidl(&mb.msgs[1], u[1]);
	assert_string_equal(u[0], "100.M1P1.h,S=2,W=3");
	assert_int_equal(strlen(u[1]), 40);
	pop3_msg_uidl(&mb.msgs[2], u[0]);
	pop3_msg_uidl(&mb.msgs[3], u[2]);
	assert_string_not_equal(u[0], u[2]);
	assert_true(strcmp(u[0], "200.M1P1.h,S=2,W=3") == 0 || strcmp(u[2], "200.M1P1.h,S=2,W=3") == 0);
	assert_string_not_equal(u[1], u[0]);
	assert_string_not_equal(u[1], u[2]);
	pop3_mailbox_free(&mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_maildir, setup, teardown),
		cmocka_unit_test(test_uidl),
		cmocka_unit_test(test_wsize),
		cmocka_unit_test_setup_teardown(test_sized_names_not_opened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmovable_served_from_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renamed_by_another_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_tmp_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_base_names_get_distinct_uidls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
