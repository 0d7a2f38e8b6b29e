/*
 * hostmailctl: the administrator's tool. Works directly on the data
 * directory named by the configuration: the account store (accounts,
 * domains, mailboxes, POP-before-SMTP relay authorizations; in data_dir
 * or the configured PostgreSQL) and the queue. Each verb is one row of the command table below. Exit status:
 * 0 done, 1 error (one "hostmailctl: ..." line on stderr, nothing
 * changed), 2 wrong usage (one line naming what is wrong, pointing to
 * `hostmailctl help VERB`). Passwords come from standard
 * input, one line, never from argv (which other users can read in ps),
 * and obey the ACC's rule (ops/ops.h) unless --force. The verbs' logic
 * is in src/ops/, shared with the admin API; listing verbs take --json.
 */
#include "cmd/ctl.h"
#include "ops/ops.h"
#include "ops/ops_json.h"
#include "util/jw.h"
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
	"  help [NOUN [VERB]]       this text, or only what it says about NOUN or NOUN VERB\n"
	"  account add NAME [--created YYYY-MM-DD] [--server-number N]\n"
	"                           created defaults to today (UTC); the server number (the\n"
	"                           home node) to the least loaded active node, or 1 without\n"
	"                           nodes (docs/cluster.md)\n"
	"  account list [--json]    NAME STATUS CREATED SERVER, one per line\n"
	"  account show NAME        key: value lines\n"
	"  account passwd NAME [--force]\n"
	"                           the account's ACC login password on standard input (one\n"
	"                           line, at least 8 characters unless --force)\n"
	"  account limits NAME [--per-hour N] [--per-day N] [--max-recipients N]\n"
	"                           [--mailbox-quota SIZE] [--mailbox-messages N]\n"
	"                           per-account recipient budgets; N or \"default\";\n"
	"                           the default quota of its mailboxes (0 = none)\n"
	"  account logout NAME      end every ACC session of the account (on every node)\n"
	"  account move NAME --to N move its Maildirs to node N and make N its home (run on its\n"
	"                           home node; again to go on after an interruption)\n"
	"  account move NAME --abort  undo a move that has not switched the home yet\n"
	"  account suspend NAME | account resume NAME | account remove NAME\n"
	"                           remove also removes its domains and mailboxes\n"
	"                           (Maildirs stay on disk)\n"
	"  domain add ACCOUNT DOMAIN [--no-dkim] | domain remove DOMAIN\n"
	"  domain list [ACCOUNT] [--json]\n"
	"                           DOMAIN ACCOUNT spam=CHOICE, one per line\n"
	"  domain dkim DOMAIN [--rotate | --activate SELECTOR]\n"
	"                           DKIM selectors and state; rotate keys (docs/dkim.md)\n"
	"  domain dns DOMAIN        the DNS records to publish, zone-file syntax\n"
	"  domain catchall DOMAIN [TARGET|off]\n"
	"                           where mail to unknown addresses of DOMAIN goes (off by default)\n"
	"  alias add ADDRESS TARGET[,TARGET...]\n"
	"                           deliver ADDRESS to the targets (mailboxes or outside addresses;\n"
	"                           ADDRESS itself among them keeps a copy in its mailbox)\n"
	"  alias list [DOMAIN]      ADDRESS TARGETS, one per line\n"
	"  alias remove ADDRESS\n"
	"  account contact NAME [ADDRESS|default]\n"
	"                           where postmaster@ and abuse@ of the account's domains go\n"
	"                           (default: its first mailbox)\n"
	"  domain show DOMAIN       domain:, account: and spam: lines\n"
	"  domain spam DOMAIN [subject|headers|refuse|default]\n"
	"                           what happens to its mail the filter marks as spam\n"
	"  mailbox add ADDRESS [--force]\n"
	"                           password on standard input (one line, at least 8\n"
	"                           characters unless --force); makes the Maildir\n"
	"  mailbox passwd ADDRESS [--force]\n"
	"                           new password on standard input (the same rule)\n"
	"  mailbox remove ADDRESS   the Maildir stays on disk\n"
	"  mailbox list [DOMAIN] [--json]\n"
	"                           one address per line\n"
	"  mailbox show ADDRESS     the settings for a mail program, key: value lines\n"
	"                           (and the quota, its use, the autoresponder)\n"
	"  mailbox quota ADDRESS SIZE|default [--messages N|default]\n"
	"                           storage limit (bytes; K, M, G; 0 = none; default = the\n"
	"                           account's --mailbox-quota), docs/quotas.md\n"
	"  mailbox vacation ADDRESS on|off|show [--subject S] [--text T | --text-file PATH]\n"
	"                           [--start YYYY-MM-DD] [--end YYYY-MM-DD]\n"
	"                           the autoresponder (RFC 3834), docs/vacation.md\n"
	"  queue list [--json]      ID ARRIVAL(UTC) AGE SIZE <SENDER> RCPT=STATE... [next=TIME]\n"
	"                           [error=\"TEXT\"], one message a line; nothing if empty\n"
	"  queue flush [ID]         the running hostmaild tries every queued message (or ID) now\n"
	"  queue show ID            the message's envelope: key: value lines, one rcpt: line\n"
	"                           per recipient (state, attempts, next try, last error)\n"
	"  queue delete ID          remove a message: no delivery, no report to its sender\n"
	"  queue bounce ID          return a message: its pending recipients fail and the\n"
	"                           running hostmaild sends its sender a failure report\n"
	"  queue hold ID [REASON]   keep a message in the queue, undelivered, until released\n"
	"  queue release ID         release a held message: the running hostmaild tries it now\n"
	"  relay list [--json]      POP-before-SMTP authorizations in force:\n"
	"                           IP ACCOUNT MAILBOX EXPIRY(UTC), one per line\n"
	"  relay revoke IP          end every authorization of IP\n"
	"  relay dovecot-login NEXT...\n"
	"                           Dovecot's post-login hook: the IMAP login's grant (USER, IP\n"
	"                           from the environment), then runs NEXT (docs/imap.md)\n"
	"  dovecot-config [--sql] [--sql-file PATH] [--instance-dir DIR]\n"
	"                           the dovecot.conf serving IMAP on hostmail's Maildirs and\n"
	"                           accounts; --sql: the SQL file it names (PATH, default\n"
	"                           /etc/dovecot/hostmail-sql.conf.ext); DIR: a private instance\n"
	"  token add NAME [--read-only]\n"
	"                           a bearer token for the admin API ([listen] admin), printed\n"
	"                           once (only its hash is kept, in data_dir/admin_tokens)\n"
	"  token list [--json]      NAME rw|ro, one per line\n"
	"  token remove NAME        the token stops working at once\n"
	"  node add N --lmtp HOST:PORT --pop3 HOST:PORT [--imap HOST:PORT]\n"
	"                           a node of the fleet: where the others reach its LMTP\n"
	"                           (internal delivery), POP3 and IMAP (its [imap]\n"
	"                           listen_cluster; docs/cluster.md)\n"
	"  node list [--json]       NUMBER STATE LMTP POP3 IMAP ACCOUNTS MAILBOXES, one per line\n"
	"  node drain N | node activate N\n"
	"                           a draining node gets no new accounts; its accounts stay\n"
	"  node set-imap N HOST:PORT|-\n"
	"                           where the other nodes' IMAP proxies reach node N (its\n"
	"                           [imap] listen_cluster); - for none\n"
	"  node remove N            refused while accounts live there\n"
	"  db init                  create the store's schema, or upgrade it to this version\n"
	"                           (PostgreSQL: once per database; SQLite does it by itself)\n"
	"  db migrate-from-sqlite PATH [--force]\n"
	"                           copy a hostmail.db (or the data directory holding it)\n"
	"                           into the configured PostgreSQL store and verify the\n"
	"                           counts; --force replaces what the database holds\n"
	"\n"
	"exit status: 0 success, 1 error, 2 wrong usage\n";

