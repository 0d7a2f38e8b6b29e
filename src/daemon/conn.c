/*
 * conn: the connection layer shared by hostmaild's protocols (see conn.h).
 *
 * Time is kept by one timer per connection, armed for the earliest of its
 * deadlines (idle, TLS handshake, absolute, pause, close). Activity only
 * moves a timestamp; a timer that fires early re-arms for the new time, so
 * a busy session costs no timer operation per read.
 *
 * Ending: conn_abort (or the peer's EOF, an error, the handshake deadline)
 * closes the socket at once and frees the rest from the timer, once no job
 * is running; conn_close first waits for the queued output and the TLS
 * close_notify to leave, for CLOSE_WAIT_MS at most.
 */
#include "daemon/conn.h"
#include "daemon/conn_int.h"
#include "metrics/metrics.h"
#include "daemon/connlimit.h"
#include "auth/login_queue.h"
#include "tls/tls.h"
#include "util/config.h"
#include "util/log.h"
#include "util/workers.h"
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#define CLOSE_WAIT_MS 10000          /* for the last replies and the close_notify */
/* Output written to the kernel in one go beyond which its draining is
 * watched: a client still reading it is not idle (a reply is far less). */
#define DRAIN_WATCH_MIN (64 * 1024)
#define NEVER INT64_MAX

struct conn {
	struct server *srv;
	struct connlimit *limiter;       /* where its slot is counted */
	const struct config *cfg;        /* held for the connection's life */
	const struct conn_service *svc;
	const struct conn_proto *proto;
	void *st;
	struct bufferevent *bev;         /* the top: a TLS filter, or the socket's */
	struct bufferevent *sock;        /* the socket's own (== bev without a filter) */
	struct event *timer;
	unsigned long long id;
	char ip[INET6_ADDRSTRLEN];

	unsigned tls : 1, handshaking : 1, busy : 1, closing : 1, ended : 1, discarding : 1,
	         shutdown_sent : 1, limited : 1;
	int64_t armed_at;                /* when the timer fires; 0 = not armed */
	int64_t last_active;             /* input consumed or output progress */
	int64_t idle_ms;
	size_t since_empty;              /* bytes written since the output was last empty */
	int draining;                    /* the kernel holds a large output: watch it drain */
	size_t kernel_mark;              /* ... what it held at the last look */
	int64_t hs_deadline, deadline, close_deadline, pause_until;
	void (*pause_fn)(struct conn *c, void *st);
	size_t in_high, read_chunk, out_low, out_high;
};

static void arm(struct conn *c);
static void attach(struct conn *c);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ---- accessors ---- */

unsigned long long conn_id(const struct conn *c) { return c->id; }
const char *conn_ip(const struct conn *c) { return c->ip; }
enum listener_kind conn_kind(const struct conn *c) { return c->svc->kind; }
struct server *conn_server(const struct conn *c) { return c->srv; }
const struct config *conn_cfg(const struct conn *c) { return c->cfg; }
int conn_tls(const struct conn *c) { return c->tls; }

SSL *conn_ssl(const struct conn *c)
{
	return c->bev && c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
}

int conn_ready(const struct conn *c)
{
	return c->bev && !c->busy && !c->closing && !c->ended;
}

/* ---- freeing ---- */

/* Close the socket and give back its slot in the connection limits at
 * once: a client that saw the close may connect again straight away. */
static void drop_socket(struct conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);     /* a filter frees the socket's below it */
	c->bev = c->sock = NULL;
	if (c->limited) {
		connlimit_release(c->limiter, c->ip);
		c->srv->nsessions--;
		metrics_add(c->srv->metrics, M_SESSIONS_OPEN, metrics_listener_name(c->svc->kind), NULL, -1);
		c->limited = 0;
	}
}

static void conn_free(struct conn *c)
{
	if (c->proto && c->proto->free)
		c->proto->free(c->st);
	log_info("%s[%llu] ip=%s: disconnect", c->svc->name, c->id, c->ip);
	drop_socket(c);
	event_free(c->timer);
	config_unref(c->cfg);
	free(c);
}

