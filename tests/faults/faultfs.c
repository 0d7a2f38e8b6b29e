/*
 * faultfs: an LD_PRELOAD shim that makes file-system calls fail on demand,
 * for the fault-injection tests (tests/integration/test_faults.py).
 *
 * HOSTMAIL_FAULTS names a control file, re-read whenever it changes (a
 * change resets the counters; a missing or empty file injects nothing).
 * One rule per line, '#' starts a comment:
 *
 *     OP PATTERN ERRNO [COUNT [SKIP]]
 *
 *   OP       write, pwrite, fsync, fdatasync, rename, openat, or a comma
 *            list of them; "*" is every op. "rename" also covers renameat
 *            and renameat2, "openat" every open with write intent
 *            (O_WRONLY, O_RDWR or O_CREAT) through open/openat/open64.
 *   PATTERN  fnmatch(3) pattern, '*' crossing '/', matched against the
 *            absolute path of the file (for fd calls: /proc/self/fd/N;
 *            for rename: either name).
 *   ERRNO    ENOSPC, EIO, EDQUOT, EROFS or a number; with ":short" (say
 *            ENOSPC:short) a write or pwrite first stores half its bytes and
 *            returns that short count, as a filling disk does, and the next
 *            matching call fails with ERRNO (the pair counts as one failure).
 *            "DELAY:MS" fails nothing: the call waits MS milliseconds, then
 *            runs (a slow disk; logged as "delay").
 *   COUNT    how many matching calls fail (default 1, -1 = all of them).
 *   SKIP     how many matching calls succeed first (default 0).
 *
 * Every injected failure is logged to HOSTMAIL_FAULTS_LOG (if set) as
 * "op errno path\n", so a test can tell that the fault really fired.
 * Only calls into libc from the program are seen: this is a test tool.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_RULES 16

enum op { OP_WRITE = 1, OP_PWRITE = 2, OP_FSYNC = 4, OP_FDATASYNC = 8, OP_RENAME = 16, OP_OPEN = 32 };

struct rule {
	unsigned ops;
	char pattern[PATH_MAX];
	int err;
	long count;   /* failures left; -1 = unlimited */
	long skip;    /* matching calls to let through first */
	int shortw;   /* ":short": a short write before the failure */
	int half;     /* the short write was done; the failure is next */
	long delay_ms; /* "DELAY:MS": wait, do not fail */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static int nrules;
static unsigned active_ops;   /* union of the rules' ops, read without the lock */
static struct stat ctl_seen;
static int ctl_present;

/* Raw syscalls for our own I/O: never intercepted, never recursive. */
static ssize_t raw_read(int fd, void *p, size_t n) { return syscall(SYS_read, fd, p, n); }
static ssize_t raw_write(int fd, const void *p, size_t n) { return syscall(SYS_write, fd, p, n); }
static int raw_open(const char *p, int flags, mode_t m) { return (int)syscall(SYS_openat, AT_FDCWD, p, flags, m); }

static int parse_errno(const char *s)
{
	static const struct { const char *n; int e; } names[] = {
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
		{ "EACCES", EACCES }, { "EPERM", EPERM },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].n) == 0)
			return names[i].e;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

