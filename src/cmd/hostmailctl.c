/*
 * hostmailctl: the administrator's tool. Works directly on the data
 * directory named by the configuration: the account store (accounts,
 * domains, mailboxes, POP-before-SMTP relay authorizations; in data_dir
 * or the configured PostgreSQL) and the queue. Each verb is one row of the command table below. Exit status:
 * 0 done, 1 error (one "hostmailctl: ..." line on stderr, nothing
 * changed), 2 wrong usage. Passwords come from standard
 * input, one line, never from argv (which other users can read in ps).
 */
#include "cmd/ctl.h"
#include "delivery/maildir.h"
#include "policy/hostnames.h"
#include "policy/client_settings.h"
#include "util/buf.h"
#include "policy/mail_settings.h"
#include "store/store.h"
#include "store/store_acc_session.h"
#include "store/store_valid.h"
#include "util/config.h"
#include "util/privdrop.h"
#include "util/password.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	"  account logout NAME      end every ACC session of the account (on every node)\n"
	"  account suspend NAME | account resume NAME | account remove NAME\n"
	"                           remove also removes its domains and mailboxes\n"
	"                           (Maildirs stay on disk)\n"
	"  domain add ACCOUNT DOMAIN [--no-dkim] | domain remove DOMAIN\n"
	"  domain list [ACCOUNT]    DOMAIN ACCOUNT, one per line\n"
	"  domain dkim DOMAIN [--rotate | --activate SELECTOR]\n"
	"                           DKIM selectors and state; rotate keys (docs/dkim.md)\n"
	"  domain dns DOMAIN        the DNS records to publish, zone-file syntax\n"
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
	"  relay dovecot-login NEXT...\n"
	"                           Dovecot's post-login hook: the IMAP login's grant (USER, IP\n"
	"                           from the environment), then runs NEXT (docs/imap.md)\n"
	"  dovecot-config [--sql] [--sql-file PATH] [--instance-dir DIR]\n"
	"                           the dovecot.conf serving IMAP on hostmail's Maildirs and\n"
	"                           accounts; --sql: the SQL file it names (PATH, default\n"
	"                           /etc/dovecot/hostmail-sql.conf.ext); DIR: a private instance\n"
	"  db init                  create the store's schema, or upgrade it to this version\n"
	"                           (PostgreSQL: once per database; SQLite does it by itself)\n"
	"  db migrate-from-sqlite PATH [--force]\n"
	"                           copy a hostmail.db (or the data directory holding it)\n"
	"                           into the configured PostgreSQL store and verify the\n"
	"                           counts; --force replaces what the database holds\n"
	"\n"
	"exit status: 0 success, 1 error, 2 wrong usage\n";

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "hostmailctl: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hostmailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

struct store *store(struct ctl *c)
{
	char err[512];

	if (!c->st && !(c->st = store_open(&c->cfg, err, sizeof err)))
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

static int account_logout(struct ctl *c, int argc, char **argv)
{
	struct account a;
	int n;

	(void)argc;
	if (!store(c))
		return 1;
	if (store_account_get(c->st, argv[0], &a))
		return fail("account %s does not exist", argv[0]);
	if ((n = store_acc_session_end_account(c->st, a.name, NULL)) < 0)
		return fail("cannot end the sessions of %s (store error)", a.name);
	printf("%d session(s) ended\n", n);
	return 0;
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

/* --no-dkim: no keys now (the domain signs elsewhere, or later: the
 * first `domain dkim DOMAIN` makes them) */
static int domain_add(struct ctl *c, int argc, char **argv)
{
	char err[512];
	int keys = 1;

	if (argc == 3 && !strcmp(argv[2], "--no-dkim"))
		keys = 0;
	else if (argc != 2)
		return fail("usage: domain add ACCOUNT DOMAIN [--no-dkim]");
	if (!store(c))
		return 1;
	if (store_domain_add(c->st, argv[0], argv[1], err, sizeof err))
		return fail("%s", err);
	return keys ? ctl_dkim_first_keys(c, argv[1]) : 0;
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

/* The servers as the ACC's tables show them, recommended first. */
static int print_servers(struct ctl *c, const struct account *a, const char *address)
{
	struct client_settings cs;
	struct buf b;
	int rc;

	if (client_settings_get(&c->cfg, a, address, &cs) < 0)
		return fail("settings for %s do not fit", address);
	buf_init(&b, 0);
	rc = cs_server_lines(&cs, &b);
	if (rc == 0)
		fputs(b.data ? b.data : "", stdout);
	buf_free(&b);
	return rc < 0 ? fail("out of memory") : 0;
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
	return print_servers(c, &a, m.address);
}

/* ---- dispatch ---- */

struct verb {
	const char *noun, *verb;  /* verb NULL: the noun alone is the command */
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
	{ "account", "logout", 1, 1, account_logout },
	{ "domain", "add", 2, 3, domain_add },
	{ "domain", "remove", 1, 1, domain_remove },
	{ "domain", "list", 0, 1, domain_list },
	{ "domain", "dkim", 1, -1, ctl_domain_dkim },
	{ "domain", "dns", 1, 1, ctl_domain_dns },
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
	{ "relay", "dovecot-login", 1, -1, relay_dovecot_login },
	{ "dovecot-config", NULL, 0, -1, dovecot_config_cmd },
	{ "db", "init", 0, 0, db_init_cmd },
	{ "db", "migrate-from-sqlite", 1, -1, db_migrate_cmd },
};

int main(int argc, char **argv)
{
	const char *cfgpath = DEFAULT_CONFIG;
	struct ctl c = { 0 };
	char err[1024];
	size_t i;
	int ai = 1, n, rc, words;

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
	if (argc - ai < 1)
		return usage(NULL);
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].noun, argv[ai]) &&
		    (!verbs[i].verb || (argc - ai >= 2 && !strcmp(verbs[i].verb, argv[ai + 1]))))
			break;
	if (i == sizeof verbs / sizeof verbs[0])
		return usage(argc - ai < 2 ? NULL : "unknown command");
	words = verbs[i].verb ? 2 : 1;
	n = argc - ai - words;
	if (n < verbs[i].min || (verbs[i].max >= 0 && n > verbs[i].max))
		return usage("wrong number of arguments");
	if (config_load(cfgpath, &c.cfg, err, sizeof err) < 0)
		return fail("%s", err);
	/* root works as the daemon's user: what it creates stays the daemon's */
	if (geteuid() == 0 && c.cfg.user[0] && priv_drop_top(c.cfg.user, c.cfg.data_dir, err, sizeof err) < 0)
		return fail("%s", err);
	rc = verbs[i].run(&c, n, argv + ai + words);
	store_close(c.st);
	if (fflush(stdout) != 0)
		rc = fail("cannot write output: %s", strerror(errno));
	return rc;
}