/* The verb being run, for usage()'s pointer to its help. */
static const char *cur_noun, *cur_verb;

/* One line: what is wrong, and where the verb's usage is. */
static int usage(const char *why)
{
	if (cur_noun)
		fprintf(stderr, "hostmailctl: %s (usage: hostmailctl help %s%s%s)\n", why ? why : "wrong usage",
		        cur_noun, cur_verb ? " " : "", cur_verb ? cur_verb : "");
	else
		fprintf(stderr, "hostmailctl: %s (usage: hostmailctl help)\n", why ? why : "no command given");
	return EXIT_USAGE;
}

/* A JSON document onto stdout: 0, or 1 (reported). */
int ctl_put_json(struct buf *b, const struct jw *j)
{
	int rc = jw_done(j) < 0 ? fail("out of memory") : (fputs(b->data ? b->data : "", stdout), putchar('\n'), 0);

	buf_free(b);
	return rc;
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
	int server = -1, i;
	struct ops_err e;

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
	if (ops_account_add(c->st, name, created, server, &e))
		return fail("%s", e.msg);
	return 0;
}

static int print_account_row(const struct account *a, void *arg)
{
	if (arg) {
		ops_json_account(arg, a);
		return 0;
	}
	printf("%s %s %s %d\n", a->name, a->suspended ? "suspended" : "active", a->created,
	       a->server_number);
	return 0;
}

