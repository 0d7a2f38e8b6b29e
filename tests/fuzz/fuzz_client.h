/*
 * fuzz_client: the client end of the whole-session harnesses
 * (fuzz_smtp_session, fuzz_pop3_session). The input is written to one end
 * of a socketpair whose other end is a real session of a real struct
 * server, on the server's own event loop; every line the server sends is
 * handed to the harness's check. The client writes up to a limit the
 * harness picks (say, the end of a "DATA" line), waits until the server is
 * quiet (no worker job, no active event, nothing new read for QUIET turns
 * of the loop), then writes on; at the end of the input it shuts its side
 * down, as a client leaving, and the loop runs until the session is gone.
 * (Shutting down at once would end the session at the first command that
 * waits for a worker: a session drops what is still buffered when its
 * peer has gone.)
 */
#ifndef HM_FUZZ_CLIENT_H
#define HM_FUZZ_CLIENT_H
#include "daemon/server.h"
#include "util/workers.h"
#include "fuzz_common.h"
#include <event2/event.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_CLIENT_LINE 8192

struct fuzz_client {
	int fd;
	const uint8_t *out;
	size_t outlen, sent;
	size_t limit;              /* write up to here, then wait for quiet */
	int closed, shut;
	char in[FUZZ_CLIENT_LINE]; /* the line being read */
	size_t inlen, got;
	struct event *ev_r, *ev_w;
	/* the harness's check of each line read (n counts the LF) */
	void (*line)(const char *l, size_t n);
	/* where to stop writing next, from offset from (the input's end: all) */
	size_t (*next_limit)(const struct fuzz_client *c, size_t from);
};

static void fuzz_client_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_client *c = arg;
	char b[4096];
	ssize_t n = read(fd, b, sizeof b);

	(void)what;
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		c->closed = 1;
		event_del(c->ev_r);
		event_del(c->ev_w);
		return;
	}
	c->got += (size_t)n;
	for (ssize_t i = 0; i < n; i++) {
		CHECK(c->inlen < sizeof c->in);   /* lines are bounded */
		c->in[c->inlen++] = b[i];
		if (b[i] == '\n') {
			c->line(c->in, c->inlen);
			c->inlen = 0;
		}
	}
}

static void fuzz_client_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_client *c = arg;
	ssize_t n;

	(void)what;
	if (c->sent < c->limit) {
		n = write(fd, c->out + c->sent, c->limit - c->sent);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			c->sent = c->limit = c->outlen;   /* the server closed: stop writing */
	}
	if (c->sent >= c->limit)
		event_del(c->ev_w);
}

/* A socketpair: *server_fd for the session, the other end for c, which
 * will write out[0..outlen) and check lines with line(). */
static void fuzz_client_open(struct fuzz_client *c, struct server *srv, int *server_fd,
                             const uint8_t *out, size_t outlen,
                             void (*line)(const char *, size_t),
                             size_t (*next_limit)(const struct fuzz_client *, size_t))
{
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(evutil_make_socket_nonblocking(sv[0]) == 0 && evutil_make_socket_nonblocking(sv[1]) == 0);
	memset(c, 0, sizeof *c);
	c->fd = sv[1];
	c->out = out;
	c->outlen = outlen;
	c->line = line;
	c->next_limit = next_limit;
	c->limit = next_limit(c, 0);
	c->ev_r = event_new(srv->base, c->fd, EV_READ | EV_PERSIST, fuzz_client_on_read, c);
	c->ev_w = event_new(srv->base, c->fd, EV_WRITE | EV_PERSIST, fuzz_client_on_write, c);
	CHECK(c->ev_r && c->ev_w);
	event_add(c->ev_r, NULL);
	event_add(c->ev_w, NULL);
	*server_fd = sv[0];
}

/* Run srv's loop until the session is gone (srv->nsessions back to 0). */
#define QUIET 4
static void fuzz_client_run(struct fuzz_client *c, struct server *srv)
{
	int quiet = 0;
	size_t seen;

	while (!c->closed || srv->nsessions > 0) {
		if (c->closed || c->shut || workers_pending(srv->workers) || workers_pending(srv->auth_workers)) {
			event_base_loop(srv->base, EVLOOP_ONCE);
			quiet = 0;
			continue;
		}
		if (quiet >= QUIET && c->sent < c->outlen) {
			c->limit = c->next_limit(c, c->sent);   /* the server has answered */
			event_add(c->ev_w, NULL);
			quiet = 0;
		} else if (quiet >= QUIET) {
			shutdown(c->fd, SHUT_WR);
			c->shut = 1;
			continue;
		}
		seen = c->got;
		event_base_loop(srv->base, EVLOOP_NONBLOCK);
		if (c->sent >= c->limit && c->got == seen &&
		    event_base_get_num_events(srv->base, EVENT_BASE_COUNT_ACTIVE) == 0)
			quiet++;
		else
			quiet = 0;
	}
}

/* After fuzz_client_run: no half line at the close; release c. */
static void fuzz_client_close(struct fuzz_client *c)
{
	CHECK(c->inlen == 0);
	event_free(c->ev_r);
	event_free(c->ev_w);
	close(c->fd);
}

#endif
