/*
 * test_queue: spool -> commit -> load round trip, progress records, torn
 * tails, version check, crash recovery and queue id uniqueness.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tmpdir.h"

#include "queue/queue.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char MSG[] = "Received: from x\r\nSubject: hi\r\n\r\nbody\r\n";

static int setup(void **state)
{
	char *d = tmpdir_make("queue");

	assert_int_equal(queue_init(d), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_teardown(state);
}

static void path_of(char *out, const char *q, const char *sub, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s/%s", q, sub, name);
}

static int count_entries(const char *q, const char *sub)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof dir, "%s/%s", q, sub);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void append_raw(const char *q, const char *id, const char *s)
{
	char p[PATH_MAX];
	int fd;

	path_of(p, q, "env", id);
	assert_true((fd = open(p, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* Spool MSG with nrcpt recipients r0@example.org... and commit; id into id. */
static void commit_one(const char *q, size_t nrcpt, const char *sender, const char *helo, char *id)
{
	struct envelope env;
	struct spool *sp = spool_begin(q);

	assert_non_null(sp);
	assert_int_equal(spool_write(sp, MSG, 10), 0);
	assert_int_equal(spool_write(sp, MSG + 10, sizeof MSG - 1 - 10), 0);
	assert_int_equal(spool_size(sp), sizeof MSG - 1);
	memset(&env, 0, sizeof env);
	env.arrival = 1700000000;
	snprintf(env.sender, sizeof env.sender, "%s", sender);
	snprintf(env.client_ip, sizeof env.client_ip, "192.0.2.7");
	snprintf(env.helo, sizeof env.helo, "%s", helo);
	snprintf(env.account, sizeof env.account, "acme");
	env.nrcpt = nrcpt;
	assert_non_null(env.rcpt = calloc(nrcpt, sizeof *env.rcpt));
	for (size_t i = 0; i < nrcpt; i++) {
		snprintf(env.rcpt[i].addr, sizeof env.rcpt[i].addr, "r%zu@example.org", i);
		env.rcpt[i].local = (int)(i % 2);
	}
	snprintf(id, QUEUE_ID_LEN + 1, "%s", spool_id(sp));
	assert_int_equal(spool_commit(sp, &env), 0);
	assert_string_equal(env.id, id);
	assert_int_equal(env.size, sizeof MSG - 1);
	envelope_free(&env);
}