static int account_list(struct ctl *c, int argc, char **argv)
{
	struct buf b;
	struct jw j;

	(void)argc, (void)argv;
	if (!store(c))
		return 1;
	if (!c->json)
		return store_account_list(c->st, print_account_row, NULL) ? fail("cannot list accounts") : 0;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	if (store_account_list(c->st, print_account_row, &j))
		return buf_free(&b), fail("cannot list accounts");
	jw_arr_end(&j);
	return ctl_put_json(&b, &j);
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
	return ctl_account_quota_show(c, a.name);
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
	int hour = -2, day = -2, rcpt = -2, *dst, i, rc;
	const char *mq = NULL, *mm = NULL;
	struct ops_err e;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mailbox-quota") || !strcmp(argv[i], "--mailbox-messages")) {
			if (i + 1 >= argc)
				return usage("account limits: option needs a size");
			*(argv[i][10] == 'q' ? &mq : &mm) = argv[i + 1];
			i++;
			continue;
		}
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
	if (rcpt == 0)      /* before opening the store, as before */
		return fail("--max-recipients must be at least 1");
	if (!store(c))
		return 1;
	if ((mq || mm) && (rc = ctl_account_mailbox_quota(c, argv[0], mq, mm)) != 0)
		return rc;
	if (hour == -2 && day == -2 && rcpt == -2 && (mq || mm))
		return 0;
	return ops_account_limits(c->st, argv[0], hour, day, rcpt, &e) ? fail("%s", e.msg) : 0;
}

static int account_set(struct ctl *c, const char *name, int suspended)
{
	struct ops_err e;

	if (!store(c))
		return 1;
	return ops_account_suspend(c->st, name, suspended, &e) ? fail("%s", e.msg) : 0;
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
	struct ops_err e;
	char pw[PASSWORD_MAX];
	int rc;

	(void)argc;
	if (!store(c))
		return 1;
	if (ops_account_get(c->st, argv[0], &a, &e))
		return fail("%s", e.msg);
	if (read_password(pw, sizeof pw))
		return 1;
	rc = ops_account_password(c->st, a.name, pw, c->force, &e);
	explicit_bzero(pw, sizeof pw);
	return rc ? fail("%s", e.msg) : 0;
}

static int account_logout(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	int n;

	(void)argc;
	if (!store(c))
		return 1;
	if (ops_account_logout(c->st, argv[0], &n, &e))
		return fail("%s", e.msg);
	printf("%d session(s) ended\n", n);
	return 0;
}

static int account_remove(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;

	(void)argc;
	if (!store(c))
		return 1;
	return ops_account_remove(c->st, argv[0], &e) ? fail("%s", e.msg) : 0;
}

