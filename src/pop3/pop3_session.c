/*
 * pop3_session: connection lifecycle, input loop, worker jobs and message
 * streaming of a POP3 session. Commands are read one line at a time
 * (bounded by POP3_LINE_MAX) and answered in order (PIPELINING): while a
 * worker job runs or a message is being sent, further input stays
 * buffered. RETR and TOP read the file in POP3_CHUNK pieces and stop
 * whenever POP3_OUT_HIGH bytes wait to be sent, going on from the write
 * callback below POP3_OUT_LOW, so a 40 MiB message never sits in memory.
 * The connection (limits, TLS, timers, jobs, the end) is daemon/conn's:
 * its idle clock counts output progress too, so a client slowly reading
 * a long RETR is not idle.
 */
#include "pop3/pop3_session_int.h"
#include "pop3/pop3_proxy.h"
#include "cluster/move_recv.h"
#include "util/buf.h"
#include "util/log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void stream_end(struct pop3_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->streaming = 0;
}

static void p3_free(void *st)
{
	struct pop3_session *s = st;

	stream_end(s);
	pop3_proxy_free(s->proxy);
	move_recv_free(s->put);
	if (s->lock)
		p3_lock_release(s->srv, s->lock);
	pop3_mailbox_free(&s->mb);
	free(s->ibuf);
	free(s->obuf);
	explicit_bzero(s->line, sizeof s->line);
	free(s);
}

void p3_write(struct pop3_session *s, const void *p, size_t n)
{
	conn_write(s->c, p, n);
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
	if (++s->errors >= POP3_MAX_ERRORS && conn_ready(s->c)) {
		log_warn("pop3[%llu] ip=%s: too many errors (%d), disconnecting", s->id, s->ip, s->errors);
		p3_reply(s, "-ERR too many errors, closing connection");
		p3_close_after_reply(s);
	}
}

void p3_close_after_reply(struct pop3_session *s)
{
	stream_end(s);
	conn_close(s->c);
}

/* One command line from input; 0 when no complete line is buffered. */
static int cmd_step(struct pop3_session *s)
{
	size_t len;

	switch (conn_getline(s->c, s->line, sizeof s->line, &len)) {
	case CONN_NOLINE:
		return 0;
	case CONN_LINE_LONG:
		s->auth_wait = 0;
		p3_error(s, "-ERR line too long");
		return 1;
	case CONN_LINE:
		break;
	}
	if (s->auth_wait)
		p3_auth_continue(s, s->line);
	else
		p3_dispatch(s, s->line, len);
	explicit_bzero(s->line, len + 1);
	return 1;
}

/* Commands wait while a message is being sent or replies pile up unread
 * (a client pipelining LISTs without reading): drained() goes on. */
static int can_process(struct pop3_session *s)
{
	return conn_ready(s->c) && !s->streaming && conn_output_pending(s->c) < POP3_OUT_HIGH;
}

static void on_input(struct conn *c, void *st)
{
	struct pop3_session *s = st;

	(void)c;
	if (s->proxy) {
		pop3_proxy_input(s->proxy);
		return;
	}
	if (s->put) {
		move_recv_input(s);
		return;
	}
	while (can_process(s))
		if (!cmd_step(s))
			break;
}

/* Queue message bytes until POP3_OUT_HIGH waits or the message is done. */
static void stream_fill(struct pop3_session *s)
{
	while (s->streaming && conn_ready(s->c) && conn_output_pending(s->c) < POP3_OUT_HIGH) {
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

static void find_done(void *st, void *arg)
{
	struct pop3_session *s = st;
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
		if (p3_job(s, s->srv->workers, find_work, find_done, j) == 0)
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

static void on_drained(struct conn *c, void *st)
{
	struct pop3_session *s = st;

	if (s->proxy) {
		pop3_proxy_drained(s->proxy);
		return;
	}
	if (s->streaming)
		stream_fill(s);
	on_input(c, s);
}

void p3_input_again(struct pop3_session *s)
{
	on_input(s->c, s);
}

/* RFC 1939 section 3: an idle session is closed without a reply and
 * without entering the UPDATE state (no timeout callback). */
static const struct conn_proto pop3_proto = {
	.name = "pop3",
	.input = on_input,
	.drained = on_drained,
	.free = p3_free,
};

void pop3_session_start(struct conn *c)
{
	struct pop3_session *s = calloc(1, sizeof *s);

	if (!s) {
		conn_abort(c);
		return;
	}
	s->c = c;
	s->srv = conn_server(c);
	s->cfg = conn_cfg(c);
	s->id = conn_id(c);
	snprintf(s->ip, sizeof s->ip, "%s", conn_ip(c));
	s->fd = -1;
	s->state = ST_AUTH;
	conn_bind(c, &pop3_proto, s);
	conn_set_input_max(c, POP3_INPUT_HIGH, 0);
	conn_set_output_marks(c, POP3_OUT_LOW, POP3_OUT_HIGH);
	conn_set_idle(c, s->cfg->pop3_timeout);
	p3_reply(s, "+OK %s POP3 server ready", s->cfg->hostname);
}
