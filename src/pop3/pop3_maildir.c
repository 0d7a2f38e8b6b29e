/*
 * pop3_maildir: snapshot, sizes, unique ids and deletion of one Maildir
 * for a POP3 session (see pop3_maildir.h). Runs on a worker thread.
 */
#define _GNU_SOURCE   /* renameat2 */
#include "pop3/pop3_maildir.h"
#include "util/fsutil.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEASURE_CHUNK 65536
/* Maildir: a file left in tmp/ this long was a delivery that died
 * (crash, kill -9, full disk) and is never finished: remove it. */
#define TMP_MAX_AGE (36 * 3600)

static int add_msg(struct pop3_mailbox *mb, size_t *cap, const char *name)
{
	struct pop3_msg *m;

	if (mb->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		if (!(m = realloc(mb->msgs, nc * sizeof *m)))
			return -1;
		mb->msgs = m;
		*cap = nc;
	}
	m = &mb->msgs[mb->n];
	if (!(m->name = strdup(name)))
		return -1;
	m->size = 0;
	m->deleted = 0;
	m->in_new = 0;
	m->uidl_whole_name = 0;
	mb->n++;
	return 0;
}

static int skip_entry(const struct dirent *de)
{
	return de->d_name[0] == '.' || de->d_type == DT_DIR;
}

static int list_cur(const char *cur, struct pop3_mailbox *mb, size_t *cap)
{
	DIR *d = opendir(cur);
	struct dirent *de;
	int r = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (!skip_entry(de) && (r = add_msg(mb, cap, de->d_name)) < 0)
			break;
	closedir(d);
	return r;
}

/* rename, but never over an existing file (a broken delivery agent
 * reusing a unique name must not make us lose the older message). */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a file system without RENAME_NOREPLACE: check, then rename */
	if (access(to, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* Move every message of new/ into cur/ as NAME:2, (kept as is if it has
 * an info part already, or if the longer name would not fit). A message
 * that cannot be moved is served from new/. Returns how many moved, or -1. */
static int move_new(const char *newdir, const char *cur, struct pop3_mailbox *mb, size_t *cap)
{
	DIR *d = opendir(newdir);
	struct dirent *de;
	char from[PATH_MAX], to[PATH_MAX], name[NAME_MAX + 8];
	int moved = 0, e;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		int stay = 0;

		if (skip_entry(de))
			continue;
		if (!strchr(de->d_name, ':') && strlen(de->d_name) + 3 <= NAME_MAX)
			snprintf(name, sizeof name, "%s:2,", de->d_name);
		else
			snprintf(name, sizeof name, "%s", de->d_name);
		if (snprintf(from, sizeof from, "%s/%s", newdir, de->d_name) >= (int)sizeof from ||
		    snprintf(to, sizeof to, "%s/%s", cur, name) >= (int)sizeof to) {
			stay = 1;
		} else if (rename_noreplace(from, to) < 0) {
			if (errno == ENOENT)
				continue; /* taken by another Maildir reader */
			stay = 1;
		}
		if (stay)
			mb->unmoved++;
		else
			moved++;
		if (add_msg(mb, cap, stay ? de->d_name : name) < 0)
			goto fail;
		mb->msgs[mb->n - 1].in_new = stay;
	}
	closedir(d);
	return moved;
fail:
	e = errno;
	closedir(d);
	errno = e;
	return -1;
}

int pop3_name_wsize(const char *name, uint64_t *size)
{
	const char *colon = strchr(name, ':');
	size_t blen = colon ? (size_t)(colon - name) : strlen(name);
	const char *p = name, *end = name + blen;
	uint64_t v = 0;
	int digits = 0;

	/* the last ",W=" of the base name */
	for (const char *q = name; q + 3 <= end; q++)
		if (q[0] == ',' && q[1] == 'W' && q[2] == '=')
			p = q + 3;
	if (p == name)
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0 || (p < end && *p != ','))
		return -1;
	*size = v;
	return 0;
}

