/*
 * test_maildir: delivered bytes are exact (CRLF -> LF, bare CR/LF kept,
 * headers first, also across the 64 KiB chunk boundary), S= and W= match
 * the file, tmp/ is left empty, and a failed delivery leaves nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tmpdir.h"

#include "delivery/maildir.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
	char *d = tmpdir_make("maildir");

	*state = d;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_teardown(state);
}

static void write_file(const char *path, const char *p, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Number of entries in dir; the name of the last one into name (if not NULL). */
static int entries(const char *dir, char *name, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (name)
			snprintf(name, len, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

static char *read_all(const char *path, size_t *n)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_non_null(p = malloc((size_t)st.st_size + 1));
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

/* The reference conversion, on the whole message in memory. */
static size_t expect(const char *hdr, const char *in, size_t n, char *out)
{
	size_t o = strlen(hdr);

	memcpy(out, hdr, o);
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			continue;
		out[o++] = in[i];
	}
	return o;
}

/* Deliver msg (n bytes) to bob@example.org and check the stored file
 * exactly. The message sits inside a queue file as in a version 2
 * envelope: a line before it, the envelope header after it; neither may
 * leak into the delivered copy. */
static void deliver_and_check(const char *dir, const char *sender, const char *hdr,
                              const char *msg, size_t n)
{
	char qf[PATH_MAX], md[PATH_MAX], sub[PATH_MAX + 8], name[NAME_MAX + 1], path[PATH_MAX * 2];
	char *want = malloc(strlen(hdr) + n), *got, *s, *w;
	size_t wn, gn, lfs = 0;
	unsigned long long S, W;
	struct stat st;

	assert_non_null(want);
	static const char before[] = "V 2 00000000000000000000\n", after[] = "I 0\nE\nD 0\n";
	char *qbytes = malloc(sizeof before - 1 + n + sizeof after - 1);

	assert_non_null(qbytes);
	memcpy(qbytes, before, sizeof before - 1);
	memcpy(qbytes + sizeof before - 1, msg, n);
	memcpy(qbytes + sizeof before - 1 + n, after, sizeof after - 1);
	snprintf(qf, sizeof qf, "%s/queued", dir);
	write_file(qf, qbytes, sizeof before - 1 + n + sizeof after - 1);
	free(qbytes);
	assert_int_equal(maildir_deliver(dir, "bob", "example.org", sender, qf, sizeof before - 1, n), 0);

	assert_int_equal(maildir_create(dir, "bob", "example.org", md, sizeof md), 0);
	snprintf(sub, sizeof sub, "%s/tmp", md);
	assert_int_equal(entries(sub, NULL, 0), 0);
	snprintf(sub, sizeof sub, "%s/new", md);
	assert_int_equal(entries(sub, name, sizeof name), 1);
	snprintf(path, sizeof path, "%s/%s", sub, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	got = read_all(path, &gn);

	wn = expect(hdr, msg, n, want);
	assert_int_equal(gn, wn);
	assert_memory_equal(got, want, wn);

	/* "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<size with CRLF>" */
	assert_non_null(strstr(name, ".M"));
	assert_non_null(strchr(name, 'P'));
	assert_null(strchr(name, ':'));
	assert_non_null(s = strstr(name, ",S="));
	assert_non_null(w = strstr(name, ",W="));
	S = strtoull(s + 3, NULL, 10);
	W = strtoull(w + 3, NULL, 10);
	for (size_t i = 0; i < gn; i++)
		lfs += got[i] == '\n';
	assert_int_equal(S, gn);
	assert_int_equal(W, gn + lfs);
	assert_int_equal(unlink(path), 0);
	free(got);
	free(want);
}

static void test_small_message(void **state)
{
	static const char msg[] = "Subject: hi\r\n\r\nline1\r\nbare\rCR and bare\nLF\r\n\r\n.end\r";

	deliver_and_check(*state, "alice@example.com",
	                  "Return-Path: <alice@example.com>\nDelivered-To: bob@example.org\n",
	                  msg, sizeof msg - 1);
}

static void test_null_sender_empty_message(void **state)
{
	deliver_and_check(*state, "", "Return-Path: <>\nDelivered-To: bob@example.org\n", "", 0);
}

/* CRLF pairs and a lone CR exactly on the 64 KiB read boundaries. */
static void test_chunk_boundaries(void **state)
{
	size_t n = 3 * 65536 + 100;
	char *msg = malloc(n);

	assert_non_null(msg);
	for (size_t i = 0; i < n; i++)
		msg[i] = (char)('a' + i % 26);
	for (size_t i = 76; i + 1 < n; i += 78) {
		msg[i] = '\r';
		msg[i + 1] = '\n';
	}
	msg[65535] = '\r';       /* CR | LF split by the chunk edge */
	msg[65536] = '\n';
	msg[2 * 65536 - 1] = '\r'; /* CR | x: the CR stays */
	msg[2 * 65536] = 'x';
	msg[n - 1] = '\r';       /* CR at end of file stays */
	deliver_and_check(*state, "a@b", "Return-Path: <a@b>\nDelivered-To: bob@example.org\n", msg, n);
	free(msg);
}

static void test_failure_leaves_nothing(void **state)
{
	char md[PATH_MAX], sub[PATH_MAX + 8], qf[PATH_MAX];

	errno = 0;
	snprintf(qf, sizeof qf, "%s/no-such-file", (char *)*state);
	assert_int_equal(maildir_deliver(*state, "bob", "example.org", "a@b", qf, 0, 10), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(maildir_create(*state, "bob", "example.org", md, sizeof md), 0);
	snprintf(sub, sizeof sub, "%s/new", md);
	assert_int_equal(entries(sub, NULL, 0), 0);
	snprintf(sub, sizeof sub, "%s/tmp", md);
	assert_int_equal(entries(sub, NULL, 0), 0);

	/* a directory as the message: read fails mid-delivery, after tmp file creation */
	assert_int_equal(maildir_deliver(*state, "bob", "example.org", "a@b", *state, 0, 10), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(entries(sub, NULL, 0), 0);
	snprintf(sub, sizeof sub, "%s/new", md);
	assert_int_equal(entries(sub, NULL, 0), 0);
}

static void test_refuses_bad_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", ".hidden", "a/b", "../x" };
	char md[PATH_MAX], qf[PATH_MAX];

	snprintf(qf, sizeof qf, "%s/queued", (char *)*state);
	write_file(qf, "x\r\n", 3);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(maildir_create(*state, bad[i], "example.org", md, sizeof md), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(maildir_deliver(*state, "bob", bad[i], "a@b", qf, 0, 3), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* a sender that would forge a header line */
	assert_int_equal(maildir_deliver(*state, "bob", "example.org", "a@b>\r\nX-Evil: 1", qf, 0, 3), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_create_layout(void **state)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char md[PATH_MAX], p[PATH_MAX + 8], want[PATH_MAX];
	struct stat st;

	assert_int_equal(maildir_create(*state, "bob", "example.org", md, sizeof md), 0);
	snprintf(want, sizeof want, "%s/mail/example.org/bob", (char *)*state);
	assert_string_equal(md, want);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", md, subs[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 077, 0);
	}
	/* idempotent */
	assert_int_equal(maildir_create(*state, "bob", "example.org", md, sizeof md), 0);
	/* too small an output buffer */
	assert_int_equal(maildir_create(*state, "bob", "example.org", md, 8), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_small_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sender_empty_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunk_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_layout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
