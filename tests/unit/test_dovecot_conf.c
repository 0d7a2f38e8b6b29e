/* Unit tests for src/imap/dovecot_conf.c: the dovecot.conf and SQL file
 * hostmailctl dovecot-config prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "imap/dovecot_conf.h"

static struct config cfg;
static struct dovecot_sni sni[2];

static struct dovecot_conf_in input(void)
{
	struct dovecot_conf_in in = {
		.cfg = &cfg, .user = "hostmail", .uid = 999, .gid = 995,
		.ctl = "/usr/sbin/hostmailctl", .config_path = "/etc/hostmail/hostmail.ini",
		.sql_path = "/etc/dovecot/hostmail-sql.conf.ext", .instance_dir = "",
	};

	config_defaults(&cfg);
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "/var/lib/hostmail");
	snprintf(cfg.tls_certificate, sizeof cfg.tls_certificate, "/etc/hostmail/tls/default.crt");
	snprintf(cfg.tls_key, sizeof cfg.tls_key, "/etc/hostmail/tls/default.key");
	assert_int_equal(config_parse_listen("0.0.0.0:143, [::]:143", &cfg.imap), 0);
	assert_int_equal(config_parse_listen("0.0.0.0:993", &cfg.imaps), 0);
	return in;
}

/* The text written for in; the caller frees it with buf_free. */
static struct buf conf(const struct dovecot_conf_in *in, int expect)
{
	struct buf b;
	char err[512] = "";

	buf_init(&b, 0);
	assert_int_equal(dovecot_conf_write(in, &b, err, sizeof err), expect);
	if (expect < 0)
		buf_puts(&b, err);
	return b;
}

static void test_listeners_tls_and_accounts(void **state)
{
	struct dovecot_conf_in in = input();
	struct buf b = conf(&in, 0);

	(void)state;
	/* one listener per address; the first keeps Dovecot's name, so its
	 * default port is replaced, the TLS ones say so */
	assert_non_null(strstr(b.data, "  inet_listener imap {\n    address = 0.0.0.0\n    port = 143\n  }\n"));
	assert_non_null(strstr(b.data, "  inet_listener imap_2 {\n    address = ::\n    port = 143\n  }\n"));
	assert_non_null(strstr(b.data, "  inet_listener imaps {\n    address = 0.0.0.0\n    port = 993\n    ssl = yes\n  }\n"));
	assert_non_null(strstr(b.data, "\nssl = required\n"));
	assert_non_null(strstr(b.data, "\ndisable_plaintext_auth = yes\n"));
	assert_non_null(strstr(b.data, "\nssl_cert = </etc/hostmail/tls/default.crt\n"));
	assert_non_null(strstr(b.data, "  args = /etc/dovecot/hostmail-sql.conf.ext\n"));
	assert_non_null(strstr(b.data, "args = uid=999 gid=995 home=/var/lib/hostmail/mail/%Ld/%Ln\n"));
	assert_non_null(strstr(b.data, "\nfirst_valid_uid = 999\n"));
	assert_non_null(strstr(b.data, "executable = script-login /usr/sbin/hostmailctl -c "
	                               "/etc/hostmail/hostmail.ini relay dovecot-login\n"));
	/* the system's directories unless a private instance is asked for */
	assert_null(strstr(b.data, "base_dir"));
	assert_null(strstr(b.data, "local_name"));
	assert_null(strstr(b.data, "default_login_user"));
	buf_free(&b);
}

static void test_private_instance_and_sni(void **state)
{
	struct dovecot_conf_in in = input();
	struct buf b;

	(void)state;
	in.instance_dir = "/tmp/dc";
	in.unprivileged = 1;
	snprintf(sni[0].name, sizeof sni[0].name, "*.mail.example.net");
	snprintf(sni[0].crt, sizeof sni[0].crt, "/s/_wildcard.mail.example.net.crt");
	snprintf(sni[0].key, sizeof sni[0].key, "/s/_wildcard.mail.example.net.key");
	in.sni = sni;
	in.nsni = 1;
	cfg.imap.n = 0;
	b = conf(&in, 0);
	assert_non_null(strstr(b.data, "\nbase_dir = /tmp/dc/run\nstate_dir = /tmp/dc/state\n"));
	assert_non_null(strstr(b.data, "\ndefault_login_user = hostmail\n"));
	assert_non_null(strstr(b.data, "local_name *.mail.example.net {\n"
	                               "  ssl_cert = </s/_wildcard.mail.example.net.crt\n"));
	/* no STARTTLS listener asked for: Dovecot's default 143 is off */
	assert_non_null(strstr(b.data, "  inet_listener imap {\n    port = 0\n  }\n"));
	buf_free(&b);
}

