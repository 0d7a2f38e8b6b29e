/*
 * test_envelope_notify: the "B idx" / "W idx" envelope records (a failure
 * report / a delay warning went to the sender): written in one append,
 * read back, not counted as attempts, bad ones refused, old files without
 * them unchanged, a torn one ignored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "tmpdir.h"

#include "queue/queue.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
	char *d = tmpdir_make("envn");

	assert_int_equal(queue_init(d), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_teardown(state);
}

/* A committed message with three remote recipients; its id into id. */
static void make(const char *qd, char *id)
{
	struct env_rcpt r[3];
	struct envelope env;
	struct spool *sp = spool_begin(qd);

	assert_non_null(sp);
	assert_int_equal(spool_write(sp, "Subject: x\r\n\r\nx\r\n", 17), 0);
	memset(&env, 0, sizeof env);
	memset(r, 0, sizeof r);
	snprintf(env.sender, sizeof env.sender, "a@acme.test");
	for (int i = 0; i < 3; i++)
		snprintf(r[i].addr, sizeof r[i].addr, "r%d@remote.test", i);
	env.rcpt = r;
	env.nrcpt = 3;
	assert_int_equal(spool_commit(sp, &env), 0);
	strcpy(id, env.id);
}

static void append_raw(const char *qd, const char *id, const char *s)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s/env/%s", qd, id);
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void t_roundtrip(void **state)
{
	const char *qd = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;
	size_t fail[] = { 0, 2 }, late[] = { 1 };

	make(qd, id);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	for (int i = 0; i < 3; i++)
		assert_true(!env.rcpt[i].bounced && !env.rcpt[i].warned);
	envelope_free(&env);
	assert_int_equal(envelope_mark_failed(qd, id, 0, "5.1.1 no"), 0);
	assert_int_equal(envelope_mark_failed(qd, id, 2, "5.1.1 no"), 0);
	assert_int_equal(envelope_mark_tempfail(qd, id, 1, 1000, "4.4.1 down"), 0);
	assert_int_equal(envelope_mark_notified(qd, id, fail, 2, 0), 0);
	assert_int_equal(envelope_mark_notified(qd, id, late, 1, 1), 0);
	assert_int_equal(envelope_mark_notified(qd, id, late, 0, 1), 0);  /* nothing to do */
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_true(env.rcpt[0].bounced && !env.rcpt[0].warned && env.rcpt[0].state == RCPT_FAILED);
	assert_true(!env.rcpt[1].bounced && env.rcpt[1].warned && env.rcpt[1].state == RCPT_PENDING);
	assert_true(env.rcpt[2].bounced);
	/* reports are not delivery attempts */
	assert_int_equal(env.rcpt[0].attempts, 1);
	assert_int_equal(env.rcpt[1].attempts, 1);
	assert_int_equal(env.rcpt[1].next_attempt, 1000);
	envelope_free(&env);
}

static void t_bad_and_torn(void **state)
{
	const char *qd = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;

	make(qd, id);
	append_raw(qd, id, "B 7\n");     /* no such recipient: ignored */
	append_raw(qd, id, "W 1");       /* torn: ignored */
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_false(env.rcpt[1].warned);
	envelope_free(&env);
	size_t one[] = { 1 };
	assert_int_equal(envelope_mark_notified(qd, id, one, 1, 1), 0); /* cuts the torn tail first */
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_true(env.rcpt[1].warned);
	envelope_free(&env);
	append_raw(qd, id, "B 1 extra\n");
	assert_int_equal(envelope_load(qd, id, &env), -1);
	assert_int_equal(errno, EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_and_torn, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
