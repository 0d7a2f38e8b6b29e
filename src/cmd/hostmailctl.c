/*
 * hostmailctl: the administrator's tool. Works directly on the data
 * directory named by the configuration: the account store (accounts,
 * domains, mailboxes, POP-before-SMTP relay authorizations) and the
 * queue. Each verb is one row of the command table below. Exit status:
 * 0 done, 1 error (one "hostmailctl: ..." line on stderr, nothing
 * changed), 2 wrong usage. Passwords come from standard
 * input, one line, never from argv (which other users can read in ps).
 */
#include "delivery/maildir.h"
#include "policy/hostnames.h"
#include "policy/mail_settings.h"
#include "policy/relay_auth.h"
#include "queue/control.h"
#include "queue/queue.h"
#include "store/store.h"
#include "store/store_valid.h"
#include "util/config.h"
#include "util/password.h"
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_CONFIG "/etc/hostmail/hostmail.ini"
#define EXIT_USAGE 2
#define PASSWORD_MAX 1024

static const char usage_text[] =
	"usage: hostmailctl [-c FILE] VERB ...\n"
	"  -c FILE   configuration (default " DEFAULT_CONFIG ")\n"
	"  -h        this help\n"
	"\n"
	"  account add NAME [--created YYYY-MM-DD] [--server-number N]\n"
	"                           created defaults to today (UTC), server number to 1\n"
	"  account list             NAME STATUS CREATED SERVER, one per line\n"
	"  account show NAME        key: value lines\n"
	"  account passwd NAME      the account's ACC login password on standard input (one line)\n"
	"  account limits NAME [--per-hour N] [--per-day N] [--max-recipients N]\n"
	"                           per-account recipient budgets; N or \"default\"\n"
	"  account suspend NAME | account resume NAME | account remove NAME\n"
	"                           remove also removes its domains and mailboxes\n"
	"                           (Maildirs stay on disk)\n"
	"  domain add ACCOUNT DOMAIN | domain remove DOMAIN\n"
	"  domain list [ACCOUNT]    DOMAIN ACCOUNT, one per line\n"
	"  mailbox add ADDRESS      password on standard input (one line); makes the Maildir\n"
	"  mailbox passwd ADDRESS   new password on standard input (one line)\n"
	"  mailbox remove ADDRESS   the Maildir stays on disk\n"
	"  mailbox list [DOMAIN]    one address per line\n"
	"  mailbox show ADDRESS     the settings for a mail program, key: value lines\n"
	"  queue list               ID ARRIVAL(UTC) SIZE <SENDER> RCPT=STATE...; nothing if empty\n"
	"  queue flush [ID]         the running hostmaild tries every queued message (or ID) now\n"
	"  queue show ID            the message's envelope: key: value lines, one rcpt: line\n"
	"                           per recipient (state, attempts, next try, last error)\n"
	"  queue delete ID          remove a message: no delivery, no report to its sender\n"
	"  queue bounce ID          return a message: its pending recipients fail and the\n"
	"                           running hostmaild sends its sender a failure report\n"
	"  relay list               POP-before-SMTP authorizations in force:\n"
	"                           IP ACCOUNT MAILBOX EXPIRY(UTC), one per line\n"
	"  relay revoke IP          end every authorization of IP\n"
	"\n"
	"exit status: 0 success, 1 error, 2 wrong usage\n";

struct ctl {
	struct config cfg;
	struct store *st;
};

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "hostmailctl: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hostmailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static struct store *store(struct ctl *c)
{
	char err[512];

	if (!c->st && !(c->st = store_open(c->cfg.data_dir, err, sizeof err)))
		fail("%s", err);
	return c->st;
}

/* One line from stdin without its line end; never empty. */
static int read_password(char *out, size_t outlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	int rc = 1;

	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n <= 0)
		fail("empty password: give the password on standard input, one line");
	else if ((size_t)n != strlen(line))
		fail("the password contains a NUL byte");
	else if ((size_t)n >= outlen)
		fail("password too long (at most %zu bytes)", outlen - 1);
	else {
		memcpy(out, line, (size_t)n + 1);
		rc = 0;
	}
	if (line)
		explicit_bzero(line, cap);
	free(line);
	return rc;
}

