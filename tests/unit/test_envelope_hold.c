/*
 * test_envelope_hold: the "Q reason" / "K when" envelope records (held,
 * released): a hold written with the commit and one appended later read
 * back, the last record wins, the age counts from the release, an old
 * file without them is not held, bad ones are refused, a torn one ignored.
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
	char *d = tmpdir_make("envh");

	assert_int_equal(queue_init(d), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	return tmpdir_teardown(state);
}

/* A committed message with one remote recipient, held for hold ("" not). */
static void make(const char *qd, const char *hold, char *id)
{
	struct env_rcpt r;
	struct envelope env;
	struct spool *sp = spool_begin(qd);

	assert_non_null(sp);
	assert_int_equal(spool_write(sp, "Subject: x\r\n\r\nx\r\n", 17), 0);
	memset(&env, 0, sizeof env);
	memset(&r, 0, sizeof r);
	snprintf(env.sender, sizeof env.sender, "a@acme.test");
	snprintf(env.hold, sizeof env.hold, "%s", hold);
	snprintf(r.addr, sizeof r.addr, "r@remote.test");
	env.arrival = 1000;
	env.rcpt = &r;
	env.nrcpt = 1;
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

static void t_commit_hold(void **state)
{
	const char *qd = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;

	make(qd, "spam: score 12.5 > 10\r\n%", id);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "spam: score 12.5 > 10\r\n%");
	assert_int_equal(env.released, 0);
	assert_int_equal(envelope_age_base(&env), 1000);
	assert_int_equal(env.nrcpt, 1);
	assert_int_equal(env.rcpt[0].attempts, 0);
	envelope_free(&env);
	/* released, held again by hand, released again: the last wins */
	assert_int_equal(envelope_release(qd, id, 5000), 0);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "");
	assert_int_equal(envelope_age_base(&env), 5000);
	envelope_free(&env);
	assert_int_equal(envelope_hold(qd, id, "look\nat it"), 0);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "look at it");
	envelope_free(&env);
	assert_int_equal(envelope_release(qd, id, 6000), 0);
	assert_int_equal(envelope_mark_tempfail(qd, id, 0, 7000, "4.0.0 later"), 0);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "");
	assert_int_equal(env.released, 6000);
	assert_int_equal(env.rcpt[0].attempts, 1);
	assert_int_equal(env.rcpt[0].next_attempt, 7000);
	envelope_free(&env);
}

static void t_not_held_and_errors(void **state)
{
	const char *qd = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;

	make(qd, "", id);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "");
	assert_int_equal(envelope_age_base(&env), 1000);
	envelope_free(&env);
	/* an empty reason is refused; an unknown message is not made */
	errno = 0;
	assert_int_equal(envelope_hold(qd, id, ""), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(envelope_hold(qd, "0000000000000000000Z", "x"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_exists(qd, "0000000000000000000Z"), 0);
	/* a torn hold (no newline) is ignored: still not held */
	append_raw(qd, id, "Q torn");
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "");
	envelope_free(&env);
	/* the next append cuts the torn record off */
	assert_int_equal(envelope_hold(qd, id, "by hand"), 0);
	assert_int_equal(envelope_load(qd, id, &env), 0);
	assert_string_equal(env.hold, "by hand");
	envelope_free(&env);
	/* an empty hold record or a bad release time is corrupt */
	append_raw(qd, id, "Q \n");
	assert_int_equal(envelope_load(qd, id, &env), -1);
	assert_int_equal(errno, EBADMSG);
}

static void t_bad_release(void **state)
{
	const char *qd = *state;
	char id[QUEUE_ID_LEN + 1];
	struct envelope env;

	make(qd, "x", id);
	append_raw(qd, id, "K soon\n");
	assert_int_equal(envelope_load(qd, id, &env), -1);
	assert_int_equal(errno, EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_commit_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(t_not_held_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_release, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