static void test_refused(void **state)
{
	struct dovecot_conf_in in = input();
	struct buf b;

	(void)state;
	cfg.imap.n = cfg.imaps.n = 0;
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "IMAP is not enabled"));
	buf_free(&b);

	in = input();
	cfg.tls_key[0] = '\0';
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "[tls] certificate and key"));
	buf_free(&b);

	/* a value Dovecot would read differently is an error, not a config */
	in = input();
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "/srv/mail data");
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "data_dir \"/srv/mail data\""));
	buf_free(&b);
	in = input();
	snprintf(cfg.data_dir, sizeof cfg.data_dir, "/srv/%%d");
	b = conf(&in, -1);
	buf_free(&b);
	in = input();
	in.config_path = "relative.ini";
	b = conf(&in, -1);
	buf_free(&b);

	/* an instance directory whose sockets would not fit in sun_path:
	 * Dovecot would exit at start, so it is refused here (78 bytes is
	 * the most; "/run/token-login/imap-urlauth" adds 29 and the NUL) */
	in = input();
	in.instance_dir = "/tmp/a-directory-name-that-is-far-too-long-for-dovecot-sockets/node12/dovecot-run";
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "too long for Dovecot's sockets (at most 78 bytes)"));
	buf_free(&b);
	in = input();
	in.instance_dir = "/tmp/dir-name-exactly-seventy-eight-bytes-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	assert_int_equal(strlen(in.instance_dir), 78);
	b = conf(&in, 0);
	buf_free(&b);
}

/* An account with a row in account_moves: nologin, and the reason Dovecot
 * shows as "NO [CONTACTADMIN] ..."; suspension keeps its own reason. */
static void moving_refused(const char *sql)
{
	assert_non_null(strstr(sql, "LEFT JOIN account_moves mv ON mv.account_id = a.id"));
	assert_non_null(strstr(sql, "CASE WHEN a.status = 'active' AND mv.account_id IS NULL THEN NULL ELSE 'Y' END AS nologin"));
	assert_non_null(strstr(sql, "WHEN a.status = 'active' THEN 'your mailbox is being moved, try again in a few minutes'"));
	assert_non_null(strstr(sql, "ELSE 'account not in good standing' END AS reason"));
}

static void test_sql(void **state)
{
	struct buf b;
	char err[256];

	(void)state;
	input();
	buf_init(&b, 0);
	assert_int_equal(dovecot_sql_write(&cfg, 0, &b, err, sizeof err), 0);
	assert_non_null(strstr(b.data, "driver = sqlite\nconnect = /var/lib/hostmail/hostmail.db\n"));
	/* the stored crypt hash as it is, suspension as nologin with a reason */
	assert_non_null(strstr(b.data, "'{CRYPT}' || m.password_hash AS password"));
	assert_non_null(strstr(b.data, "ELSE 'Y' END AS nologin"));
	assert_non_null(strstr(b.data, "WHERE m.address = '%Lu'\n"));
	moving_refused(b.data);
	buf_reset(&b);
	cfg.store_backend = STORE_POSTGRESQL;
	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "host=/run/postgresql dbname=hostmail user=hostmail");
	assert_int_equal(dovecot_sql_write(&cfg, 0, &b, err, sizeof err), 0);
	assert_non_null(strstr(b.data, "driver = pgsql\nconnect = host=/run/postgresql dbname=hostmail user=hostmail\n"));
	moving_refused(b.data);
	/* a node of a fleet: a moving account is refused, never proxied */
	buf_reset(&b);
	cfg.cluster_node = 12;
	assert_int_equal(dovecot_sql_write(&cfg, 1, &b, err, sizeof err), 0);
	moving_refused(b.data);
	assert_non_null(strstr(b.data, "CASE WHEN a.status = 'active' AND mv.account_id IS NULL AND a.server_number <> 12"
	                       " AND n.imap <> '' THEN 'Y' END AS proxy"));
	cfg.cluster_node = 0;
	buf_reset(&b);
	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "dbname=x\npassdb = evil");
	assert_int_equal(dovecot_sql_write(&cfg, 0, &b, err, sizeof err), -1);
	buf_free(&b);
}

/* Node 12 of a fleet: cfg as such, fleet_nodes in the nodes table. */
static struct dovecot_conf_in fleet_input(int fleet_nodes)
{
	struct dovecot_conf_in in = input();

	cfg.cluster_node = 12;
	cfg.store_backend = STORE_POSTGRESQL;
	snprintf(cfg.store_dsn, sizeof cfg.store_dsn, "dbname=hostmail");
	snprintf(cfg.cluster_ca, sizeof cfg.cluster_ca, "/etc/hostmail/cluster/ca.crt");
	snprintf(cfg.cluster_certificate, sizeof cfg.cluster_certificate, "/etc/hostmail/cluster/node12.crt");
	snprintf(cfg.cluster_key, sizeof cfg.cluster_key, "/etc/hostmail/cluster/node12.key");
	assert_int_equal(config_parse_listen("10.0.0.12:1993", &cfg.imap_cluster), 0);
	in.fleet_nodes = fleet_nodes;
	return in;
}

