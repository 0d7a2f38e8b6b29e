/*
 * pop3_session: connection lifecycle, input loop, worker jobs and message
 * streaming of a POP3 session. Commands are read one line at a time
 * (bounded by POP3_LINE_MAX) and answered in order (PIPELINING): while a
 * worker job runs or a message is being sent, further input stays
 * buffered. RETR and TOP read the file in POP3_CHUNK pieces and stop
 * whenever POP3_OUT_HIGH bytes wait to be sent, going on from the write
 * callback below POP3_OUT_LOW, so a 40 MiB message never sits in memory.
 * A session is freed only from a timer or a libevent callback of its
 * own, never from inside its input loop. Sessions count toward the
 * connection limits shared with SMTP; a TLS handshake has the TLS
 * deadline, then the idle timeout applies.
 */
#include "pop3/pop3_session_int.h"
#include "daemon/connlimit.h"
#include "tls/tls.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/workers.h"
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void stream_end(struct pop3_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->streaming = 0;
}

void p3_free(struct pop3_session *s)
{
	log_info("pop3[%llu] ip=%s: disconnect", s->id, s->ip);
	stream_end(s);
	if (s->lock)
		p3_lock_release(s->srv, s->lock);
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->delay)
		event_free(s->delay);
	if (s->reaper)
		event_free(s->reaper);
	if (s->hs_deadline)
		event_free(s->hs_deadline);
	pop3_mailbox_free(&s->mb);
	connlimit_release(s->srv->conns, s->ip);
	s->srv->nsessions--;
	free(s->ibuf);
	free(s->obuf);
	explicit_bzero(s->line, sizeof s->line);
	free(s);
}

void p3_write(struct pop3_session *s, const void *p, size_t n)
{
	if (s->bev)
		bufferevent_write(s->bev, p, n);
}

static void p3_vreply(struct pop3_session *s, const char *fmt, va_list ap)
{
	struct buf b;

	buf_init(&b, 4096);
	if (buf_vprintf(&b, fmt, ap) < 0) {
		buf_reset(&b);
		buf_puts(&b, "-ERR (reply too long)");
	}
	buf_puts(&b, "\r\n");
	p3_write(s, b.data, b.len);
	buf_free(&b);
}

void p3_reply(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p3_vreply(s, fmt, ap);
	va_end(ap);
}

void p3_error(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p3_vreply(s, fmt, ap);
	va_end(ap);
	if (++s->errors >= POP3_MAX_ERRORS && !s->closing) {
		log_warn("pop3[%llu] ip=%s: too many errors (%d), disconnecting", s->id, s->ip, s->errors);
		p3_reply(s, "-ERR too many errors, closing connection");
		p3_close_after_reply(s);
	}
}

static size_t output_pending(struct pop3_session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));

	if (under)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

/* Bytes the kernel still holds unsent: a client slowly draining the tail
 * of a large RETR is reading, not idle. */
static int kernel_unsent(struct pop3_session *s)
{
	int n = 0;
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	evutil_socket_t fd = bufferevent_getfd(under ? under : s->bev);

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &n) < 0)
		return 0;
	return n;
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_session *s = arg;
	struct timeval tv = { 0, 20000 };

	(void)fd;
	(void)what;
	if (s->busy)
		return; /* job_done reaps */
	if (!s->bev || output_pending(s) == 0 || time(NULL) > s->close_deadline) {
		p3_free(s);
		return;
	}
	evtimer_add(s->reaper, &tv);
}

static void reap_soon(struct pop3_session *s)
{
	struct timeval zero = { 0, 0 };

	evtimer_add(s->reaper, &zero);
}

void p3_close_after_reply(struct pop3_session *s)
{
	if (s->closing)
		return;
	s->closing = 1;
	s->close_deadline = time(NULL) + 30;
	stream_end(s);
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ);
	reap_soon(s);
}

/* One command line from input; 0 when no complete line is buffered. */
static int cmd_step(struct pop3_session *s, struct evbuffer *in)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);
	size_t avail = evbuffer_get_length(in), linelen, len;

	if (p.pos < 0) {
		if (avail > POP3_LINE_MAX) {
			evbuffer_drain(in, avail);
			s->discarding = 1;
		}
		return 0;
	}
	linelen = (size_t)p.pos + 1;
	if (s->discarding || linelen > POP3_LINE_MAX) {
		evbuffer_drain(in, linelen);
		s->discarding = 0;
		s->auth_wait = 0;
		p3_error(s, "-ERR line too long");
		return 1;
	}
	evbuffer_remove(in, s->line, linelen);
	len = linelen - 1;
	if (len > 0 && s->line[len - 1] == '\r')
		len--;
	s->line[len] = '\0';
	if (s->auth_wait)
		p3_auth_continue(s, s->line);
	else
		p3_dispatch(s, s->line, len);
	explicit_bzero(s->line, linelen);
	return 1;
}

