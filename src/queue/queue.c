/*
 * queue: the durable message queue (layout and promises in queue.h).
 *
 * This file holds ids, spooling and the commit, removal and recovery; the
 * envelope file format is in envelope.c. Queue ids are 20 upper-case
 * base-36 digits: seconds (7), microseconds (4), pid (5), a per-process
 * counter (4). They sort by time and are safe as file names.
 */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "util/buf.h"
#include "util/dirsync.h"
#include "util/fsutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- ids ---- */

static const char b36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static atomic_uint id_counter;

static void put_b36(char *out, int width, uint64_t v)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = b36[v % 36];
		v /= 36;
	}
}

void queue_new_id(char out[QUEUE_ID_LEN + 1])
{
	struct timespec ts;
	unsigned n = atomic_fetch_add(&id_counter, 1);

	clock_gettime(CLOCK_REALTIME, &ts);
	/* 36^7 s lasts to year 4453; 36^5 > Linux's largest pid_max (2^22);
	 * the counter (mod 36^4) only has to differ within one microsecond. */
	put_b36(out, 7, (uint64_t)ts.tv_sec);
	put_b36(out + 7, 4, (uint64_t)ts.tv_nsec / 1000);
	put_b36(out + 11, 5, (uint64_t)getpid());
	put_b36(out + 16, 4, n);
	out[QUEUE_ID_LEN] = '\0';
}

int queue_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < QUEUE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z')))
			return 0;
	return id[i] == '\0';
}

/* ---- paths ---- */

