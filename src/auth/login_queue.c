/*
 * login_queue: a ring of services, each a ring of client addresses, each
 * a FIFO of checks (see login_queue.h). Taking the next check moves the
 * service pointer and its address to the back of their rings. The queue
 * is bounded (a few dozen checks), so counting one address's checks walks
 * the rings.
 */
#include "auth/login_queue.h"
#include "util/workers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct waiter {
	struct login_queue *q;
	void (*work)(void *);
	void (*done)(void *);
	void *arg;
	struct waiter *next;
};

struct bucket {                      /* one address's waiting checks in one service */
	char ip[64];
	int n;
	struct waiter *head, *tail;
	struct bucket *next;
};

struct ring {
	struct bucket *head, *tail;
	int waiting;
};

struct login_queue {
	struct workers *pool;
	int running, max_running, waiting;
	int next_svc;
	struct ring svc[LOGIN_NSERVICES];
};

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
		for (const struct bucket *b = q->svc[s].head; b; b = b->next)
			if (strcmp(b->ip, ip) == 0)
				n += b->n;
	return n;
}

static struct bucket *bucket_for(struct ring *r, const char *ip)
{
	struct bucket *b;

	for (b = r->head; b; b = b->next)
		if (strcmp(b->ip, ip) == 0)
			return b;
	if (!(b = calloc(1, sizeof *b)))
		return NULL;
	snprintf(b->ip, sizeof b->ip, "%s", ip);
	if (r->tail)
		r->tail->next = b;
	else
		r->head = b;
	r->tail = b;
	return b;
}

/* The next check, round-robin over services, then addresses. */
static struct waiter *take(struct login_queue *q)
{
	for (int k = 0; k < LOGIN_NSERVICES; k++) {
		int s = (q->next_svc + k) % LOGIN_NSERVICES;
		struct ring *r = &q->svc[s];
		struct bucket *b = r->head;
		struct waiter *w;

		if (!b)
			continue;
		q->next_svc = (s + 1) % LOGIN_NSERVICES;
		w = b->head;
		b->head = w->next;
		b->n--;
		r->waiting--;
		r->head = b->next;              /* the address goes to the back, or away */
		if (!r->head)
			r->tail = NULL;
		b->next = NULL;
		if (b->n > 0) {
			if (r->tail)
				r->tail->next = b;
			else
				r->head = b;
			r->tail = b;
		} else {
			free(b);
		}
		q->waiting--;
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

int login_queue_submit(struct login_queue *q, enum login_service svc, const char *ip,
                       int max_per_service, int max_per_ip, void (*work)(void *), void (*done)(void *), void *arg)
{
	struct waiter *w;
	struct bucket *b;

	if ((unsigned)svc >= LOGIN_NSERVICES || q->svc[svc].waiting >= max_per_service ||
	    waiting_from(q, ip) >= max_per_ip || !(w = calloc(1, sizeof *w)))
		return -1;
	if (!(b = bucket_for(&q->svc[svc], ip))) {
		free(w);
		return -1;
	}
	w->q = q;
	w->work = work;
	w->done = done;
	w->arg = arg;
	if (b->tail)
		b->tail->next = w;
	else
		b->head = w;
	b->tail = w;
	b->n++;
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