/* The RETR size of a file without W=: its bytes plus one per LF. */
static int measure(const char *path, uint64_t *size)
{
	char *b = malloc(MEASURE_CHUNK);
	/* O_NONBLOCK: a FIFO in the Maildir must not hang a worker */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), e;
	uint64_t n = 0;
	ssize_t r = 0;
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (!b || fd < 0) {
		e = b ? errno : ENOMEM;
		free(b);
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	while ((r = read(fd, b, MEASURE_CHUNK)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (uint64_t)r;
		for (const char *p = b, *pe = b + r; (p = memchr(p, '\n', (size_t)(pe - p))) != NULL; p++)
			n++;
	}
	e = errno;
	free(b);
	close(fd);
	errno = e;
	if (r < 0)
		return -1;
	*size = n;
	return 0;
}

/* Delivery order: "<sec>.M<usec>..." numerically, then by name. */
static int cmp_msg(const void *a, const void *b)
{
	const char *x = ((const struct pop3_msg *)a)->name, *y = ((const struct pop3_msg *)b)->name;
	char *ex, *ey;
	unsigned long long sx = strtoull(x, &ex, 10), sy = strtoull(y, &ey, 10), ux = 0, uy = 0;

	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (ex[0] == '.' && ex[1] == 'M')
		ux = strtoull(ex + 2, NULL, 10);
	if (ey[0] == '.' && ey[1] == 'M')
		uy = strtoull(ey + 2, NULL, 10);
	if (ux != uy)
		return ux < uy ? -1 : 1;
	return strcmp(x, y);
}

/* Fill sizes. A message that cannot be measured (it vanished meanwhile,
 * or cannot be read) is left out: RETR could not send it either. */
static void fill_sizes(struct pop3_mailbox *mb)
{
	char path[PATH_MAX];
	size_t i, o = 0;

	for (i = 0; i < mb->n; i++) {
		struct pop3_msg *m = &mb->msgs[i];

		if (pop3_name_wsize(m->name, &m->size) < 0 &&
		    (pop3_msg_path(mb, m, path, sizeof path) < 0 || measure(path, &m->size) < 0)) {
			free(m->name);
			continue;
		}
		mb->msgs[o++] = *m;
	}
	mb->n = o;
}

/* Remove regular files older than TMP_MAX_AGE from tmp/ (best effort:
 * a failure only leaves litter). Returns how many were removed. */
static int clean_tmp(const char *path, time_t now)
{
	char tmp[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, n = 0;

	if (snprintf(tmp, sizeof tmp, "%s/tmp", path) >= (int)sizeof tmp || !(d = opendir(tmp)))
		return 0;
	fd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < TMP_MAX_AGE)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

struct uid_ix {
	char uid[POP3_UIDL_MAX + 1];
	size_t ix;
};

static int cmp_uid_ix(const void *a, const void *b)
{
	const struct uid_ix *x = a, *y = b;
	int c = strcmp(x->uid, y->uid);

	return c ? c : x->ix < y->ix ? -1 : x->ix > y->ix;
}

/* RFC 1939: a unique-id is unique within the maildrop. Two files with one
 * base name (a copy by another program, a message that could not move
 * because cur/ holds its name) would share one, and a client keeping
 * UIDLs would never fetch the second: every one after the first in
 * delivery order gets a digest of its whole file name instead. */
static int mark_duplicate_uidls(struct pop3_mailbox *mb)
{
	struct uid_ix *v;
	size_t i;

	if (mb->n < 2)
		return 0;
	if (!(v = malloc(mb->n * sizeof *v)))
		return -1;
	for (i = 0; i < mb->n; i++) {
		pop3_uidl(mb->msgs[i].name, v[i].uid);
		v[i].ix = i;
	}
	qsort(v, mb->n, sizeof *v, cmp_uid_ix);
	for (i = 1; i < mb->n; i++)
		if (strcmp(v[i].uid, v[i - 1].uid) == 0)
			mb->msgs[v[i].ix].uidl_whole_name = 1;
	free(v);
	return 0;
}

int pop3_mailbox_open(const char *path, struct pop3_mailbox *mb)
{
	char cur[PATH_MAX], newdir[PATH_MAX];
	size_t cap = 0;
	int moved, e;

	memset(mb, 0, sizeof *mb);
	if (snprintf(cur, sizeof cur, "%s/cur", path) >= (int)sizeof cur ||
	    snprintf(newdir, sizeof newdir, "%s/new", path) >= (int)sizeof newdir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!(mb->path = strdup(path)))
		return -1;
	mb->tmp_removed = clean_tmp(path, time(NULL));
	if (list_cur(cur, mb, &cap) < 0 || (moved = move_new(newdir, cur, mb, &cap)) < 0)
		goto fail;
	/* the moves must survive a crash, or a message could be fetched twice */
	if (moved > 0 && (fsync_dir(cur) < 0 || fsync_dir(newdir) < 0))
		goto fail;
	fill_sizes(mb);
	if (mb->n > 1)
		qsort(mb->msgs, mb->n, sizeof *mb->msgs, cmp_msg);
	if (mark_duplicate_uidls(mb) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	pop3_mailbox_free(mb);
	errno = e;
	return -1;
}

/* Unlink message m; a message renamed meanwhile (a flag change by
 * another client) is found by its base name. 0 (also if it was gone
 * already) or -1. */
static int remove_msg(const struct pop3_mailbox *mb, const struct pop3_msg *m)
{
	char path[PATH_MAX], *found = NULL;
	struct pop3_msg moved;
	int r;

	if (pop3_msg_path(mb, m, path, sizeof path) < 0)
		return -1;
	if (unlink(path) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (pop3_msg_find(mb, m, &found) < 0)
		return errno == ENOENT ? 0 : -1;
	moved = *m;
	moved.name = found;
	moved.in_new = 0;
	r = pop3_msg_path(mb, &moved, path, sizeof path) < 0 || (unlink(path) < 0 && errno != ENOENT) ? -1 : 0;
	free(found);
	return r;
}

int pop3_mailbox_commit(struct pop3_mailbox *mb)
{
	char dir[PATH_MAX];
	size_t i;
	int failed = 0, removed = 0, removed_new = 0;

	for (i = 0; i < mb->n; i++) {
		if (!mb->msgs[i].deleted)
			continue;
		if (remove_msg(mb, &mb->msgs[i]) < 0) {
			failed++;
		} else {
			removed++;
			removed_new += mb->msgs[i].in_new;
		}
	}
	snprintf(dir, sizeof dir, "%s/cur", mb->path);
	if (removed > 0 && fsync_dir(dir) < 0 && failed == 0)
		failed = 1;
	snprintf(dir, sizeof dir, "%s/new", mb->path);
	if (removed_new > 0 && fsync_dir(dir) < 0 && failed == 0)
		failed = 1;
	return failed;
}

int pop3_msg_find(const struct pop3_mailbox *mb, const struct pop3_msg *m, char **found)
{
	const char *colon = strchr(m->name, ':');
	size_t blen = colon ? (size_t)(colon - m->name) : strlen(m->name);
	char cur[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int e;

	*found = NULL;
	if (snprintf(cur, sizeof cur, "%s/cur", mb->path) >= (int)sizeof cur) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!(d = opendir(cur)))
		return -1;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, m->name, blen) == 0 && (de->d_name[blen] == ':' || de->d_name[blen] == '\0')) {
			*found = strdup(de->d_name);
			break;
		}
	}
	e = de ? (*found ? 0 : ENOMEM) : errno ? errno : ENOENT;
	closedir(d);
	errno = e;
	return e ? -1 : 0;
}

void pop3_mailbox_free(struct pop3_mailbox *mb)
{
	size_t i;

	for (i = 0; i < mb->n; i++)
		free(mb->msgs[i].name);
	free(mb->msgs);
	free(mb->path);
	memset(mb, 0, sizeof *mb);
}

int pop3_msg_path(const struct pop3_mailbox *mb, const struct pop3_msg *m, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s/%s", mb->path, m->in_new ? "new" : "cur", m->name);

	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* 40 hex digits of the SHA-256 of len bytes of name */
static void uidl_digest(const char *name, size_t len, char out[POP3_UIDL_MAX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(name, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 20 && i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * i] = '\0';
}

void pop3_uidl(const char *name, char out[POP3_UIDL_MAX + 1])
{
	const char *colon = strchr(name, ':');
	size_t blen = colon ? (size_t)(colon - name) : strlen(name), i;

	for (i = 0; i < blen; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			break;
	if (blen > 0 && blen <= POP3_UIDL_MAX && i == blen) {
		memcpy(out, name, blen);
		out[blen] = '\0';
		return;
	}
	/* too long or unprintable: a stable digest of the same base name */
	uidl_digest(name, blen, out);
}

void pop3_msg_uidl(const struct pop3_msg *m, char out[POP3_UIDL_MAX + 1])
{
	if (m->uidl_whole_name)
		uidl_digest(m->name, strlen(m->name), out);
	else
		pop3_uidl(m->name, out);
}
