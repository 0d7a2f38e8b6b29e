/*
 * control: the queue's control socket (protocol in control.h). The
 * daemon half accepts connections on the event loop, reads one request
 * line, asks the runner and writes one reply line; a connection owns
 * nothing but its bufferevent and is freed in one place (conn_free),
 * after telling the runner to forget it. The client half is a plain
 * blocking exchange for hostmailctl.
 *
 * A socket path must fit sun_path (108 bytes); a longer queue directory
 * is reached through /proc/self/fd/N of a descriptor opened on it.
 */
#include "queue/control.h"
#include "queue/runner.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_READ_TIMEOUT 10

struct ctl_conn {
	struct ctl_server *s;
	struct bufferevent *bev;
	int replied;
	LIST_ENTRY(ctl_conn) link;
};

struct ctl_server {
	struct runner *r;
	struct evconnlistener *l;
	char path[PATH_MAX];
	LIST_HEAD(, ctl_conn) conns;
};

/* The address of queue_dir/control into sa. *dirfd is -1, or a descriptor
 * the address goes through (close it after bind/connect). 0 or -1 + errno. */
static int ctl_addr(const char *queue_dir, struct sockaddr_un *sa, int *dirfd)
{
	int n;

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	*dirfd = -1;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", queue_dir, CTL_SOCKET_NAME);
	if (n >= 0 && (size_t)n < sizeof sa->sun_path)
		return 0;
	if ((*dirfd = open(queue_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, CTL_SOCKET_NAME);
	return 0;
}

/* ---- daemon side ---- */

static void conn_free(struct ctl_conn *c)
{
	LIST_REMOVE(c, link);
	runner_forget(c->s->r, c);
	bufferevent_free(c->bev);
	free(c);
}

static void reply(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct ctl_conn *c, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
	c->replied = 1;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void on_done(void *arg, int err)
{
	struct ctl_conn *c = arg;

	if (err == 0)
		reply(c, "OK 1");
	else if (err == ENOENT)
		reply(c, "ERR no such message");
	else
		reply(c, "ERR %s", strerror(err));
}

static void handle(struct ctl_conn *c, char *line)
{
	struct runner *r = c->s->r;
	char *arg = strchr(line, ' ');
	int n;

	if (arg)
		*arg++ = '\0';
	if (strcmp(line, "FLUSH") == 0) {
		if ((n = runner_flush(r, arg)) < 0) {
			reply(c, "ERR %s", errno == ENOENT ? "no such message" :
			      errno == EINVAL ? "not a queue id" : strerror(errno));
			return;
		}
		log_info("queue: flush requested by the administrator: %s%s, %d message(s) to try now",
		         arg ? "message " : "whole queue", arg ? arg : "", n);
		reply(c, "OK %d", n);
	} else if ((strcmp(line, "DELETE") == 0 || strcmp(line, "BOUNCE") == 0) && arg) {
		bufferevent_disable(c->bev, EV_READ);
		if ((line[0] == 'D' ? runner_delete : runner_bounce)(r, arg, on_done, c) < 0)
			reply(c, "ERR %s", errno == EINVAL ? "not a queue id" :
			      errno == EBUSY ? "already being deleted" : strerror(errno));
	} else {
		reply(c, "ERR unknown request");
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	if (c->replied)
		return;
	if (!(line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX)
			reply(c, "ERR request too long");
		return;
	}
	if (n > CTL_LINE_MAX || strlen(line) != n)
		reply(c, "ERR bad request");
	else
		handle(c, line);
	free(line);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;

	if (c->replied && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg); /* EOF, error or timeout: the client is gone */
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
	struct ctl_server *s = arg;
	struct timeval tv = { CTL_READ_TIMEOUT, 0 };
	struct ctl_conn *c = calloc(1, sizeof *c);

	(void)l;
	(void)sa;
	(void)socklen;
	if (!c || !(c->bev = bufferevent_socket_new(evconnlistener_get_base(s->l), fd,
	                                            BEV_OPT_CLOSE_ON_FREE))) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->s = s;
	LIST_INSERT_HEAD(&s->conns, c, link);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

struct ctl_server *ctl_start(struct runner *r, struct event_base *base, const char *queue_dir)
{
	struct ctl_server *s = calloc(1, sizeof *s);
	struct sockaddr_un sa;
	int fd = -1, dirfd = -1;

	if (!s)
		goto fail;
	s->r = r;
	LIST_INIT(&s->conns);
	if (snprintf(s->path, sizeof s->path, "%s/%s", queue_dir, CTL_SOCKET_NAME) >= (int)sizeof s->path) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (ctl_addr(queue_dir, &sa, &dirfd) < 0)
		goto fail;
	if (unlink(s->path) < 0 && errno != ENOENT)
		goto fail;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0)
		goto fail;
	if (dirfd >= 0)
		close(dirfd);
	dirfd = -1;
	if (!(s->l = evconnlistener_new(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, -1, fd)))
		goto fail;
	return s;
fail:
	log_warn("queue: no control socket %s/%s: %s (hostmailctl queue flush/delete need it)",
	         queue_dir, CTL_SOCKET_NAME, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(s);
	return NULL;
}

void ctl_stop(struct ctl_server *s)
{
	struct ctl_conn *c;

	if (!s)
		return;
	while ((c = LIST_FIRST(&s->conns)))
		conn_free(c);
	evconnlistener_free(s->l);
	unlink(s->path);
	free(s);
}

/* ---- client side (hostmailctl) ---- */

int ctl_request(const char *queue_dir, const char *request, int timeout,
                char *reply_out, size_t replylen)
{
	struct sockaddr_un sa;
	struct timeval tv = { timeout, 0 };
	char req[CTL_LINE_MAX + 2];
	size_t n = 0;
	int fd = -1, dirfd = -1, len, e;

	len = snprintf(req, sizeof req, "%s\n", request);
	if (replylen == 0 || len < 0 || (size_t)len >= sizeof req) {
		errno = EINVAL;
		return -1;
	}
	if (ctl_addr(queue_dir, &sa, &dirfd) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		goto fail;
	for (;;) {
		char ch;
		ssize_t got = recv(fd, &ch, 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			errno = ECONNRESET; /* closed before a whole answer */
		if (got <= 0)
			goto fail;
		if (ch == '\n')
			break;
		if (n + 1 < replylen)
			reply_out[n++] = ch;
	}
	reply_out[n] = '\0';
	close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	reply_out[0] = '\0';
	errno = e;
	return -1;
}