/* ---- domains ---- */

/* --no-dkim: no keys now (the domain signs elsewhere, or later: the
 * first `domain dkim DOMAIN` makes them) */
static int domain_add(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;
	int keys = 1;

	if (argc == 3 && !strcmp(argv[2], "--no-dkim"))
		keys = 0;
	else if (argc != 2)
		return usage("domain add: unknown option");
	if (!store(c))
		return 1;
	return ops_domain_add(c->st, argv[0], argv[1], keys, &e) ? fail("%s", e.msg) : 0;
}

static int domain_remove(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;

	(void)argc;
	if (!store(c))
		return 1;
	return ops_domain_remove(c->st, argv[0], &e) ? fail("%s", e.msg) : 0;
}

struct domain_rows {
	struct store *st;
	struct jw *j;             /* NULL: text */
};

/* DOMAIN ACCOUNT spam=CHOICE */
static int print_domain_row(const char *domain, const char *account, void *arg)
{
	struct domain_rows *r = arg;
	struct ops_err e;
	char spam[16];

	if (ops_domain_spam_get(r->st, domain, spam, sizeof spam, &e))
		snprintf(spam, sizeof spam, "unknown");
	if (r->j)
		ops_json_domain(r->j, domain, account, spam);
	else
		printf("%s %s spam=%s\n", domain, account, spam);
	return 0;
}

static int domain_list(struct ctl *c, int argc, char **argv)
{
	const char *acc = argc ? argv[0] : NULL;
	struct ops_err e;
	struct buf b;
	struct jw j;

	if (!store(c))
		return 1;
	if (ops_domain_list_check(c->st, acc, &e))
		return fail("%s", e.msg);
	struct domain_rows rows = { c->st, NULL };

	if (!c->json)
		return store_domain_list(c->st, acc, print_domain_row, &rows) ? fail("cannot list domains") : 0;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	rows.j = &j;
	if (store_domain_list(c->st, acc, print_domain_row, &rows))
		return buf_free(&b), fail("cannot list domains");
	jw_arr_end(&j);
	return ctl_put_json(&b, &j);
}

/* ---- mailboxes ---- */

/* ADDRESS, then its password from stdin (checked first: a refused
 * address does not consume the password) */
static int mailbox_add(struct ctl *c, int argc, char **argv)
{
	char pw[PASSWORD_MAX];
	struct ops_err e;
	int rc;

	(void)argc;
	if (!store(c))
		return 1;
	if (ops_mailbox_check(c->st, argv[0], &e))
		return fail("%s", e.msg);
	if (read_password(pw, sizeof pw))
		return 1;
	rc = ops_mailbox_add(c->st, c->cfg.data_dir, argv[0], pw, c->force, &e);
	explicit_bzero(pw, sizeof pw);
	return rc ? fail("%s", e.msg) : 0;
}

static int mailbox_passwd(struct ctl *c, int argc, char **argv)
{
	struct mailbox m;
	struct ops_err e;
	char pw[PASSWORD_MAX];
	int rc;

	(void)argc;
	if (!store(c))
		return 1;
	if (store_mailbox_get(c->st, argv[0], &m))
		return fail("mailbox %s does not exist", argv[0]);
	if (read_password(pw, sizeof pw))
		return 1;
	rc = ops_mailbox_passwd(c->st, argv[0], pw, c->force, &e);
	explicit_bzero(pw, sizeof pw);
	return rc ? fail("%s", e.msg) : 0;
}

static int mailbox_remove(struct ctl *c, int argc, char **argv)
{
	struct ops_err e;

	(void)argc;
	if (!store(c))
		return 1;
	return ops_mailbox_remove(c->st, argv[0], &e) ? fail("%s", e.msg) : 0;
}

static int print_mailbox_row(const struct mailbox *m, void *arg)
{
	if (arg)
		ops_json_mailbox(arg, m);
	else
		printf("%s\n", m->address);
	return 0;
}

