/*
 * ctl_dovecot: hostmailctl's verbs for Dovecot serving IMAP beside
 * hostmaild (docs/imap.md). `dovecot-config` gathers what the machine
 * knows (the user's ids, hostmailctl's own path, the SNI certificates) and
 * prints what src/imap/dovecot_conf.c makes of it. `relay dovecot-login`
 * is Dovecot's post-login hook: it records the IMAP login's grant, the
 * same as a POP3 login's, then hands the session back to Dovecot.
 */
#include "cmd/ctl.h"
#include "imap/dovecot_conf.h"
#include "store/relay_auth.h"
#include "store/store_node.h"
#include "util/buf.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SQL_FILE "/etc/dovecot/hostmail-sql.conf.ext"

static int cmp_sni(const void *a, const void *b)
{
	return strcmp(((const struct dovecot_sni *)a)->name, ((const struct dovecot_sni *)b)->name);
}

/* sni_dir's certificates, as hostmaild loads them, sorted (a stable output). */
static int read_sni(const char *dir, struct dovecot_sni *out, int max)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (!dir[0] || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		struct dovecot_sni *s = &out[n];
		size_t len = strlen(de->d_name);

		if (dovecot_sni_name(de->d_name, s->name, sizeof s->name) < 0 ||
		    snprintf(s->crt, sizeof s->crt, "%s/%s", dir, de->d_name) >= (int)sizeof s->crt ||
		    snprintf(s->key, sizeof s->key, "%s/%.*s.key", dir, (int)(len - 4), de->d_name) >= (int)sizeof s->key ||
		    access(s->key, R_OK) != 0)
			continue;
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof *out, cmp_sni);
	return n;
}

static int parse_opts(int argc, char **argv, int *sql, const char **sql_file, const char **instance)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--sql"))
			*sql = 1;
		else if (!strcmp(argv[i], "--sql-file") && i + 1 < argc)
			*sql_file = argv[++i];
		else if (!strcmp(argv[i], "--instance-dir") && i + 1 < argc)
			*instance = argv[++i];
		else
			return -1;
	}
	return 0;
}

/* A node of a fleet: how many nodes the nodes table has (a lone node
 * proxies nowhere), and a warning when this node's --imap there is not its
 * listen_cluster, where the other nodes' proxies would verify it. 0 or -1. */
static int fleet_nodes(struct ctl *c, int *n)
{
	const struct config *cfg = &c->cfg;
	struct node self;
	char want[NODE_ADDR_MAX];
	int got;

	*n = 0;
	if (!cfg->cluster_node)
		return 0;
	if (!store(c))
		return -1;
	if (store_node_count(c->st, n) != 0) {
		fail("cannot count the nodes of the fleet in the store");
		return -1;
	}
	if (!cfg->imap_cluster.n)
		return 0;
	snprintf(want, sizeof want, "%s:%s", cfg->imap_cluster.a[0].host, cfg->imap_cluster.a[0].port);
	got = store_node_get(c->st, cfg->cluster_node, &self) == 0;
	if (!got || strcmp(self.imap, want) != 0)
		fprintf(stderr, "hostmailctl: warning: node %d's IMAP address in the nodes table is \"%s\", "
		        "not [imap] listen_cluster %s: the other nodes proxy to the former "
		        "(hostmailctl node set-imap %d %s)\n", cfg->cluster_node,
		        got ? self.imap : "(no such node)", want, cfg->cluster_node, want);
	return 0;
}

int dovecot_config_cmd(struct ctl *c, int argc, char **argv)
{
	static struct dovecot_sni sni[DOVECOT_SNI_MAX];
	char ctl[PATH_MAX], cfgpath[PATH_MAX], err[1024];
	const char *sql_file = DEFAULT_SQL_FILE, *instance = "";
	struct dovecot_conf_in in = { .cfg = &c->cfg };
	struct passwd *pw;
	struct buf b;
	ssize_t n;
	int sql = 0, rc, nodes;

	if (parse_opts(argc, argv, &sql, &sql_file, &instance) < 0) {
		fail("usage: dovecot-config [--sql] [--sql-file PATH] [--instance-dir DIR]");
		return 2;               /* wrong usage, as the dispatcher's */
	}
	if (fleet_nodes(c, &nodes) < 0)
		return 1;
	buf_init(&b, 0);
	if (sql) {
		rc = dovecot_sql_write(&c->cfg, nodes, &b, err, sizeof err);
		goto out;
	}
	/* hostmaild drops to [server] user when root starts it; without one it
	 * runs as whoever started it, and so does this Dovecot */
	pw = c->cfg.user[0] ? getpwnam(c->cfg.user) : getpwuid(geteuid());
	if (!pw)
		return fail("no such user %s", c->cfg.user[0] ? c->cfg.user : "(this process's)");
	if ((n = readlink("/proc/self/exe", ctl, sizeof ctl - 1)) < 0)
		return fail("cannot find hostmailctl's own path: %s", strerror(errno));
	ctl[n] = '\0';
	if (!realpath(c->cfg.path, cfgpath))
		return fail("%s: %s", c->cfg.path, strerror(errno));
	in.user = pw->pw_name;
	in.uid = (long)pw->pw_uid;
	in.gid = (long)pw->pw_gid;
	in.ctl = ctl;
	in.config_path = cfgpath;
	in.sql_path = sql_file;
	in.instance_dir = instance;
	in.unprivileged = !c->cfg.user[0] && pw->pw_uid != 0;
	in.sni = sni;
	in.nsni = read_sni(c->cfg.tls_sni_dir, sni, DOVECOT_SNI_MAX);
	in.fleet_nodes = nodes;
	rc = dovecot_conf_write(&in, &b, err, sizeof err);
out:
	if (rc == 0)
		fputs(b.data, stdout);
	buf_free(&b);
	return rc ? fail("%s", err) : 0;
}

/* Dovecot's address text as hostmaild records a client's (IPv4-mapped
 * IPv6 as IPv4): "" if it is not an address. */
static void canonical_ip(const char *s, char *out, size_t outlen)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	out[0] = '\0';
	if (inet_pton(AF_INET, s, a) == 1)
		inet_ntop(AF_INET, a, out, (socklen_t)outlen);
	else if (inet_pton(AF_INET6, s, a) == 1 && !memcmp(a, mapped, 12))
		inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen);
	else if (inet_pton(AF_INET6, s, a) == 1)
		inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
}

/* Run by script-login after a successful IMAP login with USER and IP in
 * the environment, stdin/stdout being the client's connection (so nothing
 * is written there). argv: what to run next, which finishes the login. A
 * grant that cannot be stored is logged (stderr is Dovecot's log) and the
 * login goes on, as a POP3 login's does. */
int relay_dovecot_login(struct ctl *c, int argc, char **argv)
{
	const char *user = getenv("USER"), *ipenv = getenv("IP");
	char ip[INET6_ADDRSTRLEN];
	int rc;

	if (argc < 1)
		return fail("relay dovecot-login runs from Dovecot's script-login only");
	canonical_ip(ipenv ? ipenv : "", ip, sizeof ip);
	if (c->cfg.pop_before_smtp_seconds > 0 && user && ip[0] && store(c)) {
		rc = relay_auth_grant(c->st, ip, user, time(NULL) + (time_t)c->cfg.pop_before_smtp_seconds);
		if (rc)
			fprintf(stderr, "hostmail: IMAP-before-SMTP grant for %s from %s failed (store error %d)\n",
			        user, ip, rc);
	}
	store_close(c->st);
	c->st = NULL;
	execv(argv[0], argv);
	return fail("cannot run %s: %s", argv[0], strerror(errno));
}
