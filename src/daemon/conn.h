/*
 * conn: one client connection of hostmaild, whatever its protocol (SMTP,
 * POP3, the ACC's HTTP): the glue they share, as OpenSMTPD's ioev.c and
 * Dovecot's connection.c are for theirs.
 *
 * A connection owns its socket (a libevent bufferevent; TLS is an OpenSSL
 * bufferevent, implicit from the start or a filter after STARTTLS/STLS),
 * its slot in the connection limits and its configuration snapshot. It
 * reads bounded lines, queues replies, upgrades to TLS under an absolute
 * handshake deadline, ends TLS with a close_notify, and closes once the
 * last reply has left. It keeps time with one timer: an idle timeout that
 * input the protocol consumed and output progress both restart (a client
 * slowly reading a 40 MiB RETR is not idle), plus absolute deadlines.
 *
 * Blocking work runs on a worker pool through conn_job. A connection and
 * its protocol state are never freed while one of its jobs runs: when the
 * peer goes away (or a deadline passes) meanwhile, the socket is closed at
 * once and the rest waits for the job's done(), which is told (c == NULL).
 * The protocol state is freed by the protocol's free() callback, called
 * once, from a libevent callback of the connection's own, never from
 * inside the protocol's input handler. Event loop thread only.
 */
#ifndef HM_CONN_H
#define HM_CONN_H
#include <stddef.h>
#include <event2/util.h>
#include <openssl/ssl.h>
#include "daemon/server.h"
#include "auth/login_queue.h"

struct conn;
struct conn_job;
struct evbuffer;
struct workers;
struct sockaddr;

struct conn_proto {
	const char *name;                               /* "smtp", "pop3", "acc": log lines */
	/* Input is buffered, or the connection may go on (a job or pause
	 * ended): consume what can be. Not called while busy or closing. */
	void (*input)(struct conn *c, void *st);
	/* Output fell to the low mark of conn_set_output_marks (streaming). */
	void (*drained)(struct conn *c, void *st);
	/* The idle time or the deadline ran out. NULL: close silently. The
	 * protocol may say goodbye and conn_close(). */
	void (*timeout)(struct conn *c, void *st);
	/* The connection is over: free st. */
	void (*free)(void *st);
};

/* What conn_getline found. */
enum conn_line { CONN_NOLINE = 0, CONN_LINE = 1, CONN_LINE_LONG = 2 };

/* What a listener serves (server.c has the table). */
struct conn_service {
	enum listener_kind kind;
	const char *name;                   /* "smtp", "pop3", ... */
	int implicit_tls;                   /* TLS from the first byte (465, 995, the ACC) */
	int acc;                            /* counted in the ACC's limits, not the mail ones */
	/* Take the new connection: conn_bind and greet. */
	void (*start)(struct conn *c);
	/* The clear-text refusal over a connection limit: printf format with
	 * the host name and " from your address" or ""; NULL: close silently. */
	const char *refusal;
	/* The same when the process is out of descriptors: printf format with
	 * the host name; NULL: close silently. */
	const char *overload;
	/* With implicit_tls: a client whose first byte does not start a TLS
	 * handshake gets the service in clear text (conn_tls() is 0), so that
	 * the ACC can redirect plain HTTP to HTTPS instead of a silent close. */
	int plain_fallback;
	/* With implicit_tls: the SSL of a new connection, when it is not the
	 * [tls] one (the LMTP listener's needs client certificates); NULL:
	 * tls/tls.h's. */
	SSL *(*new_ssl)(struct server *srv);
};

/* An accepted socket: apply the connection limits, set up TLS for an
 * implicit-TLS service, and hand the connection to the service; over a
 * limit, the refusal line (best effort) and close. */
void conn_accept(struct server *srv, evutil_socket_t fd, const struct sockaddr *sa,
                 const struct conn_service *svc);
/* The client address of sa, IPv4-mapped IPv6 as plain IPv4. */
void conn_sockaddr_ip(const struct sockaddr *sa, char *ip, size_t iplen);