/* Read a password and hash it; 0 or 1 (error already printed). */
static int new_hash(char *hash, size_t hashlen)
{
	char pw[PASSWORD_MAX];
	int rc;

	if (read_password(pw, sizeof pw))
		return 1;
	rc = password_hash(pw, hash, hashlen);
	explicit_bzero(pw, sizeof pw);
	return rc < 0 ? fail("cannot hash the password (libcrypt failed)") : 0;
}

/* ---- accounts ---- */

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int account_add(struct ctl *c, int argc, char **argv)
{
	const char *name = NULL, *created = NULL, *val;
	int server = 1, i;
	char err[512];

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		size_t kl = strcspn(a, "=");

		if (strncmp(a, "--", 2) != 0) {
			if (name)
				return usage("account add: too many arguments");
			name = a;
			continue;
		}
		val = a[kl] ? a + kl + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val)
			return usage("account add: option needs a value");
		if (kl == 9 && !strncmp(a, "--created", kl))
			created = val;
		else if (kl == 15 && !strncmp(a, "--server-number", kl)) {
			if (parse_int(val, &server) < 0)
				return usage("account add: --server-number needs a number");
		} else
			return usage("account add: unknown option");
	}
	if (!name)
		return usage("account add: NAME missing");
	if (!store(c))
		return 1;
	if (store_account_add(c->st, name, created, server, err, sizeof err))
		return fail("%s", err);
	return 0;
}

static int print_account_row(const struct account *a, void *arg)
{
	(void)arg;
	printf("%s %s %s %d\n", a->name, a->suspended ? "suspended" : "active", a->created,
	       a->server_number);
	return 0;
}

static int account_list(struct ctl *c, int argc, char **argv)
{
	(void)argc, (void)argv;
	if (!store(c))
		return 1;
	return store_account_list(c->st, print_account_row, NULL) ? fail("cannot list accounts") : 0;
}

struct account_totals {
	struct store *st;
	int domains, mailboxes;
};

static int count_mailbox(const struct mailbox *m, void *arg)
{
	(void)m;
	((struct account_totals *)arg)->mailboxes++;
	return 0;
}

static int print_domain_count(const char *domain, const char *account, void *arg)
{
	struct account_totals *t = arg;

	(void)account;
	printf("%s%s", t->domains++ ? ", " : "", domain);
	/* The store's mutex is recursive, so a callback may query it. */
	store_mailbox_list(t->st, domain, count_mailbox, t);
	return 0;
}

static void print_limit(const char *key, int v, int def)
{
	if (v >= 0)
		printf("%s: %d\n", key, v);
	else
		printf("%s: %d (default)\n", key, def);
}

static int account_show(struct ctl *c, int argc, char **argv)
{
	struct account a;
	struct account_totals t = { 0 };
	char host[256];

	(void)argc;
	if (!store(c))
		return 1;
	if (store_account_get(c->st, argv[0], &a))
		return fail("account %s does not exist", argv[0]);
	if (account_smtp_host(&c->cfg, &a, host, sizeof host) < 0)
		return fail("host name pattern too long for account %s", a.name);
	printf("name: %s\nstatus: %s\ncreated: %s\nserver_number: %d\nsmtp_host: %s\ndomains: ",
	       a.name, a.suspended ? "suspended" : "active", a.created, a.server_number, host);
	t.st = c->st;
	if (store_domain_list(c->st, a.name, print_domain_count, &t))
		return fail("cannot list domains");
	printf("%s\nmailboxes: %d\n", t.domains ? "" : "none", t.mailboxes);
	print_limit("recipients_per_hour", a.limit_per_hour, c->cfg.recipients_per_hour);
	print_limit("recipients_per_day", a.limit_per_day, c->cfg.recipients_per_day);
	print_limit("max_recipients", a.limit_max_recipients, c->cfg.max_recipients);
	return 0;
}

