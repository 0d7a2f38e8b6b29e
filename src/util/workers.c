/*
 * workers: thread pool whose completions come back to the libevent loop
 * through an eventfd (see workers.h). Jobs are FIFO; completions are run
 * in the order they finish.
 */
#include "util/workers.h"
#include "util/log.h"
#include <event2/event.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct job {
	work_fn work;
	done_fn done;
	void *arg;
	struct job *next;
};

struct jobq {
	struct job *head, *tail;
};

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct jobq urgent, todo, finished;   /* urgent: run before todo */
	int stopping;
	int pending;
	int nthreads;
	pthread_t *threads;
	int efd;
	struct event *ev;
};

static void jobq_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *jobq_pop(struct jobq *q)
{
	struct job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
	}
	return j;
}

static void *worker_main(void *p)
{
	struct workers *w = p;
	struct job *j;
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stopping && !w->urgent.head && !w->todo.head)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		if (!(j = jobq_pop(&w->urgent)))
			j = jobq_pop(&w->todo);
		pthread_mutex_unlock(&w->mu);
		j->work(j->arg);
		pthread_mutex_lock(&w->mu);
		jobq_push(&w->finished, j);
		/* eventfd write cannot block: the counter only grows by one. */
		if (write(w->efd, &one, sizeof one) < 0 && errno != EAGAIN)
			log_warn("workers: eventfd write: %m");
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void on_finished(evutil_socket_t fd, short what, void *p)
{
	struct workers *w = p;
	struct jobq done;
	struct job *j;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_warn("workers: eventfd read: %m");
	pthread_mutex_lock(&w->mu);
	done = w->finished;
	w->finished.head = w->finished.tail = NULL;
	pthread_mutex_unlock(&w->mu);
	while ((j = jobq_pop(&done)) != NULL) {
		w->pending--;
		if (j->done)
			j->done(j->arg);
		free(j);
	}
}

struct workers *workers_start(struct event_base *base, int nthreads)
{
	struct workers *w = calloc(1, sizeof *w);
	int i;

	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->threads = calloc((size_t)nthreads, sizeof *w->threads);
	if (w->efd < 0 || !w->threads)
		log_fatal("workers: cannot start: %m");
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_finished, w);
	event_add(w->ev, NULL);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			log_fatal("workers: pthread_create failed");
	}
	w->nthreads = nthreads;
	return w;
}

static int submit(struct workers *w, struct jobq *q, work_fn work, done_fn done, void *arg)
{
	struct job *j;

	if (w->stopping || !(j = malloc(sizeof *j)))
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	w->pending++;
	pthread_mutex_lock(&w->mu);
	jobq_push(q, j);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int workers_submit(struct workers *w, work_fn work, done_fn done, void *arg)
{
	return submit(w, &w->todo, work, done, arg);
}

int workers_submit_urgent(struct workers *w, work_fn work, done_fn done, void *arg)
{
	return submit(w, &w->urgent, work, done, arg);
}

int workers_pending(const struct workers *w)
{
	return w->pending;
}

void workers_stop(struct workers *w)
{
	struct job *j;
	int i;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	/* What is left still owns what its submitter gave it: finish it here,
	 * on the (stopped) loop's thread, so every done() releases its arg.
	 * New submissions are refused from now on. */
	while ((j = jobq_pop(&w->finished)) != NULL) {
		w->pending--;
		if (j->done)
			j->done(j->arg);
		free(j);
	}
	while ((j = jobq_pop(&w->urgent)) != NULL || (j = jobq_pop(&w->todo)) != NULL) {
		w->pending--;
		j->work(j->arg);
		if (j->done)
			j->done(j->arg);
		free(j);
	}
	event_free(w->ev);
	close(w->efd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