/* The protocol takes the connection: proto's callbacks get st. */
void conn_bind(struct conn *c, const struct conn_proto *proto, void *st);

unsigned long long conn_id(const struct conn *c);
const char *conn_ip(const struct conn *c);
enum listener_kind conn_kind(const struct conn *c);
struct server *conn_server(const struct conn *c);
/* The configuration snapshot this connection started with. */
const struct config *conn_cfg(const struct conn *c);
/* TLS is active (or its handshake is under way). */
int conn_tls(const struct conn *c);
SSL *conn_ssl(const struct conn *c);

/* Limits and timers. Seconds; 0 = none. The idle clock restarts on
 * conn_progress() and whenever output leaves (kernel included). */
void conn_set_idle(struct conn *c, int seconds);
/* An absolute deadline from now, whatever the traffic (an HTTP request's
 * header section); 0 clears it. */
void conn_set_deadline(struct conn *c, int seconds);
/* Input that counts: a whole command, message bytes. conn_getline calls it. */
void conn_progress(struct conn *c);
/* Input buffered before reading stops (backpressure); bytes read at once. */
void conn_set_input_max(struct conn *c, size_t high, size_t read_chunk);
/* Streaming output: drained() when what is queued falls to low; at most
 * about high bytes wait inside the TLS layer. */
void conn_set_output_marks(struct conn *c, size_t low, size_t high);

/* One line (up to LF; CRLF or LF removed, NUL-terminated) into buf of cap
 * bytes. CONN_LINE_LONG: a line of cap - 1 bytes or more was thrown away
 * whole (reported once, when its end arrives). */
enum conn_line conn_getline(struct conn *c, char *buf, size_t cap, size_t *len);
/* The raw input (message data, HTTP bodies). */
struct evbuffer *conn_input(struct conn *c);
void conn_write(struct conn *c, const void *p, size_t n);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes queued and not yet written to the socket (through TLS too). */
size_t conn_output_pending(struct conn *c);

/* STARTTLS/STLS: discard input pipelined in clear text, then negotiate
 * TLS within [smtp] tls_handshake_timeout. 0, or -1 (no TLS here). */
int conn_starttls(struct conn *c);

/* Close once every queued byte has left (then TLS close_notify). */
void conn_close(struct conn *c);
/* End now, queued output or not. */
void conn_abort(struct conn *c);
/* May the protocol go on reading? (not busy, closing or ended) */
int conn_ready(const struct conn *c);

/* Run work(arg) on pool (urgent: ahead of background work), then
 * done(st, arg) on the loop with the protocol's state, or st NULL if the
 * connection ended meanwhile (its state is freed right after). While it
 * runs no input is handed to the protocol. 0, or -1 (nothing will run). */
int conn_job(struct conn *c, struct workers *pool, int urgent, void (*work)(void *arg),
             void (*done)(void *st, void *arg), void *arg);
/* Hold the connection (as a job does: no input handed to the protocol,
 * the client waits) for work that runs on the loop itself (a milter
 * conversation). conn_hold_end(h) later calls done(st, arg) as a job's
 * end does (st NULL if the connection ended meanwhile) and frees h.
 * NULL: a job runs already, or no memory. */
struct conn_job *conn_hold(struct conn *c, void (*done)(void *st, void *arg), void *arg);
void conn_hold_end(struct conn_job *h);
/* The same for a check of user's password: through the fair login queue
 * q as service svc from this connection's address, bounded by [limits]
 * login_queue (per service) and login_queue_per_ip. -1: refused at once (the queue is
 * full), the caller answers with a temporary error. */
int conn_login_job(struct conn *c, struct login_queue *q, enum login_service svc, const char *user,
                   void (*work)(void *arg), void (*done)(void *st, void *arg), void *arg);
/* Hold input for ms milliseconds, then fn(c, st) (a failed login's
 * delay); if the connection ends meanwhile fn is not called. */
void conn_pause(struct conn *c, int ms, void (*fn)(struct conn *c, void *st));

#endif
