/*
 * smtp_session: connection lifecycle and input loop of an inbound SMTP
 * session. Commands are read one line at a time (bounded by SMTP_LINE_MAX),
 * replies are queued on the bufferevent and flushed by libevent, so
 * pipelined commands are answered in order. While a worker job runs for
 * the session (busy) input stays buffered, up to SMTP_INPUT_HIGH bytes.
 */
#include "smtp/smtp_session_int.h"
#include "smtp/reply.h"
#include "queue/queue.h"
#include "util/log.h"
#include "util/workers.h"
#include "tls/tls.h"
#include "daemon/connlimit.h"
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* End s now; a worker job holding it frees it when done. */
static void session_abort(struct smtp_session *s)
{
	if (s->busy) {
		s->dead = 1;
		bufferevent_free(s->bev);
		s->bev = NULL;
		return;
	}
	session_free(s);
}

void session_free(struct smtp_session *s)
{
	log_info("smtp[%llu] ip=%s: disconnect", s->id, s->ip);
	if (s->spool)
		spool_abort(s->spool);
	buf_free(&s->wbuf);
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->delay)
		event_free(s->delay);
	if (s->reaper)
		event_free(s->reaper);
	if (s->hs_deadline)
		event_free(s->hs_deadline);
	s->srv->nsessions--;
	connlimit_release(s->srv->conns, s->ip);
	buf_free(&s->hdr);
	free(s->domains);
	free(s->rcpts);
	free(s->dbuf);
	free(s);
}

static void session_vreply(struct smtp_session *s, int code, const char *enh,
                           const char *fmt, va_list ap)
{
	struct buf text, out;

	buf_init(&text, 4096);
	buf_init(&out, 8192);
	if (buf_vprintf(&text, fmt, ap) < 0)
		buf_puts(&text, "(reply too long)");
	if (smtp_reply(&out, code, enh, "%s", text.data ? text.data : "") == 0)
		bufferevent_write(s->bev, out.data, out.len);
	buf_free(&text);
	buf_free(&out);
}

void session_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, code, enh, fmt, ap);
	va_end(ap);
}

/* Count a client error; too many end the session. */
static void count_error(struct smtp_session *s)
{
	if (++s->errors >= s->srv->cfg->smtp_max_errors && !s->closing) {
		log_warn("smtp[%llu] ip=%s%s%s: too many errors (%d), disconnecting", s->id, s->ip,
		         LOG_ACCOUNT(s), s->errors);
		session_reply(s, 421, "4.7.0", "%s Error: too many errors", s->srv->cfg->hostname);
		session_close_after_reply(s);
	}
}

void session_error(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	char text[512], safe[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* every refusal, one line with the IP (and account): what fail2ban reads */
	log_info("smtp[%llu] ip=%s%s%s: refused: %d %s %s", s->id, s->ip,
	         LOG_ACCOUNT(s), code, enh,
	         log_safe(text, strlen(text), safe, sizeof safe));
	session_reply(s, code, enh, "%s", text);
	count_error(s);
}

void session_error_logged(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, code, enh, fmt, ap);
	va_end(ap);
	count_error(s);
}

void session_set_timeout(struct smtp_session *s, int seconds)
{
	struct timeval tv = { seconds, 0 };

	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static size_t output_pending(struct smtp_session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));

	if (under)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

/* Closing: free once every reply byte (through TLS too) has left, never
 * from inside the input loop, so no caller up the stack sees a freed session. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;
	struct timeval tv = { 0, 20000 };

	(void)fd;
	(void)what;
	if (s->busy)
		return; /* job_done reaps */
	if (!s->bev || output_pending(s) == 0 || time(NULL) > s->close_deadline) {
		session_free(s);
		return;
	}
	evtimer_add(s->reaper, &tv);
}

static void reap_soon(struct smtp_session *s)
{
	struct timeval zero = { 0, 0 };

	evtimer_add(s->reaper, &zero);
}

static void on_flushed(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;

	(void)bev;
	if (s->closing)
		reap_soon(s);
}

void session_close_after_reply(struct smtp_session *s)
{
	if (s->closing)
		return;
	s->closing = 1;
	s->close_deadline = time(NULL) + 30;
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ);
	reap_soon(s);
}