static unsigned parse_ops(char *s)
{
	unsigned ops = 0;

	for (char *sv = NULL, *t = strtok_r(s, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
		if (strcmp(t, "*") == 0)
			ops |= ~0u;
		else if (strcmp(t, "write") == 0)
			ops |= OP_WRITE;
		else if (strcmp(t, "pwrite") == 0)
			ops |= OP_PWRITE;
		else if (strcmp(t, "fsync") == 0)
			ops |= OP_FSYNC;
		else if (strcmp(t, "fdatasync") == 0)
			ops |= OP_FDATASYNC;
		else if (strcmp(t, "rename") == 0 || strcmp(t, "renameat") == 0)
			ops |= OP_RENAME;
		else if (strcmp(t, "openat") == 0 || strcmp(t, "open") == 0)
			ops |= OP_OPEN;
	}
	return ops;
}

/* Caller holds mu. Re-read the control file if it changed. */
static void reload(void)
{
	const char *ctl = getenv("HOSTMAIL_FAULTS");
	char text[8192];
	struct stat st;
	ssize_t n = 0;
	int fd;

	if (ctl == NULL || stat(ctl, &st) < 0) {
		if (ctl_present) {
			ctl_present = 0;
			nrules = 0;
			active_ops = 0;
		}
		return;
	}
	if (ctl_present && st.st_ino == ctl_seen.st_ino && st.st_size == ctl_seen.st_size &&
	    st.st_mtim.tv_sec == ctl_seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == ctl_seen.st_mtim.tv_nsec)
		return;
	ctl_present = 1;
	ctl_seen = st;
	nrules = 0;
	active_ops = 0;
	if ((fd = raw_open(ctl, O_RDONLY | O_CLOEXEC, 0)) < 0)
		return;
	for (ssize_t r; n < (ssize_t)sizeof text - 1 && (r = raw_read(fd, text + n, sizeof text - 1 - (size_t)n)) > 0;)
		n += r;
	close(fd);
	text[n] = '\0';
	for (char *sv = NULL, *line = strtok_r(text, "\n", &sv); line && nrules < MAX_RULES;
	     line = strtok_r(NULL, "\n", &sv)) {
		char op[128], pat[PATH_MAX], err[32];
		long count = 1, skip = 0;
		int k;

		if (line[0] == '#')
			continue;
		k = sscanf(line, "%127s %4095s %31s %ld %ld", op, pat, err, &count, &skip);
		if (k < 3)
			continue;
		rules[nrules].ops = parse_ops(op);
		snprintf(rules[nrules].pattern, sizeof rules[nrules].pattern, "%s", pat);
		rules[nrules].shortw = strstr(err, ":short") != NULL;
		rules[nrules].delay_ms = strncmp(err, "DELAY:", 6) == 0 ? atol(err + 6) : 0;
		rules[nrules].half = 0;
		if (strchr(err, ':'))
			*strchr(err, ':') = '\0';
		rules[nrules].err = parse_errno(err);
		rules[nrules].count = count;
		rules[nrules].skip = skip;
		active_ops |= rules[nrules].ops;
		nrules++;
	}
}

static void log_hit(const char *opname, int err, const char *path)
{
	const char *lp = getenv("HOSTMAIL_FAULTS_LOG");
	char line[PATH_MAX + 64];
	int fd, n;

	if (lp == NULL)
		return;
	n = snprintf(line, sizeof line, "%s %d %s\n", opname, err, path);
	if (n <= 0 || (fd = raw_open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	raw_write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	close(fd);
}

/* Should this call fail? 0 or the errno to fail with; *half set (if
 * half is not NULL) when the call is to write half and return. path2 may
 * be NULL. */
static int decide(unsigned op, const char *opname, const char *path, const char *path2, int *half)
{
	int err = 0;
	long delay = 0;

	if (getenv("HOSTMAIL_FAULTS") == NULL)
		return 0;
	pthread_mutex_lock(&mu);
	reload();
	for (int i = 0; i < nrules && err == 0; i++) {
		struct rule *r = &rules[i];
		if (!(r->ops & op) || r->count == 0)
			continue;
		if (fnmatch(r->pattern, path, 0) != 0 && (path2 == NULL || fnmatch(r->pattern, path2, 0) != 0))
			continue;
		if (r->skip > 0) {
			r->skip--;
			continue;
		}
		if (r->delay_ms > 0) {
			delay = r->delay_ms;
			if (r->count > 0)
				r->count--;
			continue;
		}
		err = r->err;
		if (half && r->shortw && !r->half) {
			r->half = *half = 1;
			continue;
		}
		r->half = 0;
		if (r->count > 0)
			r->count--;
	}
	pthread_mutex_unlock(&mu);
	if (delay > 0) {
		log_hit("delay", 0, path);
		usleep((useconds_t)delay * 1000);
	}
	if (err)
		log_hit(half && *half ? "short-write" : opname, err, path);
	return err;
}

/* Cheap pre-check so that socket writes do not pay for a readlink. */
static int maybe(unsigned op)
{
	if (getenv("HOSTMAIL_FAULTS") == NULL)
		return 0;
	pthread_mutex_lock(&mu);
	reload();
	int r = (active_ops & op) != 0;
	pthread_mutex_unlock(&mu);
	return r;
}

static int decide_fd(unsigned op, const char *opname, int fd, int *half)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!maybe(op))
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof path - 1)) < 0)
		return 0;
	path[n] = '\0';
	return decide(op, opname, path, NULL, half);
}