/* "default" -> -1; a number >= 0 -> itself; else -3 (bad). */
static int parse_limit(const char *v)
{
	int n;

	if (strcmp(v, "default") == 0)
		return -1;
	return parse_int(v, &n) < 0 || n < 0 ? -3 : n;
}

static int account_limits(struct ctl *c, int argc, char **argv)
{
	int hour = -2, day = -2, rcpt = -2, *dst, i;
	char err[512];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--per-hour"))
			dst = &hour;
		else if (!strcmp(argv[i], "--per-day"))
			dst = &day;
		else if (!strcmp(argv[i], "--max-recipients"))
			dst = &rcpt;
		else
			return usage("account limits: unknown option");
		if (i + 1 >= argc || (*dst = parse_limit(argv[++i])) == -3)
			return usage("account limits: option needs a number or \"default\"");
	}
	if (rcpt == 0)
		return fail("--max-recipients must be at least 1");
	if (!store(c))
		return 1;
	if (store_account_set_limits(c->st, argv[0], hour, day, rcpt, err, sizeof err))
		return fail("%s", err);
	return 0;
}

static int account_set(struct ctl *c, const char *name, int suspended)
{
	char err[512];

	if (!store(c))
		return 1;
	return store_account_set_suspended(c->st, name, suspended, err, sizeof err) ? fail("%s", err) : 0;
}

static int account_suspend(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return account_set(c, argv[0], 1);
}

static int account_resume(struct ctl *c, int argc, char **argv)
{
	(void)argc;
	return account_set(c, argv[0], 0);
}

static int account_passwd(struct ctl *c, int argc, char **argv)
{
	struct account a;
	char err[512], hash[256];

	(void)argc;
	if (!store(c))
		return 1;
	if (store_account_get(c->st, argv[0], &a))
		return fail("account %s does not exist", argv[0]);
	if (new_hash(hash, sizeof hash))
		return 1;
	return store_account_set_password(c->st, a.name, hash, err, sizeof err) ? fail("%s", err) : 0;
}

static int account_remove(struct ctl *c, int argc, char **argv)
{
	char err[512];

	(void)argc;
	if (!store(c))
		return 1;
	return store_account_remove(c->st, argv[0], err, sizeof err) ? fail("%s", err) : 0;
}

/* ---- domains ---- */

static int domain_add(struct ctl *c, int argc, char **argv)
{
	char err[512];

	(void)argc;
	if (!store(c))
		return 1;
	return store_domain_add(c->st, argv[0], argv[1], err, sizeof err) ? fail("%s", err) : 0;
}

static int domain_remove(struct ctl *c, int argc, char **argv)
{
	char err[512];

	(void)argc;
	if (!store(c))
		return 1;
	return store_domain_remove(c->st, argv[0], err, sizeof err) ? fail("%s", err) : 0;
}

static int print_domain_row(const char *domain, const char *account, void *arg)
{
	(void)arg;
	printf("%s %s\n", domain, account);
	return 0;
}

static int domain_list(struct ctl *c, int argc, char **argv)
{
	struct account a;
	const char *acc = argc ? argv[0] : NULL;

	if (!store(c))
		return 1;
	if (acc && store_account_get(c->st, acc, &a))
		return fail("account %s does not exist", acc);
	return store_domain_list(c->st, acc, print_domain_row, NULL) ? fail("cannot list domains") : 0;
}

/* ---- mailboxes ---- */

static int mailbox_add(struct ctl *c, int argc, char **argv)
{
	char local[65], domain[256], err[512], hash[256], owner[STORE_NAME_MAX], path[1024];

	(void)argc;
	/* Check what we can before consuming the password. */
	if (valid_address(argv[0], local, sizeof local, domain, sizeof domain, err, sizeof err) < 0)
		return fail("%s", err);
	if (!store(c))
		return 1;
	if (store_domain_owner(c->st, domain, owner, sizeof owner))
		return fail("domain %s is not hosted by any account (add it with: domain add ACCOUNT %s)",
		            domain, domain);
	if (new_hash(hash, sizeof hash))
		return 1;
	if (store_mailbox_add(c->st, argv[0], hash, err, sizeof err))
		return fail("%s", err);
	if (maildir_create(c->cfg.data_dir, local, domain, path, sizeof path) < 0) {
		int e = errno;
		/* No half-made mailbox: undo the row if the Maildir cannot exist. */
		store_mailbox_remove(c->st, argv[0], NULL, 0);
		return fail("cannot create the Maildir for %s@%s: %s", local, domain, strerror(e));
	}
	return 0;
}