/* One command line from input; 0 when no complete line is buffered. */
static int cmd_step(struct smtp_session *s, struct evbuffer *in)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);
	size_t avail = evbuffer_get_length(in), linelen, len;

	if (p.pos < 0) {
		if (avail > SMTP_LINE_MAX) {
			evbuffer_drain(in, avail);
			s->discarding = 1;
		}
		return 0;
	}
	linelen = (size_t)p.pos + 1;
	if (s->discarding || linelen > SMTP_LINE_MAX) {
		evbuffer_drain(in, linelen);
		s->discarding = 0;
		session_error(s, 500, "5.5.6", "Error: line too long");
		return 1;
	}
	evbuffer_remove(in, s->line, linelen);
	len = linelen - 1;
	if (len > 0 && s->line[len - 1] == '\r')
		len--;
	s->line[len] = '\0';
	if (s->mode == MODE_AUTH)
		auth_continue(s, s->line);
	else
		smtp_dispatch(s, s->line, len);
	return 1;
}

static void session_process(struct smtp_session *s)
{
	while (!s->busy && !s->closing) {
		/* fetched each time: STARTTLS replaces the bufferevent */
		struct evbuffer *in = bufferevent_get_input(s->bev);
		int progressed;

		if (s->mode == MODE_DATA)
			progressed = txn_data_step(s, in);
		else if (s->mode == MODE_BDAT)
			progressed = txn_bdat_step(s, in);
		else
			progressed = cmd_step(s, in);
		if (!progressed)
			break;
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_process(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake finished */
		s->tls_handshaking = 0;
		if (s->hs_deadline)
			evtimer_del(s->hs_deadline);
		session_set_timeout(s, s->mode == MODE_CMD ? s->srv->cfg->smtp_timeout : s->srv->cfg->smtp_data_timeout);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->tls_handshaking) {
			log_info("smtp[%llu] ip=%s: TLS handshake timeout", s->id, s->ip);
			session_free(s);
			return;
		}
		if (s->closing) {
			session_free(s);
			return;
		}
		log_info("smtp[%llu] ip=%s: timeout", s->id, s->ip);
		session_reply(s, 421, "4.4.2", "%s Error: timeout exceeded", s->srv->cfg->hostname);
		session_close_after_reply(s);
		/* the write timeout still bounds how long we wait for the flush */
		bufferevent_enable(s->bev, EV_WRITE);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		unsigned long e;
		while ((e = bufferevent_get_openssl_error(s->bev)) != 0) {
			char eb[256];
			ERR_error_string_n(e, eb, sizeof eb);
			log_info("smtp[%llu] ip=%s: TLS error: %s", s->id, s->ip, eb);
		}
		session_abort(s);
	}
}

struct session_job {
	struct smtp_session *s;
	void (*work)(void *);
	void (*done)(struct smtp_session *, void *);
	void *arg;
};

static void job_work(void *p)
{
	struct session_job *j = p;

	j->work(j->arg);
}

static void job_done(void *p)
{
	struct session_job *j = p;
	struct smtp_session *s = j->s;

	s->busy = 0;
	if (s->dead) {
		j->done(NULL, j->arg);
		session_free(s);
	} else {
		j->done(s, j->arg);
		if (s->closing)
			reap_soon(s);
		else
			session_resume(s);
	}
	free(j);
}

int session_job_on(struct smtp_session *s, struct workers *pool, void (*work)(void *),
                void (*done)(struct smtp_session *, void *), void *arg)
{
	struct session_job *j = malloc(sizeof *j);

	if (!j)
		return -1;
	j->s = s;
	j->work = work;
	j->done = done;
	j->arg = arg;
	/* a client waits for this (a commit, a spool write): before deliveries */
	if (workers_submit_urgent(pool, job_work, job_done, j) < 0) {
		free(j);
		return -1;
	}
	s->busy = 1;
	return 0;
}

int session_job(struct smtp_session *s, void (*work)(void *),
                void (*done)(struct smtp_session *, void *), void *arg)
{
	return session_job_on(s, s->srv->workers, work, done, arg);
}

