/*
 * dovecot_conf: hostmail's configuration as Dovecot's (see dovecot_conf.h).
 * Every value written is checked first against what Dovecot's syntax can
 * carry unquoted (no spaces, quotes, '#', '%' or '$' in a path), so a
 * strange data_dir is an error here rather than a configuration that
 * means something else.
 */
#include "imap/dovecot_conf.h"
#include "imap/dovecot_fleet.h"
#include "imap/dovecot_sql.h"
#include <stdio.h>
#include <string.h>

/* Mozilla "intermediate" as hostmail's TLS (src/tls/tls.c), less the DHE
 * suites: Dovecot 2.3 wants its own DH file for those (ssl_dh). */
/* sizeof(struct sockaddr_un.sun_path) on Linux */
#define DOVECOT_SUN_PATH 108

#define DOVECOT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static int seterr(char *err, size_t errlen, const char *what, const char *v)
{
	snprintf(err, errlen, "%s \"%s\" cannot be written into dovecot.conf "
	         "(letters, digits and / . _ + @ = , : - only)", what, v);
	return -1;
}

static int safe(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("/._+@=,:-", *s) || (extra && strchr(extra, *s))))
			return 0;
	return 1;
}

static int safe_path(const char *s)
{
	return s[0] == '/' && safe(s, NULL);
}

/* Every path and name written, checked before anything is. */
static int check_input(const struct dovecot_conf_in *in, char *err, size_t errlen)
{
	const struct config *c = in->cfg;
	const char *paths[][2] = {
		{ "data_dir", c->data_dir }, { "[tls] certificate", c->tls_certificate },
		{ "[tls] key", c->tls_key }, { "hostmailctl's path", in->ctl },
		{ "the configuration's path", in->config_path }, { "the SQL file's path", in->sql_path },
	};
	const char *cluster[][2] = {   /* a node of a fleet: Dovecot's proxy trust and listen_cluster */
		{ "[cluster] ca", c->cluster_ca }, { "[cluster] certificate", c->cluster_certificate },
		{ "[cluster] key", c->cluster_key },
	};
	size_t i;
	int j;

	if (c->imap.n == 0 && c->imaps.n == 0) {
		snprintf(err, errlen, "IMAP is not enabled: set [imap] listen and/or listen_tls");
		return -1;
	}
	if (!c->tls_certificate[0] || !c->tls_key[0]) {
		snprintf(err, errlen, "IMAP needs the [tls] certificate and key (no login before TLS)");
		return -1;
	}
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (!safe_path(paths[i][1]))
			return seterr(err, errlen, paths[i][0], paths[i][1]);
	if (in->instance_dir[0] && !safe_path(in->instance_dir))
		return seterr(err, errlen, "the instance directory", in->instance_dir);
	/* Dovecot binds its sockets under base_dir (<instance>/run); a path
	 * longer than sun_path makes it exit at start, saying so only in its
	 * own log. The longest of 2.3's is token-login/imap-urlauth. */
	if (in->instance_dir[0] &&
	    strlen(in->instance_dir) + sizeof "/run/token-login/imap-urlauth" > DOVECOT_SUN_PATH) {
		snprintf(err, errlen, "the instance directory \"%s\" is too long for Dovecot's sockets "
		         "(at most %zu bytes)", in->instance_dir,
		         DOVECOT_SUN_PATH - sizeof "/run/token-login/imap-urlauth");
		return -1;
	}
	if (!safe(in->user, NULL))
		return seterr(err, errlen, "the user", in->user);
	for (j = 0; j < in->nsni; j++)
		if (!safe(in->sni[j].name, "*") || !safe_path(in->sni[j].crt) || !safe_path(in->sni[j].key))
			return seterr(err, errlen, "the SNI certificate", in->sni[j].name);
	for (i = 0; c->cluster_node && i < sizeof cluster / sizeof cluster[0]; i++)
		if (!safe_path(cluster[i][1]))
			return seterr(err, errlen, cluster[i][0], cluster[i][1]);
	return dovecot_fleet_check(c, in->fleet_nodes, err, errlen);
}

/* One inet_listener per address: the first keeps Dovecot's own name
 * (imap, imaps), so its default on 143/993 is replaced, not added to. */
