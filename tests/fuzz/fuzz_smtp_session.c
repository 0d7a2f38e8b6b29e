/*
 * fuzz_smtp_session: the whole inbound SMTP server, as Dovecot's
 * fuzz-smtp-server does it. One real struct server (event loop, account
 * store on a scratch data directory with one account, domain and two
 * mailboxes, worker pools, queue runner) lives for the whole run; each
 * input is one client connection: a socketpair, smtp_session_start() on
 * one end, the input written to the other end; once the server is quiet
 * (no worker job, no active event, no new reply for a few turns of the
 * loop) the client shuts its side down, and the loop runs until the
 * session is gone. (Shutting down right after the input would end the
 * session at the first command that waits for a worker, MAIL or RCPT:
 * the session drops what is still buffered when the peer is gone, and
 * pipelined inputs would never reach DATA.) As a real client, it waits
 * the same way after each "DATA" line before sending on: the server
 * refuses message text sent before its 354 (RFC 2920, and SMTP
 * smuggling). Replies are read and
 * checked: every line is "DDD" followed by ' ' or '-' and ends in CRLF.
 * And the product's first promise, relaying is refused by default: after
 * every input, each queued message from a client (not a bounce, which
 * comes from 127.0.0.1) with a recipient outside the hosted domains
 * carries the authorized account it was sent as.
 *
 * The first input byte picks the client: bit 0 an address with a
 * POP-before-SMTP grant (authorized: relaying, sender affiliation and
 * the From: check run) or an unknown one, bit 1 the submission listener.
 * Queued messages and Maildirs are wiped every 64 inputs.
 */
#define _GNU_SOURCE
#include "daemon/server.h"
#include "daemon/connlimit.h"
#include "auth/throttle.h"
#include "policy/relay_auth.h"
#include "queue/queue.h"
#include "queue/runner.h"
#include "smtp/smtp_session.h"
#include "store/store.h"
#include "util/config.h"
#include "util/password.h"
#include "util/workers.h"
#include "fuzz_common.h"
#include <event2/event.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static struct server srv;
static char mail_dir[600];
static unsigned long runs;

static void setup(void)
{
	char err[512], hash[256];
	const char *dir = fuzz_scratch_dir();

	signal(SIGPIPE, SIG_IGN);
	/* The server logs every connection (megabytes a minute): to /dev/null
	 * unless HM_FUZZ_LOG is set. Sanitizer and CHECK reports write to
	 * fd 2 directly and still show. */
	if (!getenv("HM_FUZZ_LOG"))
		CHECK((stderr = fopen("/dev/null", "w")) != NULL);
	config_defaults(&srv.cfg);
	snprintf(srv.cfg.hostname, sizeof srv.cfg.hostname, "mx.fuzz.example");
	snprintf(srv.cfg.data_dir, sizeof srv.cfg.data_dir, "%s/data", dir);
	/* outbound lookups go nowhere: a closed local port */
	snprintf(srv.cfg.dns_servers, sizeof srv.cfg.dns_servers, "127.0.0.1:9");
	srv.cfg.message_size = 8192;      /* inputs reach the size limit too */
	srv.cfg.min_free_space = 0;
	srv.cfg.recipients_per_hour = 1 << 30;
	srv.cfg.recipients_per_day = 1 << 30;
	srv.cfg.max_recipients = 5;
	srv.cfg.smtp_max_errors = 5;
	snprintf(srv.queue_dir, sizeof srv.queue_dir, "%s/queue", srv.cfg.data_dir);
	snprintf(mail_dir, sizeof mail_dir, "%s/mail", srv.cfg.data_dir);
	CHECK(mkdir(srv.cfg.data_dir, 0700) == 0 && queue_init(srv.queue_dir) == 0);
	CHECK((srv.store = store_open(srv.cfg.data_dir, err, sizeof err)) != NULL);
	CHECK(store_account_add(srv.store, "acme", NULL, 7, err, sizeof err) == 0);
	CHECK(store_domain_add(srv.store, "acme", "acme.test", err, sizeof err) == 0);
	CHECK(password_hash("secret-password", hash, sizeof hash) == 0);
	CHECK(store_mailbox_add(srv.store, "alice@acme.test", hash, err, sizeof err) == 0);
	CHECK(store_mailbox_add(srv.store, "bob@acme.test", hash, err, sizeof err) == 0);
	CHECK(relay_auth_grant(srv.store, "192.0.2.7", "alice@acme.test", time(NULL) + 86400 * 365) == 0);
	CHECK((srv.base = event_base_new()) != NULL);
	CHECK((srv.auth_throttle = throttle_new(5, 600, 600)) != NULL);
	CHECK((srv.conns = connlimit_new()) != NULL);
	srv.workers = workers_start(srv.base, 2);
	srv.auth_workers = workers_start(srv.base, 1);
	srv.runner = runner_start(&srv);
}

struct client {
	int fd;
	const uint8_t *out;
	size_t outlen, sent;
	int closed;
	char in[512];              /* the reply line being read */
	size_t inlen, got;
	size_t limit;              /* write up to here, then wait for quiet */
	int shut;
	struct event *ev_r, *ev_w;
};