void session_resume(struct smtp_session *s)
{
	if (s->bev)
		session_process(s);
}

void session_attach(struct smtp_session *s)
{
	bufferevent_setcb(s->bev, on_read, on_flushed, on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_INPUT_HIGH);
	/* libevent reads at most 16 KB per readable event; a message body
	 * arrives in fewer, larger reads (only what is there is read, so an
	 * idle session's buffer does not grow) */
	bufferevent_set_max_single_read(s->bev, SMTP_CHUNK);
	session_set_timeout(s, s->srv->cfg->smtp_timeout);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void sockaddr_ip(const struct sockaddr *sa, char *ip, size_t iplen)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
		else
			inet_ntop(AF_INET6, &a6->sin6_addr, ip, (socklen_t)iplen);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, (socklen_t)iplen);
	}
}

/* Over a connection limit: one 421 line, best effort, and close. */
static void refuse_connection(struct server *srv, evutil_socket_t fd, const char *ip, int why)
{
	char line[300];
	int n = snprintf(line, sizeof line, "421 4.7.0 %s Error: too many connections%s, try again later\r\n",
	                 srv->cfg->hostname, why == CONN_TOO_MANY_FROM_IP ? " from your address" : "");

	log_warn("smtp: ip=%s refused: too many connections%s", ip,
	         why == CONN_TOO_MANY_FROM_IP ? " from this address" : " in total");
	if (send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the client is gone or not reading: nothing more to do */
	}
	evutil_closesocket(fd);
}

/* The handshake deadline: counted from its start, not from the last byte
 * read (the idle timeout is restarted by every byte, so a client trickling
 * its ClientHello could hold a connection slot for an hour). */
static void on_hs_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)fd;
	(void)what;
	if (!s->tls_handshaking)
		return;
	log_info("smtp[%llu] ip=%s: TLS handshake timeout", s->id, s->ip);
	session_abort(s);
}

void session_tls_deadline(struct smtp_session *s)
{
	struct timeval tv = { s->srv->cfg->tls_handshake_timeout, 0 };

	s->tls_handshaking = 1;
	session_set_timeout(s, s->srv->cfg->tls_handshake_timeout);
	if (!s->hs_deadline && !(s->hs_deadline = evtimer_new(s->srv->base, on_hs_deadline, s)))
		return;             /* out of memory: the idle timeout still applies */
	evtimer_add(s->hs_deadline, &tv);
}

void smtp_session_start(struct server *srv, evutil_socket_t fd,
                        const struct sockaddr *sa, int socklen, enum listener_kind kind)
{
	struct smtp_session *s;
	char ip[INET6_ADDRSTRLEN];
	int lim;

	(void)socklen;
	sockaddr_ip(sa, ip, sizeof ip);
	lim = connlimit_acquire(srv->conns, ip, srv->cfg->max_connections, srv->cfg->max_connections_per_ip);
	if (lim != CONN_OK) {
		refuse_connection(srv, fd, ip, lim);
		return;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->dbuf = malloc(SMTP_CHUNK + 2))) {
		free(s);
		connlimit_release(srv->conns, ip);
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	s->kind = kind;
	s->id = ++srv->next_session_id;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	if (kind == LISTEN_SUBMISSIONS) {
		SSL *ssl = srv->tls ? tls_server_new_ssl(srv->tls) : NULL;
		if (ssl)
			s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
			                                        BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		s->tls = s->tls_handshaking = 1;
	} else {
		s->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!s->bev) {
		evutil_closesocket(fd);
		connlimit_release(srv->conns, ip);
		free(s->dbuf);
		free(s);
		return;
	}
	srv->nsessions++;
	buf_init(&s->hdr, SMTP_HDR_MAX);
	buf_init(&s->wbuf, 0);
	session_init_delay(s);
	s->reaper = evtimer_new(srv->base, on_reap, s);
	session_attach(s);
	if (s->tls)
		session_tls_deadline(s);
	log_info("smtp[%llu] ip=%s: connect", s->id, s->ip);
	session_reply(s, 220, NULL, "%s ESMTP hostmail", srv->cfg->hostname);
	if (srv->cfg->pop_before_smtp_minutes > 0)
		session_check_pop_grant(s);
}