static void listeners(struct buf *b, const struct listen_list *l, const char *name, int tls)
{
	int i;

	if (l->n == 0)
		buf_printf(b, "  inet_listener %s {\n    port = 0\n  }\n", name);
	for (i = 0; i < l->n; i++) {
		if (i == 0)
			buf_printf(b, "  inet_listener %s {\n", name);
		else
			buf_printf(b, "  inet_listener %s_%d {\n", name, i + 1);
		buf_printf(b, "    address = %s\n    port = %s\n%s  }\n", l->a[i].host, l->a[i].port,
		           tls ? "    ssl = yes\n" : "");
	}
}

static void instance(const struct dovecot_conf_in *in, struct buf *b)
{
	if (in->instance_dir[0])
		buf_printf(b, "# a private instance: nothing under /run/dovecot or /var/lib/dovecot\n"
		           "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s/dovecot.log\n"
		           "info_log_path = %s/dovecot.log\n\n",
		           in->instance_dir, in->instance_dir, in->instance_dir, in->instance_dir);
	if (in->unprivileged)
		buf_printf(b, "# started by %s, not root: every process runs as it\n"
		           "default_login_user = %s\ndefault_internal_user = %s\n"
		           "service imap-login {\n  chroot =\n}\n\n", in->user, in->user, in->user);
}

static void tls(const struct dovecot_conf_in *in, struct buf *b)
{
	const struct config *c = in->cfg;
	int i;

	buf_printf(b, "# [tls] as hostmaild's: TLS 1.2+, forward-secret AEAD suites, and no\n"
	           "# password before TLS (a client on the listener's own address counts as\n"
	           "# secure to Dovecot: the machine itself)\n"
	           "ssl = required\nssl_cert = <%s\nssl_key = <%s\nssl_min_protocol = TLSv1.2\n"
	           "ssl_cipher_list = " DOVECOT_CIPHERS "\nssl_prefer_server_ciphers = yes\n"
	           "disable_plaintext_auth = yes\nauth_mechanisms = plain login\n\n",
	           c->tls_certificate, c->tls_key);
	if (in->nsni)
		buf_puts(b, "# [tls] sni_dir: the certificate whose name the client asked for\n");
	for (i = 0; i < in->nsni; i++)
		buf_printf(b, "local_name %s {\n  ssl_cert = <%s\n  ssl_key = <%s\n}\n",
		           in->sni[i].name, in->sni[i].crt, in->sni[i].key);
	if (in->nsni)
		buf_puts(b, "\n");
}

/* Mailbox quotas (docs/quotas.md): Dovecot counts in the same Maildir++
 * maildirsize file, with each mailbox's limit from the store (the password
 * query's userdb_quota_rule; 0 = no limit). */
static void quota(struct buf *b)
{
	buf_puts(b, "# mailbox quotas: the same maildirsize file as hostmail's deliveries and\n"
	         "# POP3, the limit from the store (the password query's userdb_quota_rule)\n"
	         "mail_plugins = $mail_plugins quota\n"
	         "protocol imap {\n  mail_plugins = $mail_plugins imap_quota\n}\n"
	         "plugin {\n  quota = maildir:User quota\n  quota_rule = *:bytes=0\n}\n\n");
}

static void accounts(const struct dovecot_conf_in *in, struct buf *b)
{
	buf_printf(b, "# hostmail's own accounts: the same address and password as SMTP and\n"
	           "# POP3; a suspended account is refused (nologin). No cache, so a new\n"
	           "# password or a suspension counts at the next login.\n"
	           "auth_username_format = %%Lu\nauth_cache_size = 0\n"
	           "passdb {\n  driver = sql\n  args = %s\n}\n"
	           "userdb {\n  driver = static\n  args = uid=%ld gid=%ld home=%s/mail/%%Ld/%%Ln\n}\n"
	           "service auth-worker {\n  # reads the store as hostmaild does\n  user = %s\n}\n\n",
	           in->sql_path, in->uid, in->gid, in->cfg->data_dir, in->user);
	buf_printf(b, "# the Maildirs hostmail delivers to and serves over POP3\n"
	           "mail_location = maildir:~\nmail_uid = %ld\nmail_gid = %ld\n"
	           "first_valid_uid = %ld\nlast_valid_uid = %ld\nfirst_valid_gid = %ld\nlast_valid_gid = %ld\n\n",
	           in->uid, in->gid, in->uid, in->uid, in->gid, in->gid);
	quota(b);
}

