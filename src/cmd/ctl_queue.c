/*
 * ctl_queue: hostmailctl's queue verbs (list and show read the queue
 * files; flush, delete and bounce ask the running daemon over its control
 * socket, queue/control.h) and relay verbs (POP-before-SMTP grants in the
 * account store).
 */
#include "cmd/ctl.h"
#include "store/relay_auth.h"
#include "queue/control.h"
#include "queue/queue.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put_clean(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void put_time(const char *key, time_t t)
{
	char when[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s%s", key, when);
}

/* 45s, 12m05s, 3h07m, 2d04h: how long a message has waited */
static void put_age(time_t secs)
{
	long s = secs > 0 ? (long)secs : 0;

	if (s < 60)
		printf("%lds", s);
	else if (s < 3600)
		printf("%ldm%02lds", s / 60, s % 60);
	else if (s < 86400)
		printf("%ldh%02ldm", s / 3600, s % 3600 / 60);
	else
		printf("%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

/* One line a message: ID ARRIVAL AGE SIZE <SENDER> RCPT=STATE..., then for
 * a message still waiting its next try and its latest error. */
static int print_envelope(const struct envelope *e, void *arg)
{
	static const char *state[] = { "pending", "done", "failed" };
	const struct env_rcpt *err = NULL;
	time_t now = time(NULL), next = 0;
	size_t i;

	(void)arg;
	printf("%s ", e->id);
	put_time("", e->arrival);
	putchar(' ');
	put_age(now - e->arrival);
	printf(" %llu <", (unsigned long long)e->size);
	put_clean(e->sender);
	putchar('>');
	for (i = 0; i < e->nrcpt; i++) {
		const struct env_rcpt *r = &e->rcpt[i];

		putchar(' ');
		put_clean(r->addr);
		printf("=%s", (unsigned)r->state < 3 ? state[r->state] : "unknown");
		if (r->state != RCPT_PENDING)
			continue;
		if (!next || r->next_attempt < next)
			next = r->next_attempt;
		if (r->reason[0] && (!err || r->attempts > err->attempts))
			err = r;
	}
	if (next)
		put_time(" next=", next > now ? next : now);
	if (err) {
		printf(" error=\"");
		put_clean(err->reason);
		putchar('"');
	}
	putchar('\n');
	return 0;
}

static int queue_dir(const struct ctl *c, char *dir, size_t len)
{
	return snprintf(dir, len, "%s/queue", c->cfg.data_dir) >= (int)len ? -1 : 0;
}

int queue_list_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024];

	(void)argc, (void)argv;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	/* before hostmaild has made the queue, it is empty */
	if (queue_list(dir, print_envelope, NULL) < 0)
		return fail("cannot read the queue in %s: %s", dir, strerror(errno));
	return 0;
}

/* Ask the running daemon (control.h). 0 = it answered OK (the rest of its
 * answer in ok), 1 = error (reported), -1 = no daemon listens. */
static int ask_daemon(const char *dir, const char *req, char *ok, size_t oklen)
{
	char ans[256];

	if (ctl_request(dir, req, 60, ans, sizeof ans) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return -1;
		return fail("no answer from hostmaild on %s/%s: %s", dir, CTL_SOCKET_NAME, strerror(errno));
	}
	if (strncmp(ans, "OK", 2) == 0 && (ans[2] == '\0' || ans[2] == ' ')) {
		size_t n = ans[2] ? strnlen(ans + 3, oklen - 1) : 0;
		memcpy(ok, ans + 3, n);
		ok[n] = '\0';
		return 0;
	}
	return fail("%s", strncmp(ans, "ERR ", 4) == 0 ? ans + 4 : ans);
}

int queue_flush_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], req[64], ok[64];
	int r;

	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (argc > 0 && !queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	snprintf(req, sizeof req, argc > 0 ? "FLUSH %s" : "FLUSH", argc > 0 ? argv[0] : "");
	if ((r = ask_daemon(dir, req, ok, sizeof ok)) < 0)
		return fail("hostmaild is not running on %s (it tries every queued message when it starts)",
		            c->cfg.data_dir);
	if (r == 0)
		printf("%s message(s) to be tried now\n", ok[0] ? ok : "0");
	return r;
}