static int mailbox_passwd(struct ctl *c, int argc, char **argv)
{
	struct mailbox m;
	char err[512], hash[256];

	(void)argc;
	if (!store(c))
		return 1;
	if (store_mailbox_get(c->st, argv[0], &m))
		return fail("mailbox %s does not exist", argv[0]);
	if (new_hash(hash, sizeof hash))
		return 1;
	return store_mailbox_set_password(c->st, argv[0], hash, err, sizeof err) ? fail("%s", err) : 0;
}

static int mailbox_remove(struct ctl *c, int argc, char **argv)
{
	char err[512];

	(void)argc;
	if (!store(c))
		return 1;
	return store_mailbox_remove(c->st, argv[0], err, sizeof err) ? fail("%s", err) : 0;
}

static int print_mailbox_row(const struct mailbox *m, void *arg)
{
	(void)arg;
	printf("%s\n", m->address);
	return 0;
}

static int mailbox_list(struct ctl *c, int argc, char **argv)
{
	char owner[STORE_NAME_MAX];
	const char *domain = argc ? argv[0] : NULL;

	if (!store(c))
		return 1;
	if (domain && store_domain_owner(c->st, domain, owner, sizeof owner))
		return fail("domain %s is not hosted", domain);
	return store_mailbox_list(c->st, domain, print_mailbox_row, NULL) ? fail("cannot list mailboxes") : 0;
}

static int mailbox_show(struct ctl *c, int argc, char **argv)
{
	struct mailbox m;
	struct account a;
	struct mail_settings ms;
	int i;

	(void)argc;
	if (!store(c))
		return 1;
	if (store_mailbox_get(c->st, argv[0], &m))
		return fail("mailbox %s does not exist", argv[0]);
	if (store_account_get(c->st, m.account, &a))
		return fail("account %s of mailbox %s vanished", m.account, m.address);
	if (mail_settings_get(&c->cfg, &a, m.address, &ms) < 0)
		return fail("settings for %s do not fit (host name pattern or listen list too long)", m.address);
	for (i = 0; i < ms.n; i++)
		printf("%s: %s\n", ms.s[i].key, ms.s[i].value);
	return 0;
}

/* ---- queue ---- */

static int print_envelope(const struct envelope *e, void *arg)
{
	static const char *state[] = { "pending", "done", "failed" };
	char when[32];
	struct tm tm;
	size_t i;

	(void)arg;
	gmtime_r(&e->arrival, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s %llu <%s>", e->id, when, (unsigned long long)e->size, e->sender);
	for (i = 0; i < e->nrcpt; i++)
		printf(" %s=%s", e->rcpt[i].addr,
		       (unsigned)e->rcpt[i].state < 3 ? state[e->rcpt[i].state] : "unknown");
	putchar('\n');
	return 0;
}

static int queue_dir(const struct ctl *c, char *dir, size_t len)
{
	return snprintf(dir, len, "%s/queue", c->cfg.data_dir) >= (int)len ? -1 : 0;
}

static int queue_list_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], env[1100];
	struct stat sb;

	(void)argc, (void)argv;
	if (queue_dir(c, dir, sizeof dir) < 0)
		return fail("data_dir too long");
	snprintf(env, sizeof env, "%s/env", dir);
	/* hostmaild makes queue/env on start; before that nothing was ever queued. */
	if (stat(env, &sb) < 0 && errno == ENOENT)
		return 0;
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

static int queue_flush_cmd(struct ctl *c, int argc, char **argv)
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

