/*
 * fuzz_smtp_session: the whole inbound SMTP server, as Dovecot's
 * fuzz-smtp-server does it. One real struct server (event loop, account
 * store on a scratch data directory with one account, domain and two
 * mailboxes, worker pools, queue runner) lives for the whole run; each
 * input is one client connection (fuzz_client.h: a socketpair,
 * conn_accept() of the SMTP service on one end, the input written to the other end,
 * pausing after each "DATA" line until the server is quiet, as a real
 * client waits for the 354: the server refuses message text sent before
 * it, RFC 2920 and SMTP smuggling). Replies are read and checked: every
 * line is "DDD" followed by ' ' or '-' and ends in CRLF.
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
#include "daemon/conn.h"
#include "auth/throttle.h"
#include "store/relay_auth.h"
#include "queue/queue.h"
#include "queue/runner.h"
#include "smtp/smtp_session.h"
#include "store/store.h"
#include "util/config.h"
#include "util/password.h"
#include "util/workers.h"
#include "fuzz_client.h"
#include "fuzz_server.h"
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
	struct config *cfg;
	char err[512], hash[256];

	cfg = fuzz_server_config(&srv, "mx.fuzz.example");
	/* outbound lookups go nowhere: a closed local port */
	snprintf(cfg->dns_servers, sizeof cfg->dns_servers, "127.0.0.1:9");
	cfg->message_size = 8192;      /* inputs reach the size limit too */
	cfg->min_free_space = 0;
	cfg->recipients_per_hour = 1 << 30;
	cfg->recipients_per_day = 1 << 30;
	cfg->max_recipients = 5;
	cfg->smtp_max_errors = 5;
	snprintf(srv.queue_dir, sizeof srv.queue_dir, "%s/queue", cfg->data_dir);
	snprintf(mail_dir, sizeof mail_dir, "%s/mail", cfg->data_dir);
	fuzz_server_store(&srv);
	CHECK(queue_init(srv.queue_dir) == 0);
	CHECK(password_hash("secret-password", hash, sizeof hash) == 0);
	CHECK(store_mailbox_add(srv.store, "alice@acme.test", hash, err, sizeof err) == 0);
	CHECK(store_mailbox_add(srv.store, "bob@acme.test", hash, err, sizeof err) == 0);
	CHECK(relay_auth_grant(srv.store, "192.0.2.7", "alice@acme.test", time(NULL) + 86400 * 365) == 0);
	fuzz_server_loop(&srv);
	srv.runner = runner_start(&srv);
}

static void check_reply_line(const char *l, size_t n)
{
	/* n counts the CRLF; replies are short */
	CHECK(n >= 5 && n <= 512 && l[n - 2] == '\r');
	CHECK(l[0] >= '2' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' && l[2] >= '0' && l[2] <= '9');
	CHECK(n == 5 || l[3] == ' ' || l[3] == '-');
	CHECK(memchr(l, '\r', n - 2) == NULL);
}

/* The end of the next "DATA" command line after from (any case, CR
 * optional), or the end of the input: a real client waits for the 354. */
static size_t next_limit(const struct fuzz_client *c, size_t from)
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
	struct fuzz_client c;
	int fd;
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
	fuzz_client_open(&c, &srv, &fd, data + 1, size - 1, check_reply_line, next_limit);
	conn_accept(&srv, fd, (struct sockaddr *)&sin, server_service(mode & 2 ? LISTEN_SUBMISSION : LISTEN_SMTP));
	fuzz_client_run(&c, &srv);
	fuzz_client_close(&c);
	CHECK(queue_list(srv.queue_dir, check_relay, NULL) >= 0);
	if (++runs % 64 == 0)
		wipe();
	return 0;
}