int queue_delete_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], req[64], ok[64];
	int r;

	(void)argc;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (!queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	snprintf(req, sizeof req, "DELETE %s", argv[0]);
	if ((r = ask_daemon(dir, req, ok, sizeof ok)) >= 0) {
		if (r == 0)
			printf("%s deleted\n", argv[0]);
		return r;
	}
	/* No daemon: nothing is delivering it; remove it here (envelope first). */
	if ((r = queue_exists(dir, argv[0])) <= 0)
		return r == 0 ? fail("no such message: %s", argv[0])
		              : fail("cannot read %s in %s: %s", argv[0], dir, strerror(errno));
	if (queue_remove(dir, argv[0]) < 0)
		return fail("cannot delete %s: %s", argv[0], strerror(errno));
	printf("%s deleted (hostmaild is not running)\n", argv[0]);
	return 0;
}

int queue_bounce_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], req[64], ok[64];
	int r;

	(void)argc;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (!queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	snprintf(req, sizeof req, "BOUNCE %s", argv[0]);
	if ((r = ask_daemon(dir, req, ok, sizeof ok)) < 0)
		return fail("hostmaild is not running on %s (it sends the report)", c->cfg.data_dir);
	if (r == 0)
		printf("%s returned to its sender\n", argv[0]);
	return r;
}

/* Text from the envelope (a remote server's words) printed on one line. */
int queue_show_cmd(struct ctl *c, int argc, char **argv)
{
	static const char *state[] = { "pending", "done", "failed" };
	struct envelope e;
	char dir[1024];
	time_t now = time(NULL);

	(void)argc;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (!queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	if (envelope_load(dir, argv[0], &e) < 0)
		return errno == ENOENT ? fail("no such message: %s", argv[0])
		                       : fail("cannot read %s: %s", argv[0], strerror(errno));
	printf("id: %s\n", e.id);
	put_time("arrival: ", e.arrival);
	printf(" (%lds ago)\nsender: <", (long)(now - e.arrival));
	put_clean(e.sender);
	printf(">\nsize: %llu\nclient: %s\nhelo: ", (unsigned long long)e.size, e.client_ip);
	put_clean(e.helo);
	printf("\naccount: %s\n", e.account[0] ? e.account : "-");
	for (size_t i = 0; i < e.nrcpt; i++) {
		const struct env_rcpt *r = &e.rcpt[i];
		printf("rcpt: <");
		put_clean(r->addr);
		printf("> %s %s attempts=%d", r->local ? "local" : "remote",
		       (unsigned)r->state < 3 ? state[r->state] : "unknown", r->attempts);
		if (r->state == RCPT_PENDING)
			put_time(" next=", r->next_attempt > now ? r->next_attempt : now);
		if (r->reason[0]) {
			printf(" error=");
			put_clean(r->reason);
		}
		putchar('\n');
	}
	envelope_free(&e);
	return 0;
}

/* ---- relay (POP-before-SMTP) ---- */

static int print_grant(const struct relay_grant *g, void *arg)
{
	char when[32];
	struct tm tm;

	(void)arg;
	gmtime_r(&g->expires, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s %s %s\n", g->ip, g->account, g->mailbox, when);
	return 0;
}

int relay_list(struct ctl *c, int argc, char **argv)
{
	(void)argc, (void)argv;
	if (!store(c))
		return 1;
	return relay_auth_list(c->st, time(NULL), print_grant, NULL) ? fail("cannot list relay authorizations") : 0;
}

int relay_revoke(struct ctl *c, int argc, char **argv)
{
	unsigned char a[sizeof(struct in6_addr)];
	char ip[INET6_ADDRSTRLEN];
	int rc;

	(void)argc;
	/* the canonical form, as hostmaild records it */
	if (inet_pton(AF_INET, argv[0], a) == 1)
		inet_ntop(AF_INET, a, ip, sizeof ip);
	else if (inet_pton(AF_INET6, argv[0], a) == 1)
		inet_ntop(AF_INET6, a, ip, sizeof ip);
	else
		return fail("%s is not an IP address", argv[0]);
	if (!store(c))
		return 1;
	rc = relay_auth_revoke(c->st, ip);
	if (rc == STORE_ENOTFOUND)
		return fail("no relay authorization for %s", ip);
	return rc ? fail("cannot revoke the relay authorization of %s", ip) : 0;
}

