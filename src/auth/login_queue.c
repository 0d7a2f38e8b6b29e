/*
 * login_queue: a ring of services, each a ring of usernames, each a ring
 * of client addresses, each a FIFO of checks (see login_queue.h). Taking
 * the next check moves the service pointer, then its username and that
 * username's address, to the back of their rings. The queue is bounded
 * (a few hundred checks), so counting one address's checks walks the rings.
 */
#include "auth/login_queue.h"
#include "util/workers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct waiter {
	struct login_queue *q;
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
	struct waiter *next;
};

struct from_ip {                     /* one address's checks for one username */
	char ip[64];
	int n;
	struct waiter *head, *tail;
	struct from_ip *next;
};

struct for_user {                    /* one username's checks in one service */
	char user[LOGIN_USER_MAX];
	int n;
	struct from_ip *head, *tail;
	struct for_user *next;
};

struct ring {
	struct for_user *head, *tail;
	int waiting;
};

struct login_queue {
	struct workers *pool;
	int running, max_running, waiting;
	int next_svc;
	struct ring svc[LOGIN_NSERVICES];
};

/* A singly linked ring's append and pop-front, for both kinds of node. */
#define RING_APPEND(head, tail, node) \
	do { \
		(node)->next = NULL; \
		if (tail) \
			(tail)->next = (node); \
		else \
			(head) = (node); \
		(tail) = (node); \
	} while (0)
#define RING_POP(head, tail) \
	do { \
		(head) = (head)->next; \
		if (!(head)) \
			(tail) = NULL; \
	} while (0)

struct login_queue *login_queue_new(struct workers *pool, int max_running)
{
	struct login_queue *q = calloc(1, sizeof *q);

	if (q) {
		q->pool = pool;
		q->max_running = max_running > 0 ? max_running : 1;
	}
	return q;
}

static int waiting_from(const struct login_queue *q, const char *ip)
{
	int n = 0;

	for (int s = 0; s < LOGIN_NSERVICES; s++)
		for (const struct for_user *u = q->svc[s].head; u; u = u->next)
			for (const struct from_ip *f = u->head; f; f = f->next)
				if (strcmp(f->ip, ip) == 0)
					n += f->n;
	return n;
}

/* The username's node in r and the address's node in it, made if new.
 * -1: no memory (nothing was added). */
static int nodes_for(struct ring *r, const char *user, const char *ip, struct for_user **up,
                     struct from_ip **fp)
{
	struct for_user *u;
	struct from_ip *f;
	int new_user = 0;

	for (u = r->head; u && strcasecmp(u->user, user) != 0; u = u->next)
		;
	if (!u) {
		if (!(u = calloc(1, sizeof *u)))
			return -1;
		snprintf(u->user, sizeof u->user, "%s", user);
		new_user = 1;
	}
	for (f = u->head; f && strcmp(f->ip, ip) != 0; f = f->next)
		;
	if (!f) {
		if (!(f = calloc(1, sizeof *f))) {
			if (new_user)
				free(u);
			return -1;
		}
		snprintf(f->ip, sizeof f->ip, "%s", ip);
		RING_APPEND(u->head, u->tail, f);
	}
	if (new_user)
		RING_APPEND(r->head, r->tail, u);
	*up = u;
	*fp = f;
	return 0;
}

/* The next check: round-robin over services, then usernames, then addresses. */
static struct waiter *take(struct login_queue *q)
{
	for (int k = 0; k < LOGIN_NSERVICES; k++) {
		int s = (q->next_svc + k) % LOGIN_NSERVICES;
		struct ring *r = &q->svc[s];
		struct for_user *u = r->head;
		struct from_ip *f;
		struct waiter *w;

		if (!u)
			continue;
		q->next_svc = (s + 1) % LOGIN_NSERVICES;
		f = u->head;
		w = f->head;
		RING_POP(f->head, f->tail);
		f->n--;
		u->n--;
		r->waiting--;
		q->waiting--;
		RING_POP(u->head, u->tail);     /* the address goes to the back, or away */
		if (f->n > 0)
			RING_APPEND(u->head, u->tail, f);
		else
			free(f);
		RING_POP(r->head, r->tail);     /* and so does the username */
		if (u->n > 0)
			RING_APPEND(r->head, r->tail, u);
		else
			free(u);
		return w;
	}
	return NULL;
}

static void dispatch(struct login_queue *q);

static void run_work(void *p)
{
	struct waiter *w = p;

	w->work(w->arg);
}

static void run_done(void *p)
{
	struct waiter *w = p;
	struct login_queue *q = w->q;
	void (*done)(void *) = w->done;
	void *arg = w->arg;

	free(w);
	q->running--;
	dispatch(q);
	done(arg);
}

static void dispatch(struct login_queue *q)
{
	struct waiter *w;

	while (q->running < q->max_running && (w = take(q)) != NULL) {
		if (workers_submit_urgent(q->pool, run_work, run_done, w) == 0) {
			q->running++;
			continue;
		}
		w->work(w->arg);                /* the pool is stopping: here, now */
		w->done(w->arg);
		free(w);
	}
}

int login_queue_submit(struct login_queue *q, enum login_service svc, const char *ip, const char *user,
                       int max_per_service, int max_per_ip, void (*work)(void *), void (*done)(void *), void *arg)
{
	struct for_user *u;
	struct from_ip *f;
	struct waiter *w;

	if ((unsigned)svc >= LOGIN_NSERVICES || q->svc[svc].waiting >= max_per_service ||
	    waiting_from(q, ip) >= max_per_ip || !(w = calloc(1, sizeof *w)))
		return -1;
	if (nodes_for(&q->svc[svc], user ? user : "", ip, &u, &f) < 0) {
		free(w);
		return -1;
	}
	w->q = q;
	w->work = work;
	w->done = done;
	w->arg = arg;
	RING_APPEND(f->head, f->tail, w);
	f->n++;
	u->n++;
	q->svc[svc].waiting++;
	q->waiting++;
	dispatch(q);
	return 0;
}

int login_queue_waiting(const struct login_queue *q)
{
	return q->waiting;
}

void login_queue_free(struct login_queue *q)
{
	struct waiter *w;

	if (!q)
		return;
	while ((w = take(q)) != NULL) {
		w->work(w->arg);
		w->done(w->arg);
		free(w);
	}
	free(q);
}
