/*
 * dirsync: leader/follower group commit of directory fsyncs (dirsync.h).
 *
 * Per directory: seq counts callers (tickets), done is the highest ticket
 * covered by a successful fsync, failed the highest covered by a failed
 * one. A caller takes a ticket after its rename; an fsync that starts
 * later covers it. Failure is sticky for the tickets of that round: after
 * a failed fsync Linux may report the next one clean although the data of
 * the first is lost, so those callers must not be told "durable".
 */
#include "util/dirsync.h"
#include "util/fsutil.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dir {
	struct dir *next;
	uint64_t seq, done, failed;
	int err, syncing, refs;
	char path[];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct dir *dirs;   /* directories with callers now: a few, a list will do */
static uint64_t n_calls, n_fsyncs;

static struct dir *dir_get(const char *path)
{
	struct dir *d;
	size_t len = strlen(path);

	for (d = dirs; d; d = d->next)
		if (strcmp(d->path, path) == 0)
			break;
	if (d == NULL) {
		if ((d = calloc(1, sizeof *d + len + 1)) == NULL)
			return NULL;
		memcpy(d->path, path, len + 1);
		d->next = dirs;
		dirs = d;
	}
	d->refs++;
	return d;
}

static void dir_put(struct dir *d)
{
	struct dir **pp;

	if (--d->refs > 0)
		return;
	for (pp = &dirs; *pp != d; pp = &(*pp)->next)
		;
	*pp = d->next;
	free(d);
}

int dirsync(const char *path)
{
	struct dir *d;
	uint64_t mine, target;
	int r, e = 0;

	pthread_mutex_lock(&mu);
	n_calls++;
	if ((d = dir_get(path)) == NULL) {
		pthread_mutex_unlock(&mu);
		errno = ENOMEM;
		return -1;
	}
	mine = ++d->seq;
	for (;;) {
		if (d->failed >= mine) {
			r = -1;
			e = d->err;
			break;
		}
		if (d->done >= mine) {
			r = 0;
			break;
		}
		if (d->syncing) {
			pthread_cond_wait(&cv, &mu);
			continue;
		}
		/* lead a round for every ticket taken so far */
		d->syncing = 1;
		target = d->seq;
		n_fsyncs++;
		pthread_mutex_unlock(&mu);
		r = fsync_dir(path);
		e = errno;
		pthread_mutex_lock(&mu);
		d->syncing = 0;
		if (r == 0) {
			d->done = target;
		} else {
			d->failed = target;
			d->err = e;
		}
		pthread_cond_broadcast(&cv);
	}
	dir_put(d);
	pthread_mutex_unlock(&mu);
	if (r < 0)
		errno = e;
	return r;
}

int dirsync_parent(const char *path)
{
	char dir[PATH_MAX];

	if (parent_dir(path, dir, sizeof dir) < 0)
		return -1;
	return dirsync(dir);
}

void dirsync_stats(uint64_t *calls, uint64_t *fsyncs)
{
	pthread_mutex_lock(&mu);
	*calls = n_calls;
	*fsyncs = n_fsyncs;
	pthread_mutex_unlock(&mu);
}
