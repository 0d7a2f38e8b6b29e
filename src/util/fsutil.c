/* fsutil: write, fsync, rename, fsync-directory (see fsutil.h). */
#define _GNU_SOURCE   /* memmem */
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r, e;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int parent_dir(const char *path, char *out, size_t len)
{
	char *slash;

	if (snprintf(out, len, "%s", path) >= (int)len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	slash = strrchr(out, '/');
	if (slash == NULL)
		snprintf(out, len, ".");
	else if (slash == out)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

int fsync_parent(const char *path)
{
	char dir[PATH_MAX];

	if (parent_dir(path, dir, sizeof dir) < 0)
		return -1;
	return fsync_dir(dir);
}

int rename_durably(const char *from, const char *to)
{
	if (rename(from, to) < 0)
		return -1;
	return fsync_parent(to);
}

int write_file_durably(const char *path, const void *data, size_t n, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, e;

	if (snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, n) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || rename_durably(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	size_t i, n;

	n = strlen(path);
	if (n == 0 || n >= sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] == '/' || p[i] == '\0') {
			char c = p[i];
			p[i] = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return -1;
			p[i] = c;
		}
	}
	return 0;
}

int open_read_at(const char *path, off_t offset)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0 || offset == 0 || lseek(fd, offset, SEEK_SET) == offset)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

size_t read_header_section(const char *path, uint64_t offset, size_t cap, char *out)
{
	int fd = open_read_at(path, (off_t)offset);
	size_t n = 0;
	char *end;

	if (fd < 0)
		return 0;
	while (n < cap) {
		ssize_t got = read(fd, out + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (n == 0)
		return 0;
	if ((end = memmem(out, n, "\r\n\r\n", 4)) != NULL)
		return (size_t)(end - out) + 2;
	while (n > 0 && out[n - 1] != '\n')
		n--;
	return n;
}
