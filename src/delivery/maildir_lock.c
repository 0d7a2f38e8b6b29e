/*
 * maildir_lock: see maildir_lock.h. flock on the directory itself, not a
 * lock file in it: nothing to clean up, and the move can still remove the
 * empty Maildir at its end. flock locks belong to the open file
 * description, so two opens in one process exclude each other too.
 */
#include "delivery/maildir_lock.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define LOCK_POLL_MS 20

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int maildir_lock(const char *dir, int wait_ms)
{
	struct timespec poll = { 0, LOCK_POLL_MS * 1000000L };
	long long deadline = now_ms() + wait_ms;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	/* polled, not a blocking flock: the wait stays bounded */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (now_ms() >= deadline) {
			close(fd);
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&poll, NULL);
	}
	return fd;
}

void maildir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);             /* closing the description releases the flock */
}