/* Commands wait while a job runs, a message is being sent, or replies pile
 * up unread (a client pipelining LISTs without reading): on_write goes on. */
static int can_process(struct pop3_session *s)
{
	return !s->busy && !s->closing && !s->streaming && s->bev &&
	       evbuffer_get_length(bufferevent_get_output(s->bev)) < POP3_OUT_HIGH;
}

static void p3_process(struct pop3_session *s)
{
	/* the input buffer is fetched each time: STLS replaces the bufferevent */
	while (can_process(s))
		if (!cmd_step(s, bufferevent_get_input(s->bev)))
			break;
}

void p3_resume(struct pop3_session *s)
{
	if (s->bev)
		p3_process(s);
}

/* Queue message bytes until POP3_OUT_HIGH waits or the message is done. */
static void stream_fill(struct pop3_session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	while (s->streaming && evbuffer_get_length(out) < POP3_OUT_HIGH) {
		ssize_t n = s->enc.done ? 0 : read(s->fd, s->ibuf, POP3_CHUNK);
		size_t o;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* the +OK is out: all we can do is stop short, and the client sees it */
			log_warn("pop3[%llu] ip=%s: reading a message of %s: %s", s->id, s->ip, s->mailbox,
			         strerror(errno));
			p3_close_after_reply(s);
			return;
		}
		if (n == 0) {
			o = pop3_enc_finish(&s->enc, s->obuf);
			p3_write(s, s->obuf, o);
			stream_end(s);
			return;
		}
		o = pop3_enc_step(&s->enc, s->ibuf, (size_t)n, s->obuf);
		p3_write(s, s->obuf, o);
	}
}

struct find_job {
	struct pop3_mailbox *mb;
	size_t i;
	long body_lines;
	char *found;
	int err;
};

static void send_message(struct pop3_session *s, size_t i, long body_lines, int may_search);

static void find_work(void *arg)
{
	struct find_job *j = arg;

	j->err = pop3_msg_find(j->mb, &j->mb->msgs[j->i], &j->found) < 0 ? errno : 0;
}

static void find_done(struct pop3_session *s, void *arg)
{
	struct find_job *j = arg;

	if (s && j->err == 0) {
		struct pop3_msg *m = &s->mb.msgs[j->i];
		log_info("pop3[%llu] ip=%s: message %zu was renamed by another program: %s", s->id, s->ip,
		         j->i + 1, j->found);
		free(m->name);
		m->name = j->found;
		m->in_new = 0;
		j->found = NULL;
		send_message(s, j->i, j->body_lines, 0);
	} else if (s) {
		log_info("pop3[%llu] ip=%s: message %zu of %s was removed by another program", s->id, s->ip,
		         j->i + 1, s->mailbox);
		p3_error(s, "-ERR message %zu was removed by another program", j->i + 1);
	}
	free(j->found);
	free(j);
}

/* The message file is gone: renamed (another client changed its flags)
 * or removed. Look for it by its base name on a worker. */
static void search_message(struct pop3_session *s, size_t i, long body_lines)
{
	struct find_job *j = calloc(1, sizeof *j);

	if (j) {
		j->mb = &s->mb;
		j->i = i;
		j->body_lines = body_lines;
		if (p3_job(s, find_work, find_done, j) == 0)
			return;
		free(j);
	}
	p3_reply(s, "-ERR [SYS/TEMP] cannot read message %zu, try again later", i + 1);
}