/* Free from the timer (never from inside a protocol's handler), once no
 * job holds the connection. */
static void free_soon(struct conn *c)
{
	struct timeval zero = { 0, 0 };

	c->ended = c->closing = 1;
	c->armed_at = 0;
	evtimer_add(c->timer, &zero);
}

void conn_abort(struct conn *c)
{
	if (c->ended)
		return;
	if (c->pause_until) {            /* a pause holds nothing: it just ends */
		c->pause_until = 0;
		c->pause_fn = NULL;
		c->busy = 0;
	}
	drop_socket(c);
	free_soon(c);
}

/* ---- closing: flush, close_notify, free ---- */

size_t conn_output_pending(struct conn *c)
{
	size_t n;

	if (!c->bev)
		return 0;
	n = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (c->sock != c->bev)
		n += evbuffer_get_length(bufferevent_get_output(c->sock));
	return n;
}

/* Bytes the kernel holds unsent (or unacknowledged) on the socket. */
static size_t kernel_unsent(struct conn *c)
{
	evutil_socket_t fd = c->sock ? bufferevent_getfd(c->sock) : -1;
	int n = 0;

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &n) < 0 || n < 0)
		return 0;
	return (size_t)n;
}

/* One step of a graceful close; called as output drains and from the timer. */
static void close_step(struct conn *c)
{
	SSL *ssl;

	if (c->busy || c->ended)
		return;
	if (!c->bev || now_ms() >= c->close_deadline) {
		conn_abort(c);
		return;
	}
	if (conn_output_pending(c) > 0)
		return;                       /* the write callbacks come back */
	if (c->tls && !c->handshaking && !c->shutdown_sent && (ssl = conn_ssl(c))) {
		/* RFC 8446 6.1: say we are done writing. Into the socket directly,
		 * or into the filter's socket bufferevent, which then drains. */
		c->shutdown_sent = 1;
		SSL_shutdown(ssl);
		if (conn_output_pending(c) > 0)
			return;
	}
	conn_abort(c);
}

void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->close_deadline = now_ms() + CLOSE_WAIT_MS;
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ);
	arm(c);
	close_step(c);
}

/* ---- the timer ---- */

static int64_t next_wake(const struct conn *c)
{
	int64_t t = NEVER;

	if (c->ended)
		return 0;
	if (c->closing)
		return c->pause_until ? min64(c->pause_until, c->close_deadline) : c->close_deadline;
	if (c->idle_ms && !c->handshaking)
		t = c->last_active + c->idle_ms;
	if (c->hs_deadline)
		t = min64(t, c->hs_deadline);
	if (c->deadline)
		t = min64(t, c->deadline);
	if (c->pause_until)
		t = min64(t, c->pause_until);
	return t;
}

static void arm(struct conn *c)
{
	int64_t t = next_wake(c), now;
	struct timeval tv;

	if (t == NEVER || (c->armed_at && c->armed_at <= t))
		return;                       /* it fires no later and re-arms then */
	now = now_ms();
	t = t > now ? t - now : 0;
	tv.tv_sec = (time_t)(t / 1000);
	tv.tv_usec = (suseconds_t)(t % 1000) * 1000;
	c->armed_at = now + t;
	evtimer_add(c->timer, &tv);
}

static void resume(struct conn *c)
{
	if (conn_ready(c) && c->proto && c->proto->input)
		c->proto->input(c, c->st);
}

static void timed_out(struct conn *c, const char *what)
{
	log_info("%s[%llu] ip=%s: %s", c->svc->name, c->id, c->ip, what);
	if (c->proto && c->proto->timeout)
		c->proto->timeout(c, c->st);
	else
		conn_close(c);
}

/* The idle clock ran out: is the kernel still sending what we wrote (a
 * slow reader of a long message)? Output still queued above the kernel
 * would have moved the clock (on_progress) if any of it had left. */