int queue_path(char *out, size_t len, const char *qdir, const char *sub,
                 const char *name, const char *suffix)
{
	int n = snprintf(out, len, "%s/%s%s%s%s", qdir, sub, name ? "/" : "",
	                 name ? name : "", suffix);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int queue_id_path(char *out, size_t len, const char *qdir, const char *sub, const char *id)
{
	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	return queue_path(out, len, qdir, sub, id, "");
}

void queue_msg_path(const char *queue_dir, const struct envelope *env, char *out, size_t outlen)
{
	if (queue_path(out, outlen, queue_dir, env->msg_in_env ? "env" : "msg", env->id, "") < 0 &&
	    outlen > 0)
		out[0] = '\0';
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* mkdir, and fsync the parent when the directory is new so it survives a crash. */
static int mkdir_durably(const char *path)
{
	if (mkdir(path, 0700) == 0)
		return fsync_parent(path);
	return errno == EEXIST ? 0 : -1;
}

int queue_init(const char *queue_dir)
{
	static const char *const subs[] = { "tmp", "msg", "env" };
	char p[PATH_MAX];

	if (mkdir_p(queue_dir, 0700) < 0)
		return -1;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (queue_path(p, sizeof p, queue_dir, subs[i], NULL, "") < 0 || mkdir_durably(p) < 0)
			return -1;
	return 0;
}

/* ---- spooling ---- */

/* "V 2 <size, 20 digits>\n", exactly QUEUE_MSG_OFFSET bytes: appended
 * with 0 when the file is made, then rewritten in place with the size. */
int write_version(int fd, uint64_t size, int rewrite)
{
	char line[QUEUE_MSG_OFFSET + 1];

	snprintf(line, sizeof line, "V 2 %020llu\n", (unsigned long long)size);
	if (!rewrite)
		return write_all(fd, line, QUEUE_MSG_OFFSET);
	ssize_t w = pwrite(fd, line, QUEUE_MSG_OFFSET, 0);
	if (w != QUEUE_MSG_OFFSET) {
		if (w >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

struct spool *spool_begin(const char *queue_dir)
{
	char envp[PATH_MAX], msgp[PATH_MAX];
	struct spool *sp = calloc(1, sizeof *sp);
	int e;

	if (sp == NULL)
		return NULL;
	sp->fd = -1;
	if (snprintf(sp->qdir, sizeof sp->qdir, "%s", queue_dir) >= (int)sizeof sp->qdir) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	for (int tries = 0; tries < 100; tries++) {
		queue_new_id(sp->id);
		if (queue_path(sp->tmp, sizeof sp->tmp, queue_dir, "tmp", sp->id, ".msg") < 0 ||
		    queue_path(envp, sizeof envp, queue_dir, "env", sp->id, "") < 0 ||
		    queue_path(msgp, sizeof msgp, queue_dir, "msg", sp->id, "") < 0)
			goto fail;
		/* only a clock stepped back could reissue a queued id */
		if (exists(envp) || exists(msgp))
			continue;
		sp->fd = open(sp->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (sp->fd >= 0)
			break;
		if (errno != EEXIST)
			goto fail;
	}
	if (sp->fd >= 0) {
		/* the version line, its size filled in at the commit */
		if (write_version(sp->fd, 0, 0) == 0)
			return sp;
		e = errno;
		close(sp->fd);
		unlink(sp->tmp);
		errno = e;
		goto fail;
	}
	errno = EEXIST;
fail:
	e = errno;
	free(sp);
	errno = e;
	return NULL;
}

const char *spool_id(const struct spool *sp)
{
	return sp->id;
}

int spool_write(struct spool *sp, const void *p, size_t n)
{
	if (write_all(sp->fd, p, n) < 0)
		return -1;
	sp->size += n;
	return 0;
}

uint64_t spool_size(const struct spool *sp)
{
	return sp->size;
}

void spool_abort(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	unlink(sp->tmp);
	free(sp);
}

int spool_commit(struct spool *sp, struct envelope *env)
{
	char envp[PATH_MAX];
	struct buf b;
	int e, moved = 0;

	buf_init(&b, 0);
	if (env->nrcpt == 0 || env->nrcpt > QUEUE_MAX_RCPT || env->rcpt == NULL) {
		errno = EINVAL;
		goto fail;
	}
	memcpy(env->id, sp->id, sizeof env->id);
	env->size = sp->size;
	env->msg_in_env = 1;
	env->msg_offset = QUEUE_MSG_OFFSET;
	if (env->arrival == 0)
		env->arrival = time(NULL);
	if (queue_path(envp, sizeof envp, sp->qdir, "env", sp->id, "") < 0)
		goto fail;

	/* 1. the size in the version line, the envelope header after the
	 * message, all of it on disk */
	if (env_format(&b, env) < 0 || write_version(sp->fd, sp->size, 1) < 0 ||
	    write_all(sp->fd, b.data, b.len) < 0 || fsync(sp->fd) < 0)
		goto fail;
	e = close(sp->fd);
	sp->fd = -1;
	if (e < 0)
		goto fail;
	/* 2. commit point: the file in env/, durably (an fsync of env/ shared
	 * with every commit that reaches this point at the same moment). Now
	 * 250 may be sent. */
	if (rename(sp->tmp, envp) < 0)
		goto fail;
	moved = 1;
	if (dirsync_parent(envp) < 0)
		goto fail;
	buf_free(&b);
	free(sp);
	return 0;
fail:
	e = errno;
	if (moved)
		unlink(envp);
	buf_free(&b);
	spool_abort(sp);
	errno = e;
	return -1;
}

/* ---- removal, recovery, listing ---- */

int queue_remove(const char *queue_dir, const char *id)
{
	char envp[PATH_MAX], msgp[PATH_MAX];

	if (queue_id_path(envp, sizeof envp, queue_dir, "env", id) < 0 ||
	    queue_id_path(msgp, sizeof msgp, queue_dir, "msg", id) < 0)
		return -1;
	/* envelope first and durably, or a crash could resurrect it: a second delivery */
	if (unlink(envp) < 0 && errno != ENOENT)
		return -1;
	if (dirsync_parent(envp) < 0)
		return -1;
	if (unlink(msgp) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* Unlink every entry of queue/sub for which keep() says no. */
static int sweep(const char *queue_dir, const char *sub, int (*keep)(const char *, const char *))
{
	char dir[PATH_MAX], p[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (queue_path(dir, sizeof dir, queue_dir, sub, NULL, "") < 0 || (d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (keep && keep(queue_dir, de->d_name))
			continue;
		if (queue_path(p, sizeof p, queue_dir, sub, de->d_name, "") < 0 ||
		    (unlink(p) < 0 && errno != ENOENT))
			r = -1;
	}
	closedir(d);
	return r;
}

static int has_envelope(const char *queue_dir, const char *name)
{
	char p[PATH_MAX];
	return queue_path(p, sizeof p, queue_dir, "env", name, "") == 0 && exists(p);
}

/* Not fsynced: debris that reappears after a crash is swept next time. */
int queue_sweep(const char *queue_dir)
{
	if (sweep(queue_dir, "tmp", NULL) < 0 || sweep(queue_dir, "msg", has_envelope) < 0)
		return -1;
	return 0;
}

int queue_exists(const char *queue_dir, const char *id)
{
	char p[PATH_MAX];

	if (queue_id_path(p, sizeof p, queue_dir, "env", id) < 0)
		return -1;
	if (exists(p))
		return 1;
	return errno == ENOENT ? 0 : -1;
}

int queue_set_next_attempt(const char *queue_dir, const char *id, time_t when)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { when, 0 } };
	char p[PATH_MAX];

	if (queue_id_path(p, sizeof p, queue_dir, "env", id) < 0)
		return -1;
	return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct queue_entry *x = a, *y = b;
	return strcmp(x->id, y->id);
}

/* One stat per file, relative to the open directory: no path building, no open. */
int queue_scan(const char *queue_dir, struct queue_entry **out)
{
	char dir[PATH_MAX];
	struct queue_entry *v = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int e;

	*out = NULL;
	if (queue_path(dir, sizeof dir, queue_dir, "env", NULL, "") < 0 || (d = opendir(dir)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* delivered and removed meanwhile */
			goto fail;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if (cap > INT_MAX || (grown = realloc(v, cap * sizeof *v)) == NULL)
				goto fail;
			v = grown;
		}
		memcpy(v[n].id, de->d_name, QUEUE_ID_LEN + 1);
		v[n++].next_attempt = st.st_mtime;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_entry);
	*out = v;
	return (int)n;
fail:
	e = errno ? errno : ENOMEM;
	closedir(d);
	free(v);
	errno = e;
	return -1;
}

int queue_list(const char *queue_dir, int (*cb)(const struct envelope *, void *), void *arg)
{
	struct queue_entry *ids = NULL;
	struct envelope env;
	int n, listed = 0, r = 0, e = 0;

	if ((n = queue_scan(queue_dir, &ids)) < 0)
		return errno == ENOENT ? 0 : -1; /* no env/: nothing was ever queued */
	for (int i = 0; i < n && r == 0; i++) {
		if (envelope_load(queue_dir, ids[i].id, &env) < 0) {
			if (errno == ENOENT)
				continue; /* delivered and removed meanwhile */
			e = errno;
			r = -1;
			break;
		}
		listed++;
		if (cb && cb(&env, arg) != 0)
			r = 1;
		envelope_free(&env);
	}
	free(ids);
	if (r < 0)
		errno = e;
	return r < 0 ? -1 : listed;
}