static int mailbox_list(struct ctl *c, int argc, char **argv)
{
	const char *domain = argc ? argv[0] : NULL;
	struct ops_err e;
	struct buf b;
	struct jw j;

	if (!store(c))
		return 1;
	if (ops_mailbox_list_check(c->st, domain, &e))
		return fail("%s", e.msg);
	if (!c->json)
		return store_mailbox_list(c->st, domain, print_mailbox_row, NULL) ? fail("cannot list mailboxes") : 0;
	buf_init(&b, 0);
	jw_init(&j, &b);
	jw_arr(&j);
	if (store_mailbox_list(c->st, domain, print_mailbox_row, &j))
		return buf_free(&b), fail("cannot list mailboxes");
	jw_arr_end(&j);
	return ctl_put_json(&b, &j);
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
	if ((i = print_servers(c, &a, m.address)) != 0)
		return i;
	return ctl_quota_show(c, m.address);
}

/* ---- dispatch ---- */

#define V_JSON  1          /* takes --json */
#define V_FORCE 2          /* takes --force (the password rule) */

struct verb {
	const char *noun, *verb;  /* verb NULL: the noun alone is the command */
	int min, max;            /* argument counts after NOUN VERB; max -1 = options */
	int (*run)(struct ctl *, int, char **);
	int flags;
};

static const struct verb verbs[] = {
	{ "account", "add", 1, -1, account_add, 0 },
	{ "account", "list", 0, 0, account_list, V_JSON },
	{ "account", "show", 1, 1, account_show, 0 },
	{ "account", "limits", 1, -1, account_limits, 0 },
	{ "account", "suspend", 1, 1, account_suspend, 0 },
	{ "account", "resume", 1, 1, account_resume, 0 },
	{ "account", "remove", 1, 1, account_remove, 0 },
	{ "account", "passwd", 1, 1, account_passwd, V_FORCE },
	{ "account", "logout", 1, 1, account_logout, 0 },
	{ "account", "move", 1, -1, ctl_account_move, 0 },
	{ "domain", "add", 2, 3, domain_add, 0 },
	{ "domain", "remove", 1, 1, domain_remove, 0 },
	{ "domain", "list", 0, 1, domain_list, V_JSON },
	{ "domain", "dkim", 1, -1, ctl_domain_dkim, 0 },
	{ "domain", "dns", 1, 1, ctl_domain_dns, 0 },
	{ "domain", "catchall", 1, 2, ctl_domain_catchall, 0 },
	{ "alias", "add", 2, -1, ctl_alias_add, 0 },
	{ "alias", "list", 0, 1, ctl_alias_list, 0 },
	{ "alias", "remove", 1, 1, ctl_alias_remove, 0 },
	{ "account", "contact", 1, 2, ctl_account_contact, 0 },
	{ "domain", "show", 1, 1, ctl_domain_show, 0 },
	{ "domain", "spam", 1, 2, ctl_domain_spam, 0 },
	{ "mailbox", "add", 1, 1, mailbox_add, V_FORCE },
	{ "mailbox", "passwd", 1, 1, mailbox_passwd, V_FORCE },
	{ "mailbox", "remove", 1, 1, mailbox_remove, 0 },
	{ "mailbox", "list", 0, 1, mailbox_list, V_JSON },
	{ "mailbox", "show", 1, 1, mailbox_show, 0 },
	{ "mailbox", "quota", 2, -1, ctl_mailbox_quota, 0 },
	{ "mailbox", "vacation", 2, -1, ctl_mailbox_vacation, 0 },
	{ "queue", "list", 0, 0, queue_list_cmd, V_JSON },
	{ "queue", "flush", 0, 1, queue_flush_cmd, 0 },
	{ "queue", "show", 1, 1, queue_show_cmd, 0 },
	{ "queue", "delete", 1, 1, queue_delete_cmd, 0 },
	{ "queue", "bounce", 1, 1, queue_bounce_cmd, 0 },
	{ "queue", "hold", 1, -1, queue_hold_cmd, 0 },
	{ "queue", "release", 1, 1, queue_release_cmd, 0 },
	{ "relay", "list", 0, 0, relay_list, V_JSON },
	{ "relay", "revoke", 1, 1, relay_revoke, 0 },
	{ "relay", "dovecot-login", 1, -1, relay_dovecot_login, 0 },
	{ "dovecot-config", NULL, 0, -1, dovecot_config_cmd, 0 },
	{ "token", "add", 1, 2, ctl_token_add, 0 },
	{ "token", "list", 0, 0, ctl_token_list, V_JSON },
	{ "token", "remove", 1, 1, ctl_token_remove, 0 },
	{ "node", "add", 1, -1, ctl_node_add, 0 },
	{ "node", "list", 0, 0, ctl_node_list, V_JSON },
	{ "node", "drain", 1, 1, ctl_node_drain, 0 },
	{ "node", "activate", 1, 1, ctl_node_activate, 0 },
	{ "node", "set-imap", 2, 2, ctl_node_set_imap, 0 },
	{ "node", "remove", 1, 1, ctl_node_remove, 0 },
	{ "db", "init", 0, 0, db_init_cmd, 0 },
	{ "db", "migrate-from-sqlite", 1, -1, db_migrate_cmd, 0 },
};