static int idle_expired(struct conn *c, int64_t now)
{
	size_t k;

	if (c->busy) {                    /* the client waits for us, not we for it */
		c->last_active = now;
		return 0;
	}
	if (c->draining && (k = kernel_unsent(c)) < c->kernel_mark) {
		c->kernel_mark = k;
		c->draining = k > 0;
		c->last_active = now;
		return 0;
	}
	return 1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int64_t now = now_ms();

	(void)fd;
	(void)what;
	c->armed_at = 0;
	if (c->ended) {
		if (!c->busy)
			conn_free(c);
		return;                       /* the job's end frees it */
	}
	if (c->pause_until && now >= c->pause_until) {
		void (*fn)(struct conn *, void *) = c->pause_fn;

		c->pause_until = 0;
		c->pause_fn = NULL;
		c->busy = 0;
		c->last_active = now;
		fn(c, c->st);
		resume(c);
		if (c->ended)
			return;
	}
	if (c->hs_deadline && now >= c->hs_deadline) {
		log_info("%s[%llu] ip=%s: TLS handshake timeout", c->svc->name, c->id, c->ip);
		conn_abort(c);
		return;
	}
	if (c->closing) {
		close_step(c);
	} else if (c->deadline && now >= c->deadline) {
		c->deadline = 0;
		timed_out(c, "deadline exceeded");
	} else if (c->idle_ms && !c->handshaking && now >= c->last_active + c->idle_ms &&
	           idle_expired(c, now)) {
		timed_out(c, "idle timeout");
	}
	if (!c->ended)
		arm(c);
}

/* ---- settings ---- */

void conn_set_idle(struct conn *c, int seconds)
{
	c->idle_ms = (int64_t)seconds * 1000;
	c->last_active = now_ms();
	arm(c);
}

void conn_set_deadline(struct conn *c, int seconds)
{
	c->deadline = seconds > 0 ? now_ms() + (int64_t)seconds * 1000 : 0;
	arm(c);
}

void conn_progress(struct conn *c)
{
	c->last_active = now_ms();
}

void conn_set_input_max(struct conn *c, size_t high, size_t read_chunk)
{
	c->in_high = high;
	c->read_chunk = read_chunk;
	if (c->bev)
		attach(c);
}

void conn_set_output_marks(struct conn *c, size_t low, size_t high)
{
	c->out_low = low;
	c->out_high = high;
	if (c->bev)
		attach(c);
}

/* ---- I/O ---- */

enum conn_line conn_getline(struct conn *c, char *buf, size_t cap, size_t *len)
{
	struct evbuffer *in;
	struct evbuffer_ptr p;
	size_t avail, linelen, n;

	if (!c->bev || cap < 2)
		return CONN_NOLINE;
	in = bufferevent_get_input(c->bev);
	p = evbuffer_search(in, "\n", 1, NULL);
	avail = evbuffer_get_length(in);
	if (p.pos < 0) {
		if (avail >= cap) {           /* cannot fit: drop it as it comes */
			evbuffer_drain(in, avail);
			c->discarding = 1;
		}
		return CONN_NOLINE;
	}
	linelen = (size_t)p.pos + 1;
	conn_progress(c);
	if (c->discarding || linelen > cap) {
		evbuffer_drain(in, linelen);
		c->discarding = 0;
		return CONN_LINE_LONG;
	}
	evbuffer_remove(in, buf, linelen);
	n = linelen - 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return CONN_LINE;
}

struct evbuffer *conn_input(struct conn *c)
{
	return c->bev ? bufferevent_get_input(c->bev) : NULL;
}

void conn_write(struct conn *c, const void *p, size_t n)
{
	if (c->bev && !c->ended)
		bufferevent_write(c->bev, p, n);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->bev || c->ended)
		return;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

/* ---- libevent callbacks ---- */

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	resume(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing)
		close_step(c);
	else if (c->proto && c->proto->drained && !c->busy)
		c->proto->drained(c, c->st);
}

