/*
 * fuzz_pop3_session: the whole POP3 server on a real Maildir. One real
 * struct server (event loop, account store on a scratch data directory
 * with one account, domain and mailbox, worker pools, the POP3 service)
 * lives for the whole run; each input is one client connection
 * (fuzz_client.h) to conn_accept() of the POP3 service, plain POP3 with
 * allow_plaintext_auth on, so that USER/PASS and AUTH PLAIN reach the
 * TRANSACTION state: STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT
 * on the messages of alice@acme.test (password "secret"; the seeds log
 * in). The mailbox is topped up to three messages before each input,
 * one with a line that starts with a dot.
 *
 * Checked besides the sanitizers: every line the server sends ends in
 * CRLF with no other CR (RETR and TOP included: the files have bare LF
 * line ends), and RFC 1939's promise that DELE takes effect only at QUIT:
 * after an input without "QUIT" the Maildir holds as many messages as
 * before.
 *
 * Each input comes from its own client address, so the per-IP login
 * throttle never turns the fuzzer away; the library is built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which makes the delay before
 * "-ERR [AUTH]" zero instead of a second.
 */
#define _GNU_SOURCE
#include "daemon/server.h"
#include "daemon/conn.h"
#include "daemon/connlimit.h"
#include "auth/throttle.h"
#include "delivery/maildir.h"
#include "pop3/pop3_session.h"
#include "store/store.h"
#include "util/config.h"
#include "util/workers.h"
#include "fuzz_client.h"
#include "fuzz_server.h"
#include <arpa/inet.h>
#include <crypt.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MESSAGES 3

static struct server srv;
static char maildir[700];
static unsigned long runs;

static void setup(void)
{
	struct config *cfg;
	char err[512];
	struct crypt_data cd;
	const char *hash;

	cfg = fuzz_server_config(&srv, "pop.fuzz.example");
	cfg->pop3_allow_plaintext_auth = 1;
	fuzz_server_store(&srv);
	/* SHA-crypt at its fewest rounds: a login costs well under a millisecond */
	memset(&cd, 0, sizeof cd);
	CHECK((hash = crypt_r("secret", "$6$rounds=1000$fuzzsalt$", &cd)) != NULL && hash[0] == '$');
	CHECK(store_mailbox_add(srv.store, "alice@acme.test", hash, err, sizeof err) == 0);
	CHECK(maildir_create(cfg->data_dir, "alice", "acme.test", maildir, sizeof maildir) == 0);
	fuzz_server_loop(&srv);
	CHECK(pop3_service_start(&srv) == 0);
}

static int count_dir(const char *sub)
{
	char p[800];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof p, "%s/%s", maildir, sub);
	CHECK((d = opendir(p)) != NULL);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int count_messages(void)
{
	return count_dir("new") + count_dir("cur");
}

/* Deliver as hostmail does: LF line ends, S= and W= in the name. */
static void top_up(void)
{
	static const char *const bodies[] = {
		"Subject: one\n\nhello\n",
		"Subject: dots\n\n.a line with a dot\n..two\n.\nend\n",
		"Subject: three\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\nbody\nmore body\n",
	};
	static unsigned long seq;
	char path[900];

	for (int n = count_messages(); n < MESSAGES; n++) {
		const char *b = bodies[seq % 3];
		size_t len = strlen(b), lines = 0;

		for (const char *p = b; *p; p++)
			lines += *p == '\n';
		snprintf(path, sizeof path, "%s/new/%lu.M%luP1Q1.fuzz,S=%zu,W=%zu", maildir,
		         1700000000UL + seq, seq, len, len + lines);
		seq++;
		CHECK(fuzz_write_file(path, b, len) == 0);
	}
}

static void check_line(const char *l, size_t n)
{
	CHECK(n >= 2 && l[n - 2] == '\r');          /* CRLF, never a bare LF */
	CHECK(memchr(l, '\r', n - 2) == NULL);      /* and no other CR */
}

/* "QUIT" in any case anywhere in the input (more than a real QUIT: the
 * check below only runs when there is surely none) */
static int says_quit(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (strncasecmp((const char *)d + i, "QUIT", 4) == 0)
			return 1;
	return 0;
}

static size_t whole_input(const struct fuzz_client *c, size_t from)
{
	(void)from;
	return c->outlen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin;
	struct fuzz_client c;
	int fd, before, quit;

	if (!srv.base)
		setup();
	top_up();
	before = count_messages();
	quit = says_quit(data, size);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(0x0a000000u | (uint32_t)(++runs & 0xffffff));   /* 10.x.y.z */
	fuzz_client_open(&c, &srv, &fd, data, size, check_line, whole_input);
	conn_accept(&srv, fd, (struct sockaddr *)&sin, server_service(LISTEN_POP3));
	fuzz_client_run(&c, &srv);
	fuzz_client_close(&c);
	if (!quit)
		CHECK(count_messages() == before);      /* no QUIT, no deletion */
	return 0;
}
