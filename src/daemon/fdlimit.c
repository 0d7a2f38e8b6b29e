/*
 * fdlimit: the descriptor limit at start and the spare descriptor that
 * sheds connections when it is reached (see fdlimit.h).
 */
#define _GNU_SOURCE
#include "daemon/fdlimit.h"
#include "util/config.h"
#include "util/log.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int spare_fd = -1;

static void spare_open(void)
{
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

long fdlimit_needed(const struct config *c)
{
	int nlisteners = c->smtp.n + c->submission.n + c->submissions.n + c->pop3.n + c->pop3s.n +
	                 c->acc.n + c->admin.n + c->pop3_cluster.n;

	return (long)c->max_connections + c->acc_max_connections + c->delivery_max_connections +
	       c->store_pool_size + c->worker_threads + nlisteners + FD_RESERVE;
}

long fdlimit_setup(const struct config *c)
{
	struct rlimit rl;
	long need = fdlimit_needed(c);

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		spare_open();
		return -1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("cannot raise RLIMIT_NOFILE from %llu to %llu: %s", (unsigned long long)was,
			         (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = was;
		} else {
			log_info("descriptors: RLIMIT_NOFILE raised from %llu to %llu", (unsigned long long)was,
			         (unsigned long long)rl.rlim_cur);
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)need > rl.rlim_cur)
		log_warn("descriptors: the configured caps may need %ld descriptors ([limits] "
		         "max_connections %d + [acc] max_connections %d + [delivery] max_connections %d"
		         " + %d for the daemon's own use) but RLIMIT_NOFILE allows %llu: raise the hard "
		         "limit (LimitNOFILE=, ulimit -Hn) or lower the caps; at the limit new "
		         "connections are refused", need, c->max_connections, c->acc_max_connections,
		         c->delivery_max_connections,
		         (int)(need - c->max_connections - c->acc_max_connections - c->delivery_max_connections),
		         (unsigned long long)rl.rlim_cur);
	spare_open();
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

int fdlimit_shed(int lfd, const char *line)
{
	int fd;

	if (spare_fd < 0)
		return 0;
	close(spare_fd);
	spare_fd = -1;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		if (line && send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* not reading or gone: the close says enough */
		}
		close(fd);
	}
	spare_open();
	return fd >= 0;
}