static void test_fleet_verified_proxy(void **state)
{
	struct dovecot_conf_in in = fleet_input(3);
	struct buf b = conf(&in, 0);
	char err[512];

	(void)state;
	/* the cluster listener: implicit TLS with the node's certificate,
	 * given by its address (Dovecot 2.3 has no per-listener certificate) */
	assert_non_null(strstr(b.data, "  inet_listener imap_cluster {\n    address = 10.0.0.12\n"
	                               "    port = 1993\n    ssl = yes\n  }\n"));
	assert_non_null(strstr(b.data, "\nlocal 10.0.0.12 {\n  ssl_cert = </etc/hostmail/cluster/node12.crt\n"
	                               "  ssl_key = </etc/hostmail/cluster/node12.key\n}\n"));
	/* the proxy trusts the fleet CA alone, in the setting 2.3's proxy
	 * reads, with no CRL demanded */
	assert_non_null(strstr(b.data, "\nssl_ca = </etc/hostmail/cluster/ca.crt\n"));
	assert_non_null(strstr(b.data, "\nssl_client_require_valid_cert = yes\n"));
	assert_non_null(strstr(b.data, "\nssl_require_crl = no\n"));
	/* the customers keep their own certificate */
	assert_non_null(strstr(b.data, "\nssl_cert = </etc/hostmail/tls/default.crt\n"));
	buf_free(&b);

	/* the password query: implicit TLS, the certificate checked */
	buf_init(&b, 0);
	assert_int_equal(dovecot_sql_write(&cfg, 3, &b, err, sizeof err), 0);
	assert_non_null(strstr(b.data, "THEN 'yes' END AS ssl, "));
	assert_non_null(strstr(b.data, "a.server_number <> 12 AND n.imap <> '' THEN 'Y' END AS proxy"));
	assert_non_null(strstr(b.data, "LEFT JOIN nodes n ON n.number = a.server_number"));
	assert_null(strstr(b.data, "starttls"));
	assert_null(strstr(b.data, "any-cert"));
	buf_free(&b);
}

static void test_fleet_refused(void **state)
{
	struct dovecot_conf_in in = fleet_input(3);
	struct buf b;
	char err[512] = "";

	(void)state;
	/* no cluster listener on a node of three: nothing to verify against */
	cfg.imap_cluster.n = 0;
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "node 12 is one of 3 nodes of a fleet: set [imap] listen_cluster"));
	buf_free(&b);
	buf_init(&b, 0);
	assert_int_equal(dovecot_sql_write(&cfg, 3, &b, err, sizeof err), -1);
	assert_non_null(strstr(err, "set [imap] listen_cluster"));
	buf_free(&b);

	/* a lone node proxies nowhere: no listener needed, the trust is
	 * written all the same (ready for a second node) */
	in = fleet_input(1);
	cfg.imap_cluster.n = 0;
	b = conf(&in, 0);
	assert_null(strstr(b.data, "imap_cluster"));
	assert_null(strstr(b.data, "\nlocal "));
	assert_non_null(strstr(b.data, "\nssl_ca = </etc/hostmail/cluster/ca.crt\n"));
	buf_free(&b);

	/* the cluster address shared with customers: they would get the
	 * cluster certificate */
	in = fleet_input(3);
	assert_int_equal(config_parse_listen("10.0.0.12:993", &cfg.imaps), 0);
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "listen_cluster's address 10.0.0.12 is also a customer listener's"));
	buf_free(&b);

	/* the cluster files are checked as every path is */
	in = fleet_input(3);
	snprintf(cfg.cluster_ca, sizeof cfg.cluster_ca, "/etc/hostmail/cluster ca.crt");
	b = conf(&in, -1);
	assert_non_null(strstr(b.data, "[cluster] ca \"/etc/hostmail/cluster ca.crt\" cannot be written"));
	buf_free(&b);

	/* not a fleet: none of it */
	in = input();
	cfg.cluster_node = 0;
	b = conf(&in, 0);
	assert_null(strstr(b.data, "ssl_ca"));
	assert_null(strstr(b.data, "imap_cluster"));
	buf_free(&b);
}

static void test_sni_names(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(dovecot_sni_name("mail007.example.net.crt", out, sizeof out), 0);
	assert_string_equal(out, "mail007.example.net");
	assert_int_equal(dovecot_sni_name("_wildcard.mail.example.net.crt", out, sizeof out), 0);
	assert_string_equal(out, "*.mail.example.net");
	assert_int_equal(dovecot_sni_name("mail007.example.net.key", out, sizeof out), -1);
	assert_int_equal(dovecot_sni_name("_wildcard..crt", out, sizeof out), -1);
	assert_int_equal(dovecot_sni_name(".crt", out, sizeof out), -1);
	assert_int_equal(dovecot_sni_name("long.example.net.crt", out, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listeners_tls_and_accounts),
		cmocka_unit_test(test_private_instance_and_sni),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sql),
		cmocka_unit_test(test_fleet_verified_proxy),
		cmocka_unit_test(test_fleet_refused),
		cmocka_unit_test(test_sni_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
