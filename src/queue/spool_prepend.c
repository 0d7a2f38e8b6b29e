/*
 * spool_prepend: bytes put before a message already spooled (queue.h).
 * The message streams to disk as it arrives, but a DKIM signature covers
 * the whole body and belongs at the top: so at the commit the file is
 * copied once behind the new fields (copy_file_range: in the kernel,
 * often without touching the data) into tmp/ID.msg.new, which is renamed
 * over tmp/ID.msg. A crash in between leaves only tmp/ debris, which
 * queue_sweep removes; the message was not accepted yet.
 */
#define _GNU_SOURCE    /* copy_file_range */
#include "queue/queue_priv.h"
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int spool_open_read(const struct spool *sp)
{
	int fd = open(sp->tmp, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, QUEUE_MSG_OFFSET, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* len bytes of in from its position to out's, in the kernel if it can. */
static int copy_rest(int in, int out, uint64_t len)
{
	char b[65536];

	while (len > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, len, 0);
		if (n > 0) {
			len -= (uint64_t)n;
			continue;
		}
		if (n == 0) {
			errno = EIO;   /* the file is shorter than its size */
			return -1;
		}
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		/* no copy_file_range here: read and write */
		n = read(in, b, len < sizeof b ? len : sizeof b);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (write_all(out, b, (size_t)n) < 0)
			return -1;
		len -= (uint64_t)n;
	}
	return 0;
}

int spool_prepend(struct spool *sp, const void *p, size_t n)
{
	return spool_replace_head(sp, p, n, 0);
}

int spool_replace_head(struct spool *sp, const void *p, size_t n, uint64_t skip)
{
	char tmp[PATH_MAX];
	int in = -1, out = -1, e;

	if (skip > sp->size) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(tmp, sizeof tmp, "%s.new", sp->tmp) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((in = spool_open_read(sp)) < 0)
		return -1;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || write_version(out, 0, 0) < 0 || write_all(out, p, n) < 0 ||
	    lseek(in, (off_t)(QUEUE_MSG_OFFSET + skip), SEEK_SET) < 0 ||
	    copy_rest(in, out, sp->size - skip) < 0 || rename(tmp, sp->tmp) < 0)
		goto fail;
	close(in);
	close(sp->fd);
	sp->fd = out;       /* at its end: later writes append */
	sp->size = sp->size - skip + n;
	return 0;
fail:
	e = errno;
	close(in);
	if (out >= 0) {
		close(out);
		unlink(tmp);
	}
	errno = e;
	return -1;
}