/* Bytes left the socket's output (for the kernel): the peer is reading. */
static void on_progress(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_deleted == 0)
		return;
	c->last_active = now_ms();
	c->since_empty += info->n_deleted;
	if (evbuffer_get_length(b) == 0) {
		size_t k;

		if (c->since_empty >= DRAIN_WATCH_MIN && (k = kernel_unsent(c)) >= DRAIN_WATCH_MIN) {
			c->draining = 1;
			c->kernel_mark = k;
		}
		c->since_empty = 0;
	}
	if (c->closing && !c->ended && conn_output_pending(c) == 0) {
		struct timeval zero = { 0, 0 };   /* all sent: the next close step, from the timer */

		c->armed_at = 0;
		evtimer_add(c->timer, &zero);
	}
}

static void log_tls_errors(struct conn *c)
{
	unsigned long e;

	while (c->bev && (e = bufferevent_get_openssl_error(c->bev)) != 0) {
		char eb[256];

		ERR_error_string_n(e, eb, sizeof eb);
		log_info("%s[%llu] ip=%s: TLS error: %s", c->svc->name, c->id, c->ip, eb);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {        /* the TLS handshake is done */
		c->handshaking = 0;
		c->hs_deadline = 0;
		metrics_inc(c->srv->metrics, M_TLS_HANDSHAKES, metrics_listener_name(c->svc->kind),
		            conn_ssl(c) ? SSL_get_version(conn_ssl(c)) : "unknown");
		c->last_active = now_ms();
		arm(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		log_tls_errors(c);
		conn_abort(c);
	}
}

/* Callbacks, watermarks and the read size on the current bufferevent. */
static void attach(struct conn *c)
{
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->in_high);
	bufferevent_setwatermark(c->bev, EV_WRITE, c->out_low, 0);
	if (c->read_chunk)
		bufferevent_set_max_single_read(c->bev, c->read_chunk);
	/* under a filter, the filter stops encrypting above this much */
	if (c->sock != c->bev)
		bufferevent_setwatermark(c->sock, EV_WRITE, 0, c->out_high);
	if (!c->closing)
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void handshake_deadline(struct conn *c)
{
	c->handshaking = 1;
	c->hs_deadline = now_ms() + (int64_t)c->cfg->tls_handshake_timeout * 1000;
	arm(c);
}

int conn_starttls(struct conn *c)
{
	struct bufferevent *tb;
	struct evbuffer *in;
	size_t junk;
	SSL *ssl;

	if (!c->bev || c->tls || !c->srv->tls || !(ssl = tls_server_new_ssl(c->srv->tls)))
		return -1;
	/* RFC 3207 4.2, RFC 2595: what was pipelined in clear text is never
	 * executed after the upgrade (the CVE-2011-0411 class) */
	in = bufferevent_get_input(c->bev);
	if ((junk = evbuffer_get_length(in)) > 0) {
		log_warn("%s[%llu] ip=%s: discarding %zu bytes pipelined after STARTTLS", c->svc->name,
		         c->id, c->ip, junk);
		evbuffer_drain(in, junk);
	}
	tb = bufferevent_openssl_filter_new(c->srv->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!tb) {
		SSL_free(ssl);
		return -1;
	}
	c->bev = tb;
	c->tls = 1;
	attach(c);
	handshake_deadline(c);
	return 0;
}

/* ---- jobs and pauses ---- */

struct conn_job {
	struct conn *c;
	void (*work)(void *);
	void (*done)(void *st, void *arg);
	void *arg;
};

static void job_work(void *p)
{
	struct conn_job *j = p;

	j->work(j->arg);
}

static void job_done(void *p)
{
	struct conn_job *j = p, job = *j;
	struct conn *c = job.c;

	free(j);
	c->busy = 0;
	c->last_active = now_ms();
	if (c->ended) {
		job.done(NULL, job.arg);
		conn_free(c);
		return;
	}
	job.done(c->st, job.arg);
	if (c->closing)
		close_step(c);
	else
		resume(c);
}

/* A job for c, or NULL: one of its jobs runs already, or no memory. */
static struct conn_job *job_new(struct conn *c, void (*work)(void *arg),
                                void (*done)(void *st, void *arg), void *arg)
{
	struct conn_job *j;

	if (c->busy || !(j = malloc(sizeof *j)))
		return NULL;
	j->c = c;
	j->work = work;
	j->done = done;
	j->arg = arg;
	return j;
}

int conn_job(struct conn *c, struct workers *pool, int urgent, void (*work)(void *arg),
             void (*done)(void *st, void *arg), void *arg)
{
	struct conn_job *j = job_new(c, work, done, arg);
	int rc;

	if (!j)
		return -1;
	rc = urgent ? workers_submit_urgent(pool, job_work, job_done, j)
	            : workers_submit(pool, job_work, job_done, j);
	if (rc < 0) {
		free(j);
		return -1;
	}
	c->busy = 1;
	return 0;
}

struct conn_job *conn_hold(struct conn *c, void (*done)(void *st, void *arg), void *arg)
{
	struct conn_job *j = job_new(c, NULL, done, arg);

	if (j)
		c->busy = 1;
	return j;
}

void conn_hold_end(struct conn_job *h)
{
	job_done(h);
}

int conn_login_job(struct conn *c, struct login_queue *q, enum login_service svc, const char *user,
                   void (*work)(void *arg), void (*done)(void *st, void *arg), void *arg)
{
	struct conn_job *j = q ? job_new(c, work, done, arg) : NULL;

	if (!j)
		return -1;
	c->busy = 1;                     /* before: the queue may run it at once */
	if (login_queue_submit(q, svc, c->ip, user, c->cfg->login_queue, c->cfg->login_queue_per_ip,
	                       job_work, job_done, j) < 0) {
		c->busy = 0;
		free(j);
		return -1;
	}
	return 0;
}

void conn_pause(struct conn *c, int ms, void (*fn)(struct conn *c, void *st))
{
	c->busy = 1;
	c->pause_fn = fn;
	c->pause_until = now_ms() + ms;
	arm(c);
}

/* ---- opening (accepting is in conn_accept.c) ---- */

static struct bufferevent *socket_bev(struct server *srv, evutil_socket_t fd, int tls,
                                     const struct conn_service *svc)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!tls)
		return bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (svc->new_ssl)
		ssl = svc->new_ssl(srv);
	else
		ssl = srv->tls ? tls_server_new_ssl(srv->tls) : NULL;
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

/* conn_int.h */
void conn_open(struct server *srv, evutil_socket_t fd, const char *ip, struct connlimit *limiter,
                      const struct conn_service *svc, int tls)
{
	struct conn *c;

	if (!(c = calloc(1, sizeof *c)) || !(c->timer = evtimer_new(srv->base, on_timer, c)) ||
	    !(c->bev = socket_bev(srv, fd, tls, svc))) {
		if (c && c->timer)
			event_free(c->timer);
		free(c);
		connlimit_release(limiter, ip);
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	c->limiter = limiter;
	c->cfg = config_ref(srv->cfg);
	c->svc = svc;
	c->id = ++srv->next_session_id;
	c->limited = 1;
	c->sock = c->bev;
	c->last_active = now_ms();
	snprintf(c->ip, sizeof c->ip, "%s", ip);
	srv->nsessions++;
	metrics_inc(srv->metrics, M_SESSIONS, metrics_listener_name(svc->kind), NULL);
	metrics_inc(srv->metrics, M_SESSIONS_OPEN, metrics_listener_name(svc->kind), NULL);
	evbuffer_add_cb(bufferevent_get_output(c->sock), on_progress, c);
	attach(c);
	if (tls) {
		c->tls = 1;
		handshake_deadline(c);
	}
	log_info("%s[%llu] ip=%s: connect%s", svc->name, c->id, c->ip,
	         c->tls ? " (TLS)" : svc->implicit_tls ? " (not TLS)" : "");
	svc->start(c);
}

void conn_bind(struct conn *c, const struct conn_proto *proto, void *st)
{
	c->proto = proto;
	c->st = st;
}