static void check_reply_line(const char *l, size_t n)
{
	/* n counts the CRLF */
	CHECK(n >= 5 && l[n - 2] == '\r');
	CHECK(l[0] >= '2' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' && l[2] >= '0' && l[2] <= '9');
	CHECK(n == 5 || l[3] == ' ' || l[3] == '-');
	CHECK(memchr(l, '\r', n - 2) == NULL);
}

static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
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
		CHECK(c->inlen < sizeof c->in);   /* replies are short lines */
		c->in[c->inlen++] = b[i];
		if (b[i] == '\n') {
			check_reply_line(c->in, c->inlen);
			c->inlen = 0;
		}
	}
}

static void on_client_write(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
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

/* The end of the next "DATA" command line after from (any case, CR
 * optional), or the end of the input. */
static size_t next_limit(const struct client *c, size_t from)
{
	size_t i = from, e;

	while (i < c->outlen) {
		const uint8_t *nl = memchr(c->out + i, '\n', c->outlen - i);
		if (!nl)
			break;
		e = (size_t)(nl - c->out);
		if ((e - i == 4 || (e - i == 5 && c->out[e - 1] == '\r')) &&
		    strncasecmp((const char *)c->out + i, "DATA", 4) == 0)
			return e + 1;
		i = e + 1;
	}
	return c->outlen;
}

/* Run the loop until the session is gone; shut the client's side down
 * once the input is written and the server has been quiet QUIET turns. */
#define QUIET 4
static void run_session(struct client *c)
{
	int quiet = 0;
	size_t seen;

	while (!c->closed || srv.nsessions > 0) {
		if (c->closed || c->shut || workers_pending(srv.workers) || workers_pending(srv.auth_workers)) {
			event_base_loop(srv.base, EVLOOP_ONCE);
			quiet = 0;
			continue;
		}
		if (quiet >= QUIET && c->sent < c->outlen) {
			c->limit = next_limit(c, c->sent);   /* the 354 (or not) is in */
			event_add(c->ev_w, NULL);
			quiet = 0;
		} else if (quiet >= QUIET) {
			shutdown(c->fd, SHUT_WR);
			c->shut = 1;
			continue;
		}
		seen = c->got;
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
		if (c->sent >= c->limit && c->got == seen &&
		    event_base_get_num_events(srv.base, EVENT_BASE_COUNT_ACTIVE) == 0)
			quiet++;
		else
			quiet = 0;
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F || flag == FTW_SL)
		unlink(path);
	return 0;
}

/* No open relay: a remote recipient was accepted only from an
 * authorized client, and the envelope says which account. */
static int check_relay(const struct envelope *e, void *arg)
{
	(void)arg;
	if (strcmp(e->client_ip, "127.0.0.1") == 0)
		return 0;                        /* a bounce or delay warning */
	for (size_t i = 0; i < e->nrcpt; i++)
		if (!e->rcpt[i].local) {
			CHECK(e->account[0] != '\0');
			CHECK(strcmp(e->client_ip, "192.0.2.7") == 0);   /* the granted IP */
		}
	return 0;
}

/* Between inputs, now and then: drop queued mail and delivered messages. */
static void wipe(void)
{
	char p[700];

	if (workers_pending(srv.workers) != 0)
		return;
	nftw(mail_dir, rm_one, 16, FTW_PHYS);
	snprintf(p, sizeof p, "%s/env", srv.queue_dir);
	nftw(p, rm_one, 16, FTW_PHYS);
	snprintf(p, sizeof p, "%s/msg", srv.queue_dir);
	nftw(p, rm_one, 16, FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin;
	struct client c;
	int sv[2];
	uint8_t mode;

	if (!srv.base)
		setup();
	if (size < 1)
		return 0;
	mode = data[0];
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	inet_pton(AF_INET, mode & 1 ? "192.0.2.7" : "198.51.100.1", &sin.sin_addr);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(evutil_make_socket_nonblocking(sv[0]) == 0 && evutil_make_socket_nonblocking(sv[1]) == 0);

	memset(&c, 0, sizeof c);
	c.fd = sv[1];
	c.out = data + 1;
	c.outlen = size - 1;
	c.limit = next_limit(&c, 0);
	c.ev_r = event_new(srv.base, c.fd, EV_READ | EV_PERSIST, on_client_read, &c);
	c.ev_w = event_new(srv.base, c.fd, EV_WRITE | EV_PERSIST, on_client_write, &c);
	event_add(c.ev_r, NULL);
	event_add(c.ev_w, NULL);

	smtp_session_start(&srv, sv[0], (struct sockaddr *)&sin, sizeof sin,
	                   mode & 2 ? LISTEN_SUBMISSION : LISTEN_SMTP);
	run_session(&c);
	CHECK(c.inlen == 0);                  /* no half reply line at the close */
	event_free(c.ev_r);
	event_free(c.ev_w);
	close(c.fd);
	CHECK(queue_list(srv.queue_dir, check_relay, NULL) >= 0);
	if (++runs % 64 == 0)
		wipe();
	return 0;
}