static int queue_delete_cmd(struct ctl *c, int argc, char **argv)
{
	char dir[1024], req[64], ok[64], env[1200];
	struct stat sb;
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
	snprintf(env, sizeof env, "%s/env/%s", dir, argv[0]);
	if (stat(env, &sb) < 0)
		return errno == ENOENT ? fail("no such message: %s", argv[0])
		                       : fail("cannot read %s: %s", env, strerror(errno));
	if (queue_remove(dir, argv[0]) < 0)
		return fail("cannot delete %s: %s", argv[0], strerror(errno));
	printf("%s deleted (hostmaild is not running)\n", argv[0]);
	return 0;
}

static int queue_bounce_cmd(struct ctl *c, int argc, char **argv)
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

static int queue_show_cmd(struct ctl *c, int argc, char **argv)
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

static int relay_list(struct ctl *c, int argc, char **argv)
{
	(void)argc, (void)argv;
	if (!store(c))
		return 1;
	return relay_auth_list(c->st, time(NULL), print_grant, NULL) ? fail("cannot list relay authorizations") : 0;
}

static int relay_revoke(struct ctl *c, int argc, char **argv)
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

/* ---- dispatch ---- */

struct verb {
	const char *noun, *verb;
	int min, max;            /* argument counts after NOUN VERB; max -1 = options */
	int (*run)(struct ctl *, int, char **);
};

static const struct verb verbs[] = {
	{ "account", "add", 1, -1, account_add },
	{ "account", "list", 0, 0, account_list },
	{ "account", "show", 1, 1, account_show },
	{ "account", "limits", 1, -1, account_limits },
	{ "account", "suspend", 1, 1, account_suspend },
	{ "account", "resume", 1, 1, account_resume },
	{ "account", "remove", 1, 1, account_remove },
	{ "account", "passwd", 1, 1, account_passwd },
	{ "domain", "add", 2, 2, domain_add },
	{ "domain", "remove", 1, 1, domain_remove },
	{ "domain", "list", 0, 1, domain_list },
	{ "mailbox", "add", 1, 1, mailbox_add },
	{ "mailbox", "passwd", 1, 1, mailbox_passwd },
	{ "mailbox", "remove", 1, 1, mailbox_remove },
	{ "mailbox", "list", 0, 1, mailbox_list },
	{ "mailbox", "show", 1, 1, mailbox_show },
	{ "queue", "list", 0, 0, queue_list_cmd },
	{ "queue", "flush", 0, 1, queue_flush_cmd },
	{ "queue", "show", 1, 1, queue_show_cmd },
	{ "queue", "delete", 1, 1, queue_delete_cmd },
	{ "queue", "bounce", 1, 1, queue_bounce_cmd },
	{ "relay", "list", 0, 0, relay_list },
	{ "relay", "revoke", 1, 1, relay_revoke },
};

int main(int argc, char **argv)
{
	const char *cfgpath = DEFAULT_CONFIG;
	struct ctl c = { 0 };
	char err[1024];
	size_t i;
	int ai = 1, n, rc;

	while (ai < argc && argv[ai][0] == '-') {
		if (!strcmp(argv[ai], "-h") || !strcmp(argv[ai], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(argv[ai], "-c") && ai + 1 < argc)
			cfgpath = argv[ai + 1], ai += 2;
		else
			return usage("unknown option or missing value");
	}
	if (argc - ai < 2)
		return usage(NULL);
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].noun, argv[ai]) && !strcmp(verbs[i].verb, argv[ai + 1]))
			break;
	if (i == sizeof verbs / sizeof verbs[0])
		return usage("unknown command");
	n = argc - ai - 2;
	if (n < verbs[i].min || (verbs[i].max >= 0 && n > verbs[i].max))
		return usage("wrong number of arguments");
	if (config_load(cfgpath, &c.cfg, err, sizeof err) < 0)
		return fail("%s", err);
	rc = verbs[i].run(&c, n, argv + ai + 2);
	store_close(c.st);
	if (fflush(stdout) != 0)
		rc = fail("cannot write output: %s", strerror(errno));
	return rc;
}