static void send_message(struct pop3_session *s, size_t i, long body_lines, int may_search)
{
	char path[4096];
	struct pop3_msg *m = &s->mb.msgs[i];
	struct stat st;
	int e = 0;

	if (!s->ibuf && (!(s->ibuf = malloc(POP3_CHUNK)) || !(s->obuf = malloc(2 * POP3_CHUNK + 8)))) {
		p3_reply(s, "-ERR [SYS/TEMP] out of memory, try again later");
		return;
	}
	/* O_NONBLOCK: never hang on a FIFO; a regular file reads as usual */
	if (pop3_msg_path(&s->mb, m, path, sizeof path) < 0 ||
	    (s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		e = errno;
	else if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode))
		e = EINVAL;
	if (e != 0) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		if (e == ENOENT && may_search) {
			search_message(s, i, body_lines);
		} else if (e == ENOENT) {
			p3_error(s, "-ERR message %zu was removed by another program", i + 1);
		} else if (e == EINVAL || e == ELOOP || e == EACCES || e == EPERM) {
			log_warn("pop3[%llu] ip=%s: open %s: %s", s->id, s->ip, path,
			         e == EINVAL ? "not a regular file" : strerror(e));
			p3_error(s, "-ERR cannot read message %zu", i + 1);
		} else {
			log_warn("pop3[%llu] ip=%s: open %s: %s", s->id, s->ip, path, strerror(e));
			p3_reply(s, "-ERR [SYS/TEMP] cannot read message %zu, try again later", i + 1);
		}
		return;
	}
	if (body_lines < 0)
		p3_reply(s, "+OK %llu octets", (unsigned long long)m->size);
	else
		p3_reply(s, "+OK top of message follows");
	pop3_enc_init(&s->enc, body_lines);
	s->streaming = 1;
	stream_fill(s);
}

void p3_send_message(struct pop3_session *s, size_t i, long body_lines)
{
	send_message(s, i, body_lines, 1);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	p3_process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct pop3_session *s = arg;

	(void)bev;
	if (s->streaming)
		stream_fill(s);
	p3_process(s);
}

/* End s now; a worker job holding it frees it when done. */
static void p3_abort(struct pop3_session *s)
{
	if (s->busy) {
		s->dead = 1;
		stream_end(s);
		bufferevent_free(s->bev);
		s->bev = NULL;
		return;
	}
	p3_free(s);
}

/* The handshake deadline, from its start (the idle timeout restarts with
 * every byte, so a trickled ClientHello would outlive it). */
static void on_hs_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_session *s = arg;

	(void)fd;
	(void)what;
	if (!s->handshaking)
		return;
	log_info("pop3[%llu] ip=%s: TLS handshake timeout", s->id, s->ip);
	p3_abort(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pop3_session *s = arg;
	unsigned long e;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake finished: from now on the idle timeout */
		s->handshaking = 0;
		if (s->hs_deadline)
			evtimer_del(s->hs_deadline);
		p3_set_timeout(s, s->srv->cfg->pop3_timeout);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && s->handshaking) {
		log_info("pop3[%llu] ip=%s: TLS handshake timeout", s->id, s->ip);
	} else if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !s->closing &&
	    (s->streaming || output_pending(s) > 0 || kernel_unsent(s) > 0)) {
		/* not idle: a long RETR is still being sent (the write timeout
		 * catches a client that stopped reading) */
		bufferevent_enable(s->bev, EV_READ);
		return;
	} else if (what & BEV_EVENT_TIMEOUT) {
		/* RFC 1939 section 3: close without a reply and without UPDATE */
		if (!s->closing)
			log_info("pop3[%llu] ip=%s: idle timeout", s->id, s->ip);
	} else if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
		return;
	}
	while ((e = bufferevent_get_openssl_error(s->bev)) != 0) {
		char eb[256];
		ERR_error_string_n(e, eb, sizeof eb);
		log_info("pop3[%llu] ip=%s: TLS error: %s", s->id, s->ip, eb);
	}
	p3_abort(s);
}

struct p3_job_ctx {
	struct pop3_session *s;
	void (*work)(void *);
	void (*done)(struct pop3_session *, void *);
	void *arg;
};

static void job_work(void *p)
{
	struct p3_job_ctx *j = p;

	j->work(j->arg);
}

static void job_done(void *p)
{
	struct p3_job_ctx *j = p;
	struct pop3_session *s = j->s;

	s->busy = 0;
	if (s->dead) {
		j->done(NULL, j->arg);
		p3_free(s);
	} else {
		j->done(s, j->arg);
		if (s->closing)
			reap_soon(s);
		else if (!s->busy)
			p3_resume(s);
	}
	free(j);
}

int p3_job(struct pop3_session *s, void (*work)(void *),
           void (*done)(struct pop3_session *, void *), void *arg)
{
	return p3_job_on(s, s->srv->workers, work, done, arg);
}

