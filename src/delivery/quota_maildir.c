/*
 * quota_maildir: the Maildir++ maildirsize file of a Maildir (quota.h,
 * maildirsize.h). Changes are appended with one write(2) of one short
 * line under O_APPEND, as courier and Dovecot do, so concurrent writers
 * (our deliveries, POP3, Dovecot's IMAP) never mix lines. A
 * recalculation scans new/ and cur/ and replaces the file by a rename
 * from tmp/, so a reader sees the old file or the new one.
 */
#include "delivery/quota.h"
#include "delivery/maildirsize.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int quota_maildir_path(const char *data_dir, const char *address, char *out, size_t outlen)
{
	const char *at = strrchr(address, '@');
	int n;

	if (!at || at == address || !at[1] || address[0] == '.' || at[1] == '.' ||
	    memchr(address, '/', strlen(address))) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, outlen, "%s/mail/%s/%.*s", data_dir, at + 1, (int)(at - address), address);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The S= of a Maildir file name, or -1. */
static int64_t name_size(const char *name)
{
	const char *p = strstr(name, ",S=");
	int64_t v = 0;

	if (!p)
		return -1;
	for (p += 3; *p >= '0' && *p <= '9'; p++) {
		if (v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static int scan_dir(const char *md, const char *sub, struct quota_usage *u)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if (snprintf(dir, sizeof dir, "%s/%s", md, sub) >= (int)sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		int64_t sz;
		if (de->d_name[0] == '.')
			continue;
		if ((sz = name_size(de->d_name)) < 0) {
			if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path ||
			    stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
				continue;   /* gone meanwhile (POP3 DELE, a move): not counted */
			sz = (int64_t)sb.st_size;
		}
		u->bytes += sz;
		u->messages++;
	}
	closedir(d);
	return 0;
}

int quota_maildir_scan(const char *md, struct quota_usage *u)
{
	u->bytes = u->messages = 0;
	return scan_dir(md, "new", u) < 0 || scan_dir(md, "cur", u) < 0 ? -1 : 0;
}

/* Write the file anew: quota line and the totals, via tmp/ and rename. */
static int rewrite(const char *md, const char *qline, const struct quota_usage *u)
{
	char tmp[PATH_MAX], dst[PATH_MAX], text[MAILDIRSIZE_LINE_MAX * 2];
	int n, fd, r = 0;
	size_t len;

	n = snprintf(text, sizeof text, "%s\n", qline);
	if (n < 0 || (size_t)n >= sizeof text)
		return -1;
	len = (size_t)n;
	if ((n = maildirsize_usage_line(u->bytes, u->messages, text + len, sizeof text - len)) < 0)
		return -1;
	len += (size_t)n;
	if (snprintf(tmp, sizeof tmp, "%s/tmp/maildirsize.%ld.%ld", md, (long)getpid(), (long)time(NULL)) >=
	        (int)sizeof tmp ||
	    snprintf(dst, sizeof dst, "%s/maildirsize", md) >= (int)sizeof dst) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return errno == ENOENT ? 0 : -1;   /* no Maildir yet: nothing to keep */
	if (write(fd, text, len) != (ssize_t)len)
		r = -1;
	if (close(fd) < 0)
		r = -1;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -1;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The file's content into buf (at most MAILDIRSIZE_MAX bytes): its length,
 * MAILDIRSIZE_MAX + 1 when longer, or -1 (ENOENT: none). */
static ssize_t read_file(const char *md, char *buf)
{
	char path[PATH_MAX];
	ssize_t n, got = 0;
	int fd;

	if (snprintf(path, sizeof path, "%s/maildirsize", md) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (got <= MAILDIRSIZE_MAX) {
		n = read(fd, buf + got, (size_t)(MAILDIRSIZE_MAX + 1 - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	return got;
}

int quota_maildir_usage(const char *md, const struct quota_limit *q, struct quota_usage *u)
{
	char buf[MAILDIRSIZE_MAX + 1], qline[MAILDIRSIZE_LINE_MAX];
	struct maildirsize m;
	ssize_t n;

	if (maildirsize_quota_line(q->bytes, q->messages, qline, sizeof qline) < 0) {
		errno = EINVAL;
		return -1;
	}
	n = read_file(md, buf);
	if (n < 0 && errno != ENOENT)
		return -1;
	if (n >= 0 && n <= MAILDIRSIZE_MAX && maildirsize_parse(buf, (size_t)n, &m) == 0 &&
	    m.quota_bytes == q->bytes && m.quota_messages == q->messages && m.bytes >= 0 && m.messages >= 0) {
		u->bytes = m.bytes;
		u->messages = m.messages;
		return 0;
	}
	if (quota_maildir_scan(md, u) < 0)
		return -1;
	return rewrite(md, qline, u);
}

int quota_maildir_add(const char *md, int64_t bytes, int64_t messages)
{
	char path[PATH_MAX], line[MAILDIRSIZE_LINE_MAX];
	int fd, n, r = 0;

	if (snprintf(path, sizeof path, "%s/maildirsize", md) >= (int)sizeof path ||
	    (n = maildirsize_usage_line(bytes, messages, line, sizeof line)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (write(fd, line, (size_t)n) != n)
		r = -1;
	if (close(fd) < 0)
		r = -1;
	if (r < 0)
		unlink(path);   /* a half line: recalculated next time */
	return r;
}