static void test_round_trip(void **state)
{
	const char *q = *state;
	char id[QUEUE_ID_LEN + 1], p[PATH_MAX], got[256];
	struct envelope env;
	ssize_t n;
	int fd;

	commit_one(q, 3, "alice@example.com", "client.example.com", id);
	assert_true(queue_id_valid(id));
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_string_equal(env.id, id);
	assert_int_equal(env.arrival, 1700000000);
	assert_string_equal(env.sender, "alice@example.com");
	assert_string_equal(env.client_ip, "192.0.2.7");
	assert_string_equal(env.helo, "client.example.com");
	assert_string_equal(env.account, "acme");
	assert_int_equal(env.size, sizeof MSG - 1);
	assert_int_equal(env.nrcpt, 3);
	for (size_t i = 0; i < 3; i++) {
		snprintf(got, sizeof got, "r%zu@example.org", i);
		assert_string_equal(env.rcpt[i].addr, got);
		assert_int_equal(env.rcpt[i].local, (int)(i % 2));
		assert_int_equal(env.rcpt[i].state, RCPT_PENDING);
		assert_int_equal(env.rcpt[i].attempts, 0);
	}

	/* one file: the version line with the size, the message, the header */
	assert_int_equal(env.msg_in_env, 1);
	assert_int_equal(env.msg_offset, QUEUE_MSG_OFFSET);
	queue_msg_path(q, &env, p, sizeof p);
	assert_non_null(strstr(p, "/env/"));
	assert_true((fd = open(p, O_RDONLY)) >= 0);
	n = read(fd, got, sizeof got);
	close(fd);
	assert_true(n > (ssize_t)(QUEUE_MSG_OFFSET + sizeof MSG - 1));
	assert_memory_equal(got, "V 2 00000000000000000000", QUEUE_MSG_OFFSET - 3);
	assert_memory_equal(got + QUEUE_MSG_OFFSET, MSG, sizeof MSG - 1);
	assert_memory_equal(got + QUEUE_MSG_OFFSET + sizeof MSG - 1, "I ", 2);
	assert_int_equal(count_entries(q, "tmp"), 0);
	assert_int_equal(count_entries(q, "msg"), 0);
	envelope_free(&env);

	assert_int_equal(queue_remove(q, id), 0);
	assert_int_equal(count_entries(q, "env"), 0);
	assert_int_equal(count_entries(q, "msg"), 0);
	assert_int_equal(envelope_load(q, id, &env), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(envelope_mark_done(q, id, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(count_entries(q, "env"), 0);
}

static void test_marks(void **state)
{
	const char *q = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;

	commit_one(q, 4, "", "h", id);
	assert_int_equal(envelope_mark_done(q, id, 0), 0);
	assert_int_equal(envelope_mark_failed(q, id, 1, "550 5.1.1 no such\r\nuser 100%"), 0);
	assert_int_equal(envelope_mark_tempfail(q, id, 2, 1700000300, "451 try later"), 0);
	assert_int_equal(envelope_mark_tempfail(q, id, 2, 1700000900, "421 busy"), 0);
	assert_int_equal(envelope_mark_tempfail(q, id, 3, 1700000300, NULL), 0);
	assert_int_equal(envelope_mark_done(q, id, 3), 0);
	assert_int_equal(envelope_mark_done(q, id, 4), 0); /* no such recipient: ignored on load */
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_string_equal(env.sender, "");
	assert_int_equal(env.rcpt[0].state, RCPT_DONE);
	assert_int_equal(env.rcpt[1].state, RCPT_FAILED);
	assert_string_equal(env.rcpt[1].reason, "550 5.1.1 no such  user 100%");
	assert_int_equal(env.rcpt[2].state, RCPT_PENDING);
	assert_int_equal(env.rcpt[2].attempts, 2);
	assert_int_equal(env.rcpt[2].next_attempt, 1700000900);
	assert_string_equal(env.rcpt[2].reason, "421 busy");
	assert_int_equal(env.rcpt[3].state, RCPT_DONE);
	assert_int_equal(env.rcpt[3].attempts, 2);
	envelope_free(&env);
}

static void test_long_reason_truncated(void **state)
{
	const char *q = *state;
	char id[QUEUE_ID_LEN + 1], reason[2000];
	struct envelope env;

	memset(reason, '%', sizeof reason - 1); /* worst case: every byte encoded */
	reason[sizeof reason - 1] = '\0';
	commit_one(q, 1, "s@x", "h", id);
	assert_int_equal(envelope_mark_failed(q, id, 0, reason), 0);
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_int_equal(strlen(env.rcpt[0].reason), sizeof env.rcpt[0].reason - 1);
	envelope_free(&env);
}

static void test_torn_tail(void **state)
{
	const char *q = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;

	commit_one(q, 13, "s@x", "h", id);
	/* a crash while appending "D 12": only "D 1" reached the disk */
	append_raw(q, id, "D 1");
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_int_equal(env.rcpt[1].state, RCPT_PENDING);
	envelope_free(&env);
	/* the next append cuts the torn record off instead of gluing onto it */
	assert_int_equal(envelope_mark_done(q, id, 5), 0);
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_int_equal(env.rcpt[1].state, RCPT_PENDING);
	assert_int_equal(env.rcpt[5].state, RCPT_DONE);
	envelope_free(&env);
	append_raw(q, id, "T 3 17000");
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_int_equal(env.rcpt[3].attempts, 0);
	envelope_free(&env);
}

static void write_env(const char *q, const char *id, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, q, "env", id);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void test_bad_files(void **state)
{
	const char *q = *state;
	const char *id = "0000000000000000000A";
	struct envelope env;
	char text[512];

	snprintf(text, sizeof text, "V 3\nI %s\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	assert_int_equal(errno, ENOTSUP);
	assert_null(env.rcpt);

	/* version 2: the size must have 20 digits, agree with Z, and the
	 * header must follow the message */
	snprintf(text, sizeof text, "V 2 5\nhelloI %s\nA 1\nS a\nC b\nH c\nU \nZ 5\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	assert_int_equal(errno, EBADMSG);
	snprintf(text, sizeof text, "V 2 00000000000000000005\nhelloI %s\nA 1\nS a\nC b\nH c\nU \nZ 6\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	assert_int_equal(errno, EBADMSG);
	snprintf(text, sizeof text, "V 2 00000000000000000099\nhelloI %s\nA 1\nS a\nC b\nH c\nU \nZ 99\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	assert_int_equal(errno, EBADMSG);
	snprintf(text, sizeof text, "V 2 00000000000000000005\nhelloI %s\nA 1\nS a\nC b\nH c\nU \nZ 5\nN 1\nR L x\nE\nD 0\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_int_equal(env.size, 5);
	assert_int_equal(env.msg_offset, QUEUE_MSG_OFFSET);
	assert_int_equal(env.rcpt[0].state, RCPT_DONE);
	envelope_free(&env);

	/* header cut short (no E): never accepted */
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a\nC b\nH c\nU \nZ 5\nN 1\nR L x@y\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	assert_int_equal(errno, EBADMSG);

	/* too many recipients, raw control byte, bad escape, %00 */
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a\nC b\nH c\nU \nZ 5\nN 100001\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a\tb\nC b\nH c\nU \nZ 5\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a%%4\nC b\nH c\nU \nZ 5\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a%%00\nC b\nH c\nU \nZ 5\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), -1);

	/* the same, well formed, loads */
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a%%20b\nC b\nH c\nU \nZ 5\nN 1\nR L x\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_string_equal(env.sender, "a b");
	envelope_free(&env);

	/* ids that could escape the directory are refused */
	assert_int_equal(envelope_load(q, "../../etc/passwd", &env), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_remove(q, "../x"), -1);
}

static void test_hostile_values(void **state)
{
	const char *q = *state;
	const char *sender = "we ird%41%%@x y";
	const char *helo = "evil\r\nD 0\r\nE\n% \t\x01\x7f\xc3\xa9";
	char id[QUEUE_ID_LEN + 1], p[PATH_MAX], text[4096];
	struct envelope env;
	FILE *f;
	size_t n;

	commit_one(q, 2, sender, helo, id);
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_string_equal(env.sender, sender);
	assert_string_equal(env.helo, helo);
	assert_int_equal(env.rcpt[0].state, RCPT_PENDING);
	envelope_free(&env);

	/* the records stay printable ASCII, one per line (the message bytes
	 * between the version line and the header are the message's own) */
	path_of(p, q, "env", id);
	assert_non_null(f = fopen(p, "r"));
	assert_int_equal(fseek(f, QUEUE_MSG_OFFSET + sizeof MSG - 1, SEEK_SET), 0);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_memory_equal(text, "I ", 2);
	for (size_t i = 0; i < n; i++)
		assert_true(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f));
	assert_non_null(strstr(text, "\nH evil%0D%0AD%200%0D%0AE%0A%25%20%09%01%7F%C3%A9\n"));
}

static int on_list(const struct envelope *env, void *arg)
{
	(*(int *)arg)++;
	assert_int_equal(env->nrcpt, 1);
	return 0;
}

static void test_recover(void **state)
{
	const char *q = *state;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], p[PATH_MAX];
	struct queue_entry *found;
	struct spool *open_sp;
	int listed = 0;
	FILE *f;

	commit_one(q, 1, "s@x", "h", a);
	commit_one(q, 1, "s@x", "h", b);
	assert_true(strcmp(a, b) < 0);
	/* debris: an unfinished spool, a stray temp file, a message without envelope */
	assert_non_null(open_sp = spool_begin(q));
	path_of(p, q, "tmp", "0000000000000000000B.env");
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	path_of(p, q, "msg", "0000000000000000000C");
	assert_non_null(f = fopen(p, "w"));
	fclose(f);

	assert_int_equal(queue_sweep(q), 0);
	assert_int_equal(queue_scan(q, &found), 2);
	assert_string_equal(found[0].id, a);
	assert_string_equal(found[1].id, b);
	free(found);
	assert_int_equal(count_entries(q, "tmp"), 0);
	assert_int_equal(count_entries(q, "msg"), 0);
	assert_int_equal(count_entries(q, "env"), 2);
	assert_int_equal(queue_list(q, on_list, &listed), 2);
	assert_int_equal(listed, 2);
	spool_abort(open_sp); /* its file is already gone: must not crash */
}

/* The next attempt in the file's mtime: read back by queue_scan without
 * opening the file; any append (a progress record) makes it the present,
 * so a hint lost in a crash means "due now", never "later". */
static void test_next_attempt_in_mtime(void **state)
{
	const char *q = *state;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
	struct queue_entry *found;
	time_t now = time(NULL);

	commit_one(q, 2, "s@x", "h", a);
	commit_one(q, 1, "s@x", "h", b);
	assert_int_equal(queue_scan(q, &found), 2);
	/* just committed: due now */
	assert_true(found[0].next_attempt >= now - 1 && found[0].next_attempt <= time(NULL));
	free(found);

	assert_int_equal(queue_set_next_attempt(q, a, now + 3600), 0);
	assert_int_equal(queue_set_next_attempt(q, b, 1000), 0);
	assert_int_equal(queue_scan(q, &found), 2);
	assert_string_equal(found[0].id, a);
	assert_int_equal(found[0].next_attempt, now + 3600);
	assert_int_equal(found[1].next_attempt, 1000);
	free(found);

	assert_int_equal(envelope_mark_tempfail(q, a, 0, now + 60, "4.0.0 later"), 0);
	assert_int_equal(queue_scan(q, &found), 2);
	assert_true(found[0].next_attempt <= time(NULL));
	free(found);

	assert_int_equal(queue_set_next_attempt(q, "0000000000000000000Z", now), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_set_next_attempt(q, "../x", now), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_exists(void **state)
{
	const char *q = *state;
	char id[QUEUE_ID_LEN + 1];

	commit_one(q, 1, "s@x", "h", id);
	assert_int_equal(queue_exists(q, id), 1);
	assert_int_equal(queue_exists(q, "0000000000000000000Z"), 0);
	assert_int_equal(queue_exists(q, "../../etc/passwd"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_remove(q, id), 0);
	assert_int_equal(queue_exists(q, id), 0);
}

/* No queue directory yet: an empty queue to list, an error to scan. */
static void test_no_queue_yet(void **state)
{
	char missing[PATH_MAX];
	struct queue_entry *found;

	snprintf(missing, sizeof missing, "%s/none", (const char *)*state);
	assert_int_equal(queue_list(missing, on_list, NULL), 0);
	assert_int_equal(queue_scan(missing, &found), -1);
	assert_int_equal(errno, ENOENT);
}

/* A queue written before the one-file format (version 1: envelope in env/,
 * message in msg/) still loads, delivers from msg/ and is removed whole. */
static void test_version1_queue(void **state)
{
	const char *q = *state;
	const char *id = "0000000000000000000A";
	char text[512], p[PATH_MAX];
	struct envelope env;
	FILE *f;

	path_of(p, q, "msg", id);
	assert_non_null(f = fopen(p, "w"));
	fputs("Subject: old\r\n\r\nbody\r\n", f);
	fclose(f);
	snprintf(text, sizeof text, "V 1\nI %s\nA 1\nS a\nC b\nH c\nU \nZ 23\nN 1\nR L x@y\nE\n", id);
	write_env(q, id, text);
	assert_int_equal(queue_sweep(q), 0);
	assert_int_equal(count_entries(q, "msg"), 1);
	assert_int_equal(envelope_load(q, id, &env), 0);
	assert_int_equal(env.msg_in_env, 0);
	assert_int_equal(env.msg_offset, 0);
	assert_int_equal(env.size, 23);
	queue_msg_path(q, &env, text, sizeof text);
	assert_string_equal(text, p);
	envelope_free(&env);
	assert_int_equal(envelope_mark_done(q, id, 0), 0);
	assert_int_equal(queue_remove(q, id), 0);
	assert_int_equal(count_entries(q, "msg"), 0);
	assert_int_equal(count_entries(q, "env"), 0);
}

static void test_commit_refuses_empty(void **state)
{
	const char *q = *state;
	struct spool *sp = spool_begin(q);
	struct envelope env;

	assert_non_null(sp);
	memset(&env, 0, sizeof env);
	assert_int_equal(spool_commit(sp, &env), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(count_entries(q, "tmp"), 0);
	assert_int_equal(count_entries(q, "msg"), 0);
	assert_int_equal(count_entries(q, "env"), 0);
}

#define THREADS 8
#define PER_THREAD 20000

static char (*ids)[QUEUE_ID_LEN + 1];

/* No cmocka asserts off the main thread: report disorder through the result. */
static void *gen_ids(void *arg)
{
	size_t t = (size_t)arg;
	char (*mine)[QUEUE_ID_LEN + 1] = ids + t * PER_THREAD;

	for (size_t i = 0; i < PER_THREAD; i++) {
		queue_new_id(mine[i]);
		if (i > 0 && strcmp(mine[i - 1], mine[i]) >= 0)
			return (void *)1;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_unique_ids(void **state)
{
	pthread_t th[THREADS];
	size_t n = THREADS * PER_THREAD;

	(void)state;
	assert_non_null(ids = calloc(n, sizeof *ids));
	for (size_t t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, gen_ids, (void *)t), 0);
	for (size_t t = 0; t < THREADS; t++) {
		void *unordered;
		pthread_join(th[t], &unordered);
		assert_null(unordered);
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strlen(ids[i]), QUEUE_ID_LEN);
		assert_true(queue_id_valid(ids[i]));
	}
	qsort(ids, n, sizeof *ids, cmp);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) != 0);
	free(ids);
}

struct spool_arg {
	const char *q;
	char id[50][QUEUE_ID_LEN + 1];
};

static void *spool_many(void *p)
{
	struct spool_arg *a = p;

	for (int i = 0; i < 50; i++)
		commit_one(a->q, 1, "s@x", "h", a->id[i]);
	return NULL;
}

static void test_concurrent_commits(void **state)
{
	static struct spool_arg args[4];
	pthread_t th[4];

	for (int t = 0; t < 4; t++) {
		args[t].q = *state;
		assert_int_equal(pthread_create(&th[t], NULL, spool_many, &args[t]), 0);
	}
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	assert_int_equal(count_entries(*state, "env"), 200);
	assert_int_equal(count_entries(*state, "msg"), 0);
	assert_int_equal(count_entries(*state, "tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_reason_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version1_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_attempt_in_mtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_queue_yet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_refuses_empty, setup, teardown),
		cmocka_unit_test(test_unique_ids),
		cmocka_unit_test_setup_teardown(test_concurrent_commits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