/* --json, --force: taken out of argv (n shrinks) where the verb has them. */
static void take_flags(struct ctl *c, const struct verb *v, int *n, char **argv)
{
	int k = 0;

	for (int i = 0; i < *n; i++) {
		if ((v->flags & V_JSON) && !strcmp(argv[i], "--json"))
			c->json = 1;
		else if ((v->flags & V_FORCE) && !strcmp(argv[i], "--force"))
			c->force = 1;
		else
			argv[k++] = argv[i];
	}
	*n = k;
}

/* `hostmailctl help [NOUN [VERB]]` */
static int help(int argc, char **argv)
{
	size_t i;

	if (argc == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].noun, argv[0]) && (argc < 2 || (verbs[i].verb && !strcmp(verbs[i].verb, argv[1]))))
			break;
	if (i == sizeof verbs / sizeof verbs[0] || argc > 2)
		return usage(argc > 2 ? "help: too many arguments" : "help: no such command");
	return ctl_help_print(usage_text, argv[0], argc > 1 ? argv[1] : NULL, stdout) ? 0
	       : usage("help: no such command");
}

int main(int argc, char **argv)
{
	const char *cfgpath = DEFAULT_CONFIG;
	struct ctl c = { 0 };
	char err[1024], why[160];
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
			return usage(ai + 1 < argc || strcmp(argv[ai], "-c") ? "unknown option" : "-c needs a FILE");
	}
	if (ai < argc && !strcmp(argv[ai], "help"))
		return help(argc - ai - 1, argv + ai + 1);
	if (argc - ai < 1)
		return usage(NULL);
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (!strcmp(verbs[i].noun, argv[ai]) &&
		    (!verbs[i].verb || (argc - ai >= 2 && !strcmp(verbs[i].verb, argv[ai + 1]))))
			break;
	if (i == sizeof verbs / sizeof verbs[0]) {
		snprintf(why, sizeof why, "unknown command: %.60s%s%.60s", argv[ai], argc - ai >= 2 ? " " : "",
		         argc - ai >= 2 ? argv[ai + 1] : "");
		return usage(why);
	}
	cur_noun = verbs[i].noun;
	cur_verb = verbs[i].verb;
	words = verbs[i].verb ? 2 : 1;
	n = argc - ai - words;
	take_flags(&c, &verbs[i], &n, argv + ai + words);
	if (n < verbs[i].min || (verbs[i].max >= 0 && n > verbs[i].max)) {
		snprintf(why, sizeof why, "%s%s%s: %s", cur_noun, cur_verb ? " " : "", cur_verb ? cur_verb : "",
		         n < verbs[i].min ? "an argument is missing" : "too many arguments");
		return usage(why);
	}
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
