/*
 * acc_session: the in-memory session table (see acc_session.h). A list in
 * least-recently-used order: finding a session compares every id in
 * constant time (a few thousand at most), then moves it to the front;
 * eviction takes the tail.
 */
#include "acc/acc_session.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TAILQ_HEAD(session_list, acc_session);

struct acc_sessions {
	struct session_list list;
	int n, max;
};

struct acc_sessions *acc_sessions_new(int max)
{
	struct acc_sessions *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	TAILQ_INIT(&t->list);
	t->max = max > 0 ? max : 1;
	return t;
}

void acc_session_end(struct acc_sessions *t, struct acc_session *s)
{
	TAILQ_REMOVE(&t->list, s, lru);
	t->n--;
	explicit_bzero(s, sizeof *s);
	free(s);
}

void acc_sessions_free(struct acc_sessions *t)
{
	if (!t)
		return;
	while (!TAILQ_EMPTY(&t->list))
		acc_session_end(t, TAILQ_FIRST(&t->list));
	free(t);
}

static int expired(const struct acc_session *s, time_t now)
{
	return now - s->last >= ACC_SESSION_IDLE || now - s->created >= ACC_SESSION_LIFETIME ||
	       now < s->created;
}

struct acc_session *acc_session_create(struct acc_sessions *t, const char *account, time_t now)
{
	struct acc_session *s;

	while (t->n >= t->max)
		acc_session_end(t, TAILQ_LAST(&t->list, session_list));
	if (!(s = calloc(1, sizeof *s)))
		return NULL;
	if (acc_token_new(s->id, sizeof s->id) < 0 || acc_token_new(s->csrf, sizeof s->csrf) < 0) {
		free(s);
		return NULL;
	}
	snprintf(s->account, sizeof s->account, "%s", account);
	s->created = s->last = now;
	TAILQ_INSERT_HEAD(&t->list, s, lru);
	t->n++;
	return s;
}

struct acc_session *acc_session_find(struct acc_sessions *t, const char *id, time_t now)
{
	struct acc_session *s, *next, *found = NULL;

	if (!id || !id[0])
		return NULL;
	/* Look at every entry (no early exit), ending the expired ones. */
	for (s = TAILQ_FIRST(&t->list); s; s = next) {
		next = TAILQ_NEXT(s, lru);
		if (expired(s, now))
			acc_session_end(t, s);
		else if (acc_token_eq(s->id, id))
			found = s;
	}
	if (found) {
		found->last = now;
		TAILQ_REMOVE(&t->list, found, lru);
		TAILQ_INSERT_HEAD(&t->list, found, lru);
	}
	return found;
}

void acc_session_flash(struct acc_session *s, int error, const char *msg)
{
	snprintf(s->flash, sizeof s->flash, "%s", msg);
	s->flash_error = error;
}

int acc_sessions_count(const struct acc_sessions *t)
{
	return t->n;
}
