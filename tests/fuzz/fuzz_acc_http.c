/*
 * fuzz_acc_http: the whole Account Control Center as a browser meets it.
 * One real ACC (its [listen] acc listener on 127.0.0.1, an ephemeral port,
 * daemon/conn connections with TLS from a throw-away self-signed
 * certificate, the strict HTTP reader, the account store on a scratch data
 * directory with account "acme", its domain and a mailbox, the worker
 * pools) lives for the whole run; each input is one HTTPS connection: the
 * client does the TLS handshake, writes the input as the decrypted request
 * stream (one or more pipelined HTTP requests) and reads the answers until
 * the server closes or everything is quiet: no worker job left, no event
 * active, nothing new read for a few turns of the loop. Then it closes,
 * as a browser leaving a keep-alive connection does.
 *
 * A session of account acme lives in the store, made again before any
 * input that finds it gone (logout, expiry, a password change); the seeds
 * carry placeholders (SID, CSRF below) for its id and token in
 * "Cookie: __Host-hm_session=" and "csrf=", replaced before the input is
 * sent, so inputs reach every logged-in page and form. Checks (besides the
 * sanitizers): the answer, if any, starts with an HTTP/1.1 status line,
 * and is never a 500 (our handlers' internal error).
 */
#define _GNU_SOURCE
#include "acc/acc.h"
#include "acc/acc_int.h"
#include "store/store_acc_session.h"
#include <event2/listener.h>
#include "auth/throttle.h"
#include "daemon/connlimit.h"
#include "daemon/server.h"
#include "store/store.h"
#include "tls/tls.h"
#include "util/config.h"
#include "util/password.h"
#include "util/workers.h"
#include "fuzz_server.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SID  "5e551015e551015e551015e551015e551015e551015e551015e551015e551015"
#define CSRF "c5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5afc5af"

static struct server srv;
static SSL_CTX *cctx;
static struct sockaddr_in acc_sin;

static void setup(void)
{
	struct config *cfg;
	char err[512], hash[256], cmd[1600];
	const char *dir = fuzz_scratch_dir();
	evutil_socket_t lfd;
	socklen_t sl = sizeof acc_sin;

	cfg = fuzz_server_config(&srv, "mx.fuzz.example");
	snprintf(cfg->tls_certificate, sizeof cfg->tls_certificate, "%s/acc.crt", dir);
	snprintf(cfg->tls_key, sizeof cfg->tls_key, "%s/acc.key", dir);
	cfg->tls_sni_dir[0] = '\0';
	cfg->acc.n = 1;
	snprintf(cfg->acc.a[0].host, sizeof cfg->acc.a[0].host, "127.0.0.1");
	snprintf(cfg->acc.a[0].port, sizeof cfg->acc.a[0].port, "0");
	snprintf(cmd, sizeof cmd,
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
	         "-subj /CN=acc.fuzz.example -keyout '%s' -out '%s' >/dev/null 2>&1",
	         cfg->tls_key, cfg->tls_certificate);
	CHECK(system(cmd) == 0);
	fuzz_server_store(&srv);
	CHECK(password_hash("secret-password", hash, sizeof hash) == 0);
	CHECK(store_account_set_password(srv.store, "acme", hash, err, sizeof err) == 0);
	CHECK(store_mailbox_add(srv.store, "alice@acme.test", hash, err, sizeof err) == 0);
	fuzz_server_loop(&srv);
	CHECK((srv.tls = tls_server_load(srv.cfg, err, sizeof err)) != NULL);
	CHECK(server_listen(&srv) == 0 && srv.acc && srv.nlisteners == 1);
	lfd = evconnlistener_get_fd(srv.listeners[0]);
	CHECK(getsockname(lfd, (struct sockaddr *)&acc_sin, &sl) == 0);
	CHECK((cctx = SSL_CTX_new(TLS_client_method())) != NULL);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	/* TLS 1.2: no session tickets after the handshake, which Nagle would
	 * make the answer wait behind (the TLS layer is not what is fuzzed) */
	CHECK(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION) == 1);
}

static struct store_acc_session session;

/* The session, made again if an input ended it (logout, a password change). */
static void ensure_session(void)
{
	struct store_acc_session s;
	time_t now = time(NULL);

	if (session.id[0] && store_acc_session_find(srv.store, session.id, now, ACC_SESSION_IDLE,
	                                            ACC_SESSION_LIFETIME, &s) == 0)
		return;
	CHECK(store_acc_session_create(srv.store, "acme", now, 1000, &session) == 0);
}

/* The input with the placeholders SID and CSRF (as the seeds carry them)
 * replaced by the live session's id and token (the store makes them). */