int p3_job_on(struct pop3_session *s, struct workers *pool, void (*work)(void *),
              void (*done)(struct pop3_session *, void *), void *arg)
{
	struct p3_job_ctx *j = malloc(sizeof *j);

	if (!j)
		return -1;
	j->s = s;
	j->work = work;
	j->done = done;
	j->arg = arg;
	if (workers_submit(pool, job_work, job_done, j) < 0) {
		free(j);
		return -1;
	}
	s->busy = 1;
	return 0;
}

void p3_set_timeout(struct pop3_session *s, int seconds)
{
	struct timeval tv = { seconds, 0 };

	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

void p3_attach(struct pop3_session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);

	bufferevent_setcb(s->bev, on_read, on_write, on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, POP3_INPUT_HIGH);
	bufferevent_setwatermark(s->bev, EV_WRITE, POP3_OUT_LOW, 0);
	/* under STLS the TLS filter stops encrypting above this, so the
	 * filter's own output is what stream_fill sees grow */
	if (under) {
		bufferevent_setwatermark(under, EV_WRITE, 0, POP3_OUT_HIGH);
		/* the timeouts are the filter's: a timeout of the socket below
		 * would disable its reading behind the filter's back, and a
		 * session kept alive by a long RETR would never read again */
		bufferevent_set_timeouts(under, NULL, NULL);
	}
	p3_set_timeout(s, s->handshaking ? s->srv->cfg->tls_handshake_timeout : s->srv->cfg->pop3_timeout);
	if (s->handshaking) {
		struct timeval tv = { s->srv->cfg->tls_handshake_timeout, 0 };

		if (s->hs_deadline || (s->hs_deadline = evtimer_new(s->srv->base, on_hs_deadline, s)))
			evtimer_add(s->hs_deadline, &tv);
	}
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

static void peer_ip(const struct sockaddr *sa, char *ip, size_t iplen)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)sa;
		inet_ntop(AF_INET6, &a6->sin6_addr, ip, (socklen_t)iplen);
		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, (socklen_t)iplen);
	}
}

/* Over a connection limit: one -ERR, written without waiting, and close. */
static void refuse_connection(struct server *srv, evutil_socket_t fd, const char *ip, int why,
                              enum listener_kind kind)
{
	char line[300];
	int n = snprintf(line, sizeof line, "-ERR [SYS/TEMP] %s too many connections%s, try again later\r\n",
	                 srv->cfg->hostname, why == CONN_TOO_MANY_FROM_IP ? " from your address" : "");

	log_warn("pop3: ip=%s refused: too many connections%s", ip,
	         why == CONN_TOO_MANY_FROM_IP ? " from this address" : " in total");
	/* POP3S: the client expects a TLS handshake, a clear-text line would only confuse it */
	if (kind != LISTEN_POP3S && send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the client is gone or not reading: nothing more to do */
	}
	evutil_closesocket(fd);
}

void pop3_session_start(struct server *srv, evutil_socket_t fd,
                        const struct sockaddr *sa, int socklen, enum listener_kind kind)
{
	struct pop3_session *s;
	char ip[INET6_ADDRSTRLEN];
	int lim;

	(void)socklen;
	peer_ip(sa, ip, sizeof ip);
	lim = connlimit_acquire(srv->conns, ip, srv->cfg->max_connections, srv->cfg->max_connections_per_ip);
	if (lim != CONN_OK) {
		refuse_connection(srv, fd, ip, lim, kind);
		return;
	}
	if (!(s = calloc(1, sizeof *s))) {
		connlimit_release(srv->conns, ip);
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	s->kind = kind;
	s->fd = -1;
	s->state = ST_AUTH;
	s->id = ++srv->next_session_id;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	if (kind == LISTEN_POP3S) {
		SSL *ssl = srv->tls ? tls_server_new_ssl(srv->tls) : NULL;
		if (ssl)
			s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
			                                        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		s->tls = s->handshaking = 1;
	} else {
		s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!s->bev) {
		evutil_closesocket(fd);
		connlimit_release(srv->conns, ip);
		free(s);
		return;
	}
	srv->nsessions++;
	p3_init_delay(s);
	s->reaper = evtimer_new(srv->base, on_reap, s);
	p3_attach(s);
	log_info("pop3[%llu] ip=%s: connect%s", s->id, s->ip, s->tls ? " (TLS)" : "");
	p3_reply(s, "+OK %s POP3 server ready", srv->cfg->hostname);
}
