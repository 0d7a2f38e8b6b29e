/*
 * ctl_queue: hostmailctl's queue verbs (list and show read the queue
 * files; flush, delete and bounce ask the running daemon over its control
 * socket, queue/control.h) and relay verbs (POP-before-SMTP grants in the
 * account store).
 */
#include "cmd/ctl.h"
#include "ops/ops.h"
#include "ops/ops_json.h"
#include "util/jw.h"
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
 * a message still waiting its next try and its latest error, or for a held
 * one held="REASON" instead of its next try. */
static int print_envelope(const struct envelope *e, void *arg)
{
	static const char *state[] = { "pending", "done", "failed" };
	const struct env_rcpt *err = NULL;
	time_t now = time(NULL), next = 0;
	size_t i;

	if (arg) {
		ops_json_envelope(arg, e);
		return 0;
	}
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
	if (e->hold[0]) {
		printf(" held=\"");
		put_clean(e->hold);
		putchar('"');
	} else if (next) {
		put_time(" next=", next > now ? next : now);
	}
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
	if (c->json) {
		struct buf b;
		struct jw j;

		buf_init(&b, 0);
		jw_init(&j, &b);
		jw_arr(&j);
		if (queue_list(dir, print_envelope, &j) < 0)
			return buf_free(&b), fail("cannot read the queue in %s: %s", dir, strerror(errno));
		jw_arr_end(&j);
		return ctl_put_json(&b, &j);
	}
	if (queue_list(dir, print_envelope, NULL) < 0)
		return fail("cannot read the queue in %s: %s", dir, strerror(errno));
	return 0;
}

/* Ask the running daemon (ops_queue_ask). 0 = it answered OK (the rest of
 * its answer in ok), 1 = error (reported), -1 = no daemon listens. */
static int ask_daemon(const struct ctl *c, const char *verb, const char *id, char *ok, size_t oklen)
{
	struct ops_err e;
	int rc = ops_queue_ask(c->cfg.data_dir, verb, id, ok, oklen, &e);

	return rc == 1 ? -1 : rc ? fail("%s", e.msg) : 0;
}

int queue_flush_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], ok[64];
	int r;

	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (argc > 0 && !queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	if ((r = ask_daemon(c, "FLUSH", argc > 0 ? argv[0] : NULL, ok, sizeof ok)) < 0)
		return fail("hostmaild is not running on %s (it tries every queued message when it starts)",
		            c->cfg.data_dir);
	if (r == 0)
		printf("%s message(s) to be tried now\n", ok[0] ? ok : "0");
	return r;
}

int queue_delete_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], ok[64];
	int r;

	(void)argc;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (!queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	if ((r = ask_daemon(c, "DELETE", argv[0], ok, sizeof ok)) >= 0) {
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
	char dir[1024], ok[64];
	int r;

	(void)argc;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	if (!queue_id_valid(argv[0]))
		return fail("%s is not a queue id", argv[0]);
	if ((r = ask_daemon(c, "BOUNCE", argv[0], ok, sizeof ok)) < 0)
		return fail("hostmaild is not running on %s (it sends the report)", c->cfg.data_dir);
	if (r == 0)
		printf("%s returned to its sender\n", argv[0]);
	return r;
}

/* queue hold ID [REASON...]: the words of the reason joined by spaces. */
int queue_hold_cmd(struct ctl *c, int argc, char **argv)
{
	char reason[OPS_HOLD_REASON_MAX + 2] = "";
	size_t n = 0;
	struct ops_err e;

	for (int i = 1; i < argc; i++) {
		int w = snprintf(reason + n, sizeof reason - n, "%s%s", i > 1 ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof reason - n)
			return fail("the reason is longer than %d bytes", OPS_HOLD_REASON_MAX);
		n += (size_t)w;
	}
	if (ops_queue_hold(c->cfg.data_dir, argv[0], reason, &e))
		return fail("%s", e.msg);
	printf("%s held\n", argv[0]);
	return 0;
}

int queue_release_cmd(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	int daemon;

	(void)argc;
	if (ops_queue_release(c->cfg.data_dir, argv[0], &daemon, &e))
		return fail("%s", e.msg);
	printf(daemon ? "%s released, to be tried now\n"
	              : "%s released (hostmaild is not running: it is tried when it starts)\n", argv[0]);
	return 0;
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
	if (e.hold[0]) {
		printf("held: ");
		put_clean(e.hold);
		putchar('\n');
	}
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

	if (arg) {
		ops_json_grant(arg, g);
		return 0;
	}
	gmtime_r(&g->expires, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s %s %s\n", g->ip, g->account, g->mailbox, when);
	return 0;
}

int relay_list(struct ctl *c, int argc, char **argv)
{
	(void)argc, (void)argv;
	struct buf b;
	struct jw j;

	if (!store(c))
		return 1;
	if (!c->json)
		return relay_auth_list(c->st, time(NULL), print_grant, NULL) ? fail("cannot list relay authorizations") : 0;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	if (relay_auth_list(c->st, time(NULL), print_grant, &j))
		return buf_free(&b), fail("cannot list relay authorizations");
	jw_arr_end(&j);
	return ctl_put_json(&b, &j);
}

int relay_revoke(struct ctl *c, int argc, char **argv)
{
	char ip[64];
	struct ops_err e;

	(void)argc;
	/* a bad address is refused before the store is opened */
	if (ops_relay_revoke(NULL, argv[0], ip, sizeof ip, &e) == STORE_EINVAL)
		return fail("%s", e.msg);
	if (!store(c))
		return 1;
	return ops_relay_revoke(c->st, argv[0], ip, sizeof ip, &e) ? fail("%s", e.msg) : 0;
}