static uint8_t *with_session(const uint8_t *data, size_t size)
{
	uint8_t *d = malloc(size ? size : 1);

	CHECK(d != NULL);
	memcpy(d, data, size);
	for (size_t i = 0; i + ACC_TOKEN_LEN <= size; i++) {
		if (memcmp(d + i, SID, ACC_TOKEN_LEN) == 0)
			memcpy(d + i, session.id, ACC_TOKEN_LEN);
		else if (memcmp(d + i, CSRF, ACC_TOKEN_LEN) == 0)
			memcpy(d + i, session.csrf, ACC_TOKEN_LEN);
	}
	return d;
}

struct client {
	struct bufferevent *bev;
	int done, wrote;
	char head[64];                /* the answer's first bytes */
	size_t nhead, total;
};

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;

	c->total += evbuffer_get_length(in);
	if (c->nhead < sizeof c->head) {
		n = evbuffer_remove(in, c->head + c->nhead, sizeof c->head - c->nhead);
		if (n != (size_t)-1)
			c->nhead += n;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		c->wrote = 1;         /* all of the input is on the wire */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		on_write(bev, arg);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		c->done = 1;
}

/* Run the loop until the server closed, or nothing is left to happen:
 * the input written, no job on a worker, no event active, and nothing
 * new read, for QUIET turns in a row. */
#define QUIET 4
static void quiesce(struct client *c)
{
	int quiet = 0;
	size_t seen;

	while (!c->done && quiet < QUIET) {
		if (workers_pending(srv.workers) || workers_pending(srv.auth_workers)) {
			event_base_loop(srv.base, EVLOOP_ONCE);     /* wait for the job */
			quiet = 0;
			continue;
		}
		seen = c->total;
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
		if (c->wrote && c->total == seen &&
		    event_base_get_num_events(srv.base, EVENT_BASE_COUNT_ACTIVE) == 0)
			quiet++;
		else
			quiet = 0;
	}
}

static void check_answer(const struct client *c)
{
	const char *sp;

	if (c->nhead == 0)
		return;               /* closed without an answer (a torn request) */
	CHECK(c->nhead >= 12 && memcmp(c->head, "HTTP/1.1 ", 9) == 0);
	sp = memchr(c->head, ' ', c->nhead);
	CHECK(sp && sp + 4 <= c->head + c->nhead);
	CHECK(sp[1] >= '1' && sp[1] <= '5' && sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9');
	CHECK(memcmp(sp + 1, "500", 3) != 0);
}

/* Connect fd (non-blocking) to the ACC while its loop runs: the server
 * accepts on that same loop, and a blocking connect could wait for it
 * (a full accept queue) or be cut short by libFuzzer's timer signal. */
static void connect_running(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, r;
	time_t give_up = time(NULL) + 10;

	if (connect(fd, (struct sockaddr *)&acc_sin, sizeof acc_sin) == 0)
		return;
	if (errno != EINPROGRESS && errno != EINTR) {
		dprintf(2, "connect to the ACC: %s\n", strerror(errno));
		abort();
	}
	while ((r = poll(&p, 1, 10)) <= 0) {
		CHECK(r == 0 || errno == EINTR);
		CHECK(time(NULL) < give_up);
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
	}
	CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
	if (err) {
		dprintf(2, "connect to the ACC: %s\n", strerror(err));
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client c;
	SSL *ssl;
	int fd, one = 1;

	if (!srv.base)
		setup();
	ensure_session();
	memset(&c, 0, sizeof c);
	CHECK((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	CHECK(evutil_make_socket_nonblocking(fd) == 0);
	connect_running(fd);
	/* no Nagle: each small TLS record leaves at once */
	CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
	CHECK((ssl = SSL_new(cctx)) != NULL);
	SSL_set_tlsext_host_name(ssl, "acc.fuzz.example");
	c.bev = bufferevent_openssl_socket_new(srv.base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                       BEV_OPT_CLOSE_ON_FREE);
	CHECK(c.bev != NULL);
	bufferevent_openssl_set_allow_dirty_shutdown(c.bev, 1);
	bufferevent_setcb(c.bev, on_read, on_write, on_event, &c);
	if (size) {
		uint8_t *d = with_session(data, size);

		CHECK(bufferevent_write(c.bev, d, size) == 0);
		free(d);
	}
	CHECK(bufferevent_enable(c.bev, EV_READ | EV_WRITE) == 0);
	quiesce(&c);
	check_answer(&c);
	bufferevent_free(c.bev);
	/* let the server see the close and free its side */
	for (int i = 0; i < 4; i++)
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
	return 0;
}