/* An absolute form of path (relative to dirfd). */
static void absolute(int dirfd, const char *path, char *out, size_t len)
{
	char base[PATH_MAX];
	ssize_t n;

	if (path[0] == '/') {
		snprintf(out, len, "%s", path);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(base, sizeof base) == NULL)
			base[0] = '\0';
	} else {
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
		n = readlink(link, base, sizeof base - 1);
		base[n < 0 ? 0 : n] = '\0';
	}
	snprintf(out, len, "%s/%s", base, path);
}

static int decide_path(unsigned op, const char *opname, int dirfd, const char *path,
                       int dirfd2, const char *path2)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (!maybe(op))
		return 0;
	absolute(dirfd, path, a, sizeof a);
	if (path2)
		absolute(dirfd2, path2, b, sizeof b);
	return decide(op, opname, a, path2 ? b : NULL, NULL);
}

#define REAL(ret, name, ...)                                                    \
	static ret (*real_##name)(__VA_ARGS__);                                     \
	if (!real_##name)                                                           \
		real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *p, size_t n)
{
	int e;
	int half = 0;
	REAL(ssize_t, write, int, const void *, size_t);
	if ((e = decide_fd(OP_WRITE, "write", fd, &half)) != 0) {
		if (half && n > 1)
			return real_write(fd, p, n / 2);
		errno = e;
		return -1;
	}
	return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	int e;
	int half = 0;
	REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
	if ((e = decide_fd(OP_PWRITE, "pwrite", fd, &half)) != 0) {
		if (half && n > 1)
			return real_pwrite(fd, p, n / 2, off);
		errno = e;
		return -1;
	}
	return real_pwrite(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off_t off)
{
	int e;
	int half = 0;
	REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
	if ((e = decide_fd(OP_PWRITE, "pwrite", fd, &half)) != 0) {
		if (half && n > 1)
			return real_pwrite64(fd, p, n / 2, off);
		errno = e;
		return -1;
	}
	return real_pwrite64(fd, p, n, off);
}

int fsync(int fd)
{
	int e;
	REAL(int, fsync, int);
	if ((e = decide_fd(OP_FSYNC, "fsync", fd, NULL)) != 0) {
		errno = e;
		return -1;
	}
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	int e;
	REAL(int, fdatasync, int);
	if ((e = decide_fd(OP_FDATASYNC, "fdatasync", fd, NULL)) != 0) {
		errno = e;
		return -1;
	}
	return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	int e;
	REAL(int, rename, const char *, const char *);
	if ((e = decide_path(OP_RENAME, "rename", AT_FDCWD, from, AT_FDCWD, to)) != 0) {
		errno = e;
		return -1;
	}
	return real_rename(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
	int e;
	REAL(int, renameat, int, const char *, int, const char *);
	if ((e = decide_path(OP_RENAME, "rename", fd1, from, fd2, to)) != 0) {
		errno = e;
		return -1;
	}
	return real_renameat(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
	int e;
	REAL(int, renameat2, int, const char *, int, const char *, unsigned);
	if ((e = decide_path(OP_RENAME, "rename", fd1, from, fd2, to)) != 0) {
		errno = e;
		return -1;
	}
	return real_renameat2(fd1, from, fd2, to, flags);
}

static int write_intent(int flags)
{
	return (flags & (O_WRONLY | O_RDWR | O_CREAT)) != 0;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

static int open_fault(int dirfd, const char *path, int flags)
{
	return write_intent(flags) ? decide_path(OP_OPEN, "openat", dirfd, path, 0, NULL) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int e;
	REAL(int, open, const char *, int, ...);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if ((e = open_fault(AT_FDCWD, path, flags)) != 0) {
		errno = e;
		return -1;
	}
	return real_open(path, flags, m);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int e;
	REAL(int, open64, const char *, int, ...);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if ((e = open_fault(AT_FDCWD, path, flags)) != 0) {
		errno = e;
		return -1;
	}
	return real_open64(path, flags, m);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int e;
	REAL(int, openat, int, const char *, int, ...);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if ((e = open_fault(dirfd, path, flags)) != 0) {
		errno = e;
		return -1;
	}
	return real_openat(dirfd, path, flags, m);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;
	int e;
	REAL(int, openat64, int, const char *, int, ...);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if ((e = open_fault(dirfd, path, flags)) != 0) {
		errno = e;
		return -1;
	}
	return real_openat64(dirfd, path, flags, m);
}