static void services(const struct dovecot_conf_in *in, struct buf *b)
{
	const struct config *c = in->cfg;

	buf_puts(b, "protocols = imap\nlogin_greeting = IMAP ready.\n"
	         "service imap-login {\n");
	listeners(b, &c->imap, "imap", 0);
	listeners(b, &c->imaps, "imaps", 1);
	if (c->imap_cluster.n)
		listeners(b, &c->imap_cluster, "imap_cluster", 1);
	buf_puts(b, "}\n\n");
	buf_printf(b, "# IMAP-before-SMTP: every IMAP login authorizes its address to relay as\n"
	           "# a POP3 login does, in the same grants (hostmailctl relay list)\n"
	           "service imap {\n  executable = imap imap-postlogin\n}\n"
	           "service imap-postlogin {\n"
	           "  executable = script-login %s -c %s relay dovecot-login\n"
	           "  user = %s\n"
	           "  # hostmailctl, not Dovecot's code: no address-space cap (a sanitizer\n"
	           "  # build reserves terabytes it never uses; the hook itself stays small)\n"
	           "  vsz_limit = 0\n"
	           "  unix_listener imap-postlogin {\n  }\n}\n",
	           in->ctl, in->config_path, in->user);
}

int dovecot_conf_write(const struct dovecot_conf_in *in, struct buf *b, char *err, size_t errlen)
{
	size_t start = b->len;

	if (check_input(in, err, errlen) < 0)
		return -1;
	buf_printf(b, "# Dovecot (2.3) serving IMAP for hostmail (docs/imap.md), made by\n"
	           "# `hostmailctl dovecot-config` from\n#   %s\n"
	           "# Make it again after a change of [imap], [tls], [store], [cluster], data_dir\n"
	           "# or the SNI certificates.\n\n", in->config_path);
	instance(in, b);
	tls(in, b);
	if (in->cfg->cluster_node)
		dovecot_fleet_conf(in->cfg, b);
	accounts(in, b);
	services(in, b);
	/* buf refuses appends only when out of memory: then the text is cut */
	if (b->len == start || !b->data || b->data[b->len - 1] != '\n') {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int dovecot_sql_write(const struct config *cfg, int fleet_nodes, struct buf *b, char *err, size_t errlen)
{
	const char *p;

	if (dovecot_fleet_check(cfg, fleet_nodes, err, errlen) < 0)
		return -1;
	if (cfg->store_backend == STORE_POSTGRESQL) {
		/* the DSN is the rest of a line: no line ends, no comment sign */
		for (p = cfg->store_dsn; *p; p++)
			if ((unsigned char)*p < 0x20 || strchr("#%\\\"", *p)) {
				snprintf(err, errlen, "the [store] dsn cannot be written into Dovecot's SQL file "
				         "(a control character, #, %%, \\ or \")");
				return -1;
			}
		buf_printf(b, "driver = pgsql\nconnect = %s\n", cfg->store_dsn);
	} else {
		if (!safe_path(cfg->data_dir))
			return seterr(err, errlen, "data_dir", cfg->data_dir);
		buf_printf(b, "driver = sqlite\nconnect = %s/hostmail.db\n", cfg->data_dir);
	}
	if (cfg->cluster_node > 0) {
		dovecot_fleet_sql(cfg, b);
	} else {
		buf_puts(b, "# %Lu: the login name in lower case, escaped by Dovecot. The same\n"
		         "# tables and columns in SQLite and PostgreSQL (src/store/).\n"
		         SQL_REFUSE_COMMENT
		         "password_query = \\\n"
		         "  SELECT m.address AS user, '{CRYPT}' || m.password_hash AS password, \\\n"
		         SQL_REFUSE
		         "    '*:bytes=' || coalesce(m.quota_bytes, a.mailbox_quota_bytes) || \\\n"
		         "    ':messages=' || coalesce(m.quota_messages, a.mailbox_quota_messages) AS userdb_quota_rule \\\n"
		         SQL_FROM
		         "  WHERE m.address = '%Lu'\n");
	}
	if (!b->data || b->data[b->len - 1] != '\n') {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int dovecot_sni_name(const char *file, char *out, size_t outlen)
{
	size_t n = strlen(file), stem;
	int wild = strncmp(file, "_wildcard.", 10) == 0, w;

	if (n <= 4 || strcmp(file + n - 4, ".crt") != 0 || file[0] == '.')
		return -1;
	stem = n - 4;
	if (wild && stem <= 10)
		return -1;
	if (wild)
		w = snprintf(out, outlen, "*.%.*s", (int)(stem - 10), file + 10);
	else
		w = snprintf(out, outlen, "%.*s", (int)stem, file);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}
