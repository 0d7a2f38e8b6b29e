/* config: INI file -> struct config with documented defaults (see config.h). */
#include "util/config.h"
#include "milter/milter_result.h"
#include "milter/milter_spec.h"
#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->refs_ = -1;         /* the caller's own memory: not counted (config_new counts) */
	snprintf(c->hostname, sizeof c->hostname, "localhost");
	snprintf(c->data_dir, sizeof c->data_dir, "/var/lib/hostmail");
	snprintf(c->tls_certificate, sizeof c->tls_certificate, "/etc/hostmail/tls/default.crt");
	snprintf(c->tls_key, sizeof c->tls_key, "/etc/hostmail/tls/default.key");
	snprintf(c->tls_sni_dir, sizeof c->tls_sni_dir, "/etc/hostmail/tls/sni");
	c->pop_before_smtp_minutes = 90;
	c->pop_before_smtp_seconds = 90 * 60;
	c->pop3_allow_plaintext_auth = 0;
	c->pop3_timeout = 600;
	c->message_size = 41943040;
	c->max_recipients = 100;
	c->recipients_per_hour = 500;
	c->recipients_per_day = 2000;
	c->max_connections = 10000;
	c->max_connections_per_ip = 50;
	c->login_queue = 256;
	c->login_queue_per_ip = 4;
	c->auth_cache_ttl = 3600;
	c->auth_negative_ttl = 300;
	c->auth_cache_size = 100000;
	c->min_free_space = 64ULL << 20;
	c->tls_handshake_timeout = 30;
	c->smtp_timeout = 300;
	c->smtp_data_timeout = 180;
	c->smtp_max_errors = 10;
	static const int sched[] = { 300, 600, 1200, 2400, 3600, 7200, 14400 };
	memcpy(c->retry_schedule, sched, sizeof sched);
	c->retry_schedule_n = 7;
	c->queue_max_age = 5 * 86400;
	c->queue_delay_warning = 4 * 3600;
	c->mx_port = 25;
	c->delivery_max_connections = 100;
	c->delivery_max_per_domain = 10;
	c->delivery_connect_timeout = 30;
	c->delivery_greeting_timeout = 300;
	c->delivery_command_timeout = 300;
	c->delivery_data_init_timeout = 120;
	c->delivery_data_block_timeout = 180;
	c->delivery_data_done_timeout = 600;
	snprintf(c->hostname_legacy_pattern, sizeof c->hostname_legacy_pattern, "mail{server}.example.net");
	snprintf(c->hostname_pattern, sizeof c->hostname_pattern, "{user}.mail.example.net");
	c->dkim_sign = 1;
	snprintf(c->hostname_legacy_cutover, sizeof c->hostname_legacy_cutover, "2011-06-01");
	c->worker_threads = 8;
	c->quota_warning = 90;
	c->vacation_period = 7 * 86400;
	c->acc_max_connections = 512;
	c->acc_max_connections_per_ip = 16;
	c->acc_request_timeout = 10;
	c->acc_keepalive_timeout = 30;
	c->acc_sessions_per_account = 20;
	snprintf(c->acc_provider_name, sizeof c->acc_provider_name, "hostmail");
	c->store_backend = STORE_SQLITE;
	snprintf(c->syslog_socket, sizeof c->syslog_socket, "/dev/log");
	c->store_statement_timeout = 5;
	c->store_pool_size = 12;
	c->srs_max_age_days = 21;
	c->milter_timeout = 30;
	c->milter_spam_action = SPAM_HEADERS;
	snprintf(c->milter_spam_subject, sizeof c->milter_spam_subject, "[SPAM]");
}

long config_parse_duration(const char *s)
{
	char *end;
	long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || v < 0 || v > 100L * 365 * 86400)
		return -1;
	switch (*end) {
	case 's': end++; break;
	case 'm': v *= 60; end++; break;
	case 'h': v *= 3600; end++; break;
	case 'd': v *= 86400; end++; break;
	case 'w': v *= 7 * 86400; end++; break;
	default: break;
	}
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -1 : v;
}

int config_parse_listen(const char *value, struct listen_list *out)
{
	char tmp[1024], *save = NULL, *tok;

	out->n = 0;
	if (snprintf(tmp, sizeof tmp, "%s", value) >= (int)sizeof tmp)
		return -1;
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *s = tok, *e, *colon, *host;
		size_t hl;

		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0')
			continue;
		if (out->n >= CFG_MAX_ADDRS)
			return -1;
		if (*s == '[') {
			char *rb = strchr(s, ']');
			if (!rb || rb[1] != ':')
				return -1;
			host = s + 1;
			hl = (size_t)(rb - host);
			colon = rb + 1;
		} else {
			colon = strrchr(s, ':');
			if (!colon || strchr(s, ':') != colon)
				return -1;
			host = s;
			hl = (size_t)(colon - s);
		}
		if (hl == 0 || hl >= sizeof out->a[0].host || strlen(colon + 1) == 0 ||
		    strlen(colon + 1) >= sizeof out->a[0].port || strspn(colon + 1, "0123456789") != strlen(colon + 1))
			return -1;
		memcpy(out->a[out->n].host, host, hl);
		out->a[out->n].host[hl] = '\0';
		snprintf(out->a[out->n].port, sizeof out->a[0].port, "%s", colon + 1);
		out->n++;
	}
	return 0;
}

/* [imap] listen_cluster: the one address the nodes table's --imap names,
 * an IPv4 address (Dovecot's `local` block and the proxy's host field). */
static int parse_imap_cluster(const char *v, struct listen_list *out)
{
	struct in_addr a;

	if (config_parse_listen(v, out) < 0 || out->n > 1)
		return -1;
	return out->n == 0 || inet_pton(AF_INET, out->a[0].host, &a) == 1 ? 0 : -1;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_int(const char *v, long min, long max, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static int parse_str(const char *v, char *dst, size_t n)
{
	return snprintf(dst, n, "%s", v) >= (int)n ? -1 : 0;
}

/* [relay] pop_before_smtp_minutes: a number of minutes (0-100000), or a
 * duration with a unit ("30s", "2h"), so a test can use a few seconds. */
static int parse_pop_before_smtp(const char *v, struct config *c)
{
	size_t n = strlen(v);
	int minutes;
	long d;

	if (n > 0 && isdigit((unsigned char)v[n - 1])) {
		/* a plain number: minutes */
		if (parse_int(v, 0, 100000, &minutes) < 0)
			return -1;
		d = (long)minutes * 60;
	} else if ((d = config_parse_duration(v)) < 0 || d > 100000L * 60) {
		return -1;
	}
	c->pop_before_smtp_seconds = (int)d;
	c->pop_before_smtp_minutes = (int)((d + 59) / 60);
	return 0;
}

/* A duration key: > 0, or also 0 when zero_ok. */
/* A link or image URL put into pages and the CSP: https: (or mailto: when
 * mailto_ok), no white space, quotes or CSP separators. */
static int parse_url(const char *v, int mailto_ok, char *dst, size_t n)
{
	if (*v && strncmp(v, "https://", 8) != 0 && !(mailto_ok && strncmp(v, "mailto:", 7) == 0))
		return -1;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("\"'<>;,\\", *p) || (unsigned char)*p >= 0x7f)
			return -1;
	return parse_str(v, dst, n);
}

static int parse_dur(const char *v, int zero_ok, int *out)
{
	long d = config_parse_duration(v);

	if (d < 0 || (d == 0 && !zero_ok) || d > 0x7fffffffL)
		return -1;
	*out = (int)d;
	return 0;
}

/* [limits] quota_full: permanent (552 5.2.2) or temporary (452 4.2.2). */
static int parse_quota_full(const char *v, int *temporary)
{
	if (!strcasecmp(v, "permanent"))
		*temporary = 0;
	else if (!strcasecmp(v, "temporary"))
		*temporary = 1;
	else
		return -1;
	return 0;
}

/* "90%" or "90": 0 (off) to 100. */
static int parse_percent(const char *v, int *out)
{
	char buf[16];
	size_t n = strlen(v);

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, v, n + 1);
	if (buf[n - 1] == '%')
		buf[n - 1] = '\0';
	return parse_int(buf, 0, 100, out);
}

/* A [milter] filter list: checked whole, kept as written. */
static int parse_milters(const char *v, char *dst, size_t n)
{
	struct milter_spec sp[MILTER_MAX_FILTERS];

	return milter_spec_parse(v, sp, MILTER_MAX_FILTERS) < 0 ? -1 : parse_str(v, dst, n);
}

static int parse_milter_default(const char *v, int *accept)
{
	if (strcmp(v, "accept") && strcmp(v, "tempfail"))
		return -1;
	*accept = !strcmp(v, "accept");
	return 0;
}

static int parse_spam_action(const char *v, int *out)
{
	enum spam_action a;

	if (spam_action_parse(v, 0, &a) < 0)
		return -1;
	*out = (int)a;
	return 0;
}

static int parse_backend(const char *v, enum store_backend_kind *out)
{
	if (!strcmp(v, "sqlite"))
		*out = STORE_SQLITE;
	else if (!strcmp(v, "postgresql"))
		*out = STORE_POSTGRESQL;
	else
		return -1;
	return 0;
}

static int parse_schedule(const char *v, struct config *c)
{
	char tmp[512], *save = NULL, *tok;
	int n = 0;

	if (parse_str(v, tmp, sizeof tmp) < 0)
		return -1;
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long d = config_parse_duration(tok);
		if (d <= 0 || n >= 16)
			return -1;
		c->retry_schedule[n++] = (int)d;
	}
	if (n == 0)
		return -1;
	c->retry_schedule_n = n;
	return 0;
}

struct parse_ctx {
	struct config *c;
	char *err;
	size_t errlen;
	int failed;
};

#define KEY(s, k) (!strcmp(section, s) && !strcmp(name, k))

static int on_key(void *user, const char *section, const char *name, const char *v)
{
	struct parse_ctx *p = user;
	struct config *c = p->c;
	int r = -1;
	long d;

	if (KEY("server", "hostname")) r = parse_str(v, c->hostname, sizeof c->hostname);
	else if (KEY("server", "data_dir")) r = parse_str(v, c->data_dir, sizeof c->data_dir);
	else if (KEY("server", "user")) r = parse_str(v, c->user, sizeof c->user);
	else if (KEY("server", "log")) r = !strcmp(v, "syslog") ? (c->log_syslog = 1, 0) : !strcmp(v, "stderr") ? (c->log_syslog = 0, 0) : -1;
	else if (KEY("server", "syslog_socket")) r = *v == '/' ? parse_str(v, c->syslog_socket, sizeof c->syslog_socket) : -1;
	else if (KEY("server", "worker_threads")) r = parse_int(v, 1, 64, &c->worker_threads);
	else if (KEY("listen", "smtp")) r = config_parse_listen(v, &c->smtp);
	else if (KEY("listen", "submission")) r = config_parse_listen(v, &c->submission);
	else if (KEY("listen", "submissions")) r = config_parse_listen(v, &c->submissions);
	else if (KEY("listen", "pop3")) r = config_parse_listen(v, &c->pop3);
	else if (KEY("listen", "pop3s")) r = config_parse_listen(v, &c->pop3s);
	else if (KEY("listen", "acc")) r = config_parse_listen(v, &c->acc);
	else if (KEY("listen", "admin")) r = config_parse_listen(v, &c->admin);
	else if (KEY("listen", "metrics")) r = config_parse_listen(v, &c->metrics);
	else if (KEY("listen", "pop3_cluster")) r = config_parse_listen(v, &c->pop3_cluster);
	else if (KEY("tls", "certificate")) r = parse_str(v, c->tls_certificate, sizeof c->tls_certificate);
	else if (KEY("tls", "key")) r = parse_str(v, c->tls_key, sizeof c->tls_key);
	else if (KEY("tls", "sni_dir")) r = parse_str(v, c->tls_sni_dir, sizeof c->tls_sni_dir);
	else if (KEY("relay", "pop_before_smtp_minutes")) r = parse_pop_before_smtp(v, c);
	else if (KEY("pop3", "allow_plaintext_auth")) r = parse_bool(v, &c->pop3_allow_plaintext_auth);
	else if (KEY("imap", "listen")) r = config_parse_listen(v, &c->imap);
	else if (KEY("imap", "listen_tls")) r = config_parse_listen(v, &c->imaps);
	else if (KEY("imap", "listen_cluster")) r = parse_imap_cluster(v, &c->imap_cluster);
	else if (KEY("pop3", "timeout")) { d = config_parse_duration(v); r = d > 0 ? (c->pop3_timeout = (int)d, 0) : -1; }
	else if (KEY("limits", "message_size")) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		r = (errno || end == v || *end || n < 1024) ? -1 : 0;
		c->message_size = n;
	}
	else if (KEY("limits", "max_connections")) r = parse_int(v, 1, 1000000, &c->max_connections);
	else if (KEY("limits", "max_connections_per_ip")) r = parse_int(v, 1, 1000000, &c->max_connections_per_ip);
	else if (KEY("limits", "login_queue")) r = parse_int(v, 1, 100000, &c->login_queue);
	else if (KEY("limits", "login_queue_per_ip")) r = parse_int(v, 1, 100000, &c->login_queue_per_ip);
	else if (KEY("auth", "cache_ttl")) r = parse_dur(v, 1, &c->auth_cache_ttl);
	else if (KEY("auth", "negative_ttl")) r = parse_dur(v, 1, &c->auth_negative_ttl);
	else if (KEY("auth", "cache_size")) r = parse_int(v, 1, 100000000, &c->auth_cache_size);
	else if (KEY("limits", "min_free_space")) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		r = (errno || end == v || *end) ? -1 : 0;
		c->min_free_space = n;
	}
	else if (KEY("smtp", "tls_handshake_timeout")) { d = config_parse_duration(v); r = d > 0 ? (c->tls_handshake_timeout = (int)d, 0) : -1; }
	else if (KEY("limits", "quota_full")) r = parse_quota_full(v, &c->quota_full_temporary);
	else if (KEY("limits", "quota_warning")) r = parse_percent(v, &c->quota_warning);
	else if (KEY("delivery", "vacation_period")) r = parse_dur(v, 0, &c->vacation_period);
	else if (KEY("limits", "max_recipients")) r = parse_int(v, 1, 100000, &c->max_recipients);
	else if (KEY("limits", "recipients_per_hour")) r = parse_int(v, 0, 100000000, &c->recipients_per_hour);
	else if (KEY("limits", "recipients_per_day")) r = parse_int(v, 0, 100000000, &c->recipients_per_day);
	else if (KEY("smtp", "timeout")) { d = config_parse_duration(v); r = d > 0 ? (c->smtp_timeout = (int)d, 0) : -1; }
	else if (KEY("smtp", "data_timeout")) { d = config_parse_duration(v); r = d > 0 ? (c->smtp_data_timeout = (int)d, 0) : -1; }
	else if (KEY("smtp", "max_errors")) r = parse_int(v, 1, 1000, &c->smtp_max_errors);
	else if (KEY("queue", "retry_schedule")) r = parse_schedule(v, c);
	else if (KEY("queue", "max_age")) { d = config_parse_duration(v); r = d > 0 ? (c->queue_max_age = (int)d, 0) : -1; }
	else if (KEY("delivery", "dns_servers")) r = parse_str(v, c->dns_servers, sizeof c->dns_servers);
	else if (KEY("delivery", "mx_port")) r = parse_int(v, 1, 65535, &c->mx_port);
	else if (KEY("queue", "delay_warning")) r = parse_dur(v, 1, &c->queue_delay_warning);
	else if (KEY("delivery", "max_connections")) r = parse_int(v, 1, 10000, &c->delivery_max_connections);
	else if (KEY("delivery", "max_per_domain")) r = parse_int(v, 1, 10000, &c->delivery_max_per_domain);
	else if (KEY("delivery", "connect_timeout")) r = parse_dur(v, 0, &c->delivery_connect_timeout);
	else if (KEY("delivery", "greeting_timeout")) r = parse_dur(v, 0, &c->delivery_greeting_timeout);
	else if (KEY("delivery", "command_timeout")) r = parse_dur(v, 0, &c->delivery_command_timeout);
	else if (KEY("delivery", "data_init_timeout")) r = parse_dur(v, 0, &c->delivery_data_init_timeout);
	else if (KEY("delivery", "data_block_timeout")) r = parse_dur(v, 0, &c->delivery_data_block_timeout);
	else if (KEY("delivery", "data_done_timeout")) r = parse_dur(v, 0, &c->delivery_data_done_timeout);
	else if (KEY("acc", "max_connections")) r = parse_int(v, 1, 1000000, &c->acc_max_connections);
	else if (KEY("acc", "max_connections_per_ip")) r = parse_int(v, 1, 1000000, &c->acc_max_connections_per_ip);
	else if (KEY("acc", "request_timeout")) r = parse_dur(v, 0, &c->acc_request_timeout);
	else if (KEY("acc", "keepalive_timeout")) r = parse_dur(v, 0, &c->acc_keepalive_timeout);
	else if (KEY("acc", "public_ports")) r = port_map_parse(v, &c->acc_public_ports);
	else if (KEY("acc", "provider_name")) r = *v ? parse_str(v, c->acc_provider_name, sizeof c->acc_provider_name) : -1;
	else if (KEY("acc", "provider_logo")) r = parse_url(v, 0, c->acc_provider_logo, sizeof c->acc_provider_logo);
	else if (KEY("acc", "support_url")) r = parse_url(v, 1, c->acc_support_url, sizeof c->acc_support_url);
	else if (KEY("acc", "sessions_per_account")) r = parse_int(v, 1, 10000, &c->acc_sessions_per_account);
	else if (KEY("hostnames", "legacy_pattern")) r = parse_str(v, c->hostname_legacy_pattern, sizeof c->hostname_legacy_pattern);
	else if (KEY("hostnames", "pattern")) r = parse_str(v, c->hostname_pattern, sizeof c->hostname_pattern);
	else if (KEY("store", "backend")) r = parse_backend(v, &c->store_backend);
	else if (KEY("store", "dsn")) r = parse_str(v, c->store_dsn, sizeof c->store_dsn);
	else if (KEY("store", "statement_timeout")) {
		d = config_parse_duration(v);
		r = d > 0 && d <= 3600 ? (c->store_statement_timeout = (int)d, 0) : -1;
	}
	else if (KEY("store", "pool_size")) r = parse_int(v, 1, 1000, &c->store_pool_size);
	else if (KEY("hostnames", "legacy_cutover")) r = parse_str(v, c->hostname_legacy_cutover, sizeof c->hostname_legacy_cutover);
	else if (KEY("dkim", "sign")) r = parse_bool(v, &c->dkim_sign);
	else if (KEY("cluster", "node")) r = parse_int(v, 1, 99999, &c->cluster_node);
	else if (KEY("cluster", "ca")) r = *v ? parse_str(v, c->cluster_ca, sizeof c->cluster_ca) : -1;
	else if (KEY("cluster", "certificate")) r = *v ? parse_str(v, c->cluster_certificate, sizeof c->cluster_certificate) : -1;
	else if (KEY("cluster", "key")) r = *v ? parse_str(v, c->cluster_key, sizeof c->cluster_key) : -1;
	else if (KEY("listen", "lmtp")) r = config_parse_listen(v, &c->lmtp);
	else if (KEY("records", "mx")) r = parse_str(v, c->records_mx, sizeof c->records_mx);
	else if (KEY("records", "spf")) r = parse_str(v, c->records_spf, sizeof c->records_spf);
	else if (KEY("records", "dmarc")) r = parse_str(v, c->records_dmarc, sizeof c->records_dmarc);
	else if (KEY("srs", "secret_file")) r = parse_str(v, c->srs_secret_file, sizeof c->srs_secret_file);
	else if (KEY("srs", "domain")) r = parse_str(v, c->srs_domain, sizeof c->srs_domain);
	else if (KEY("srs", "max_age")) {
		d = config_parse_duration(v);   /* whole days, as SRS timestamps count */
		r = d >= 86400 && d <= 1000L * 86400 ? (c->srs_max_age_days = (int)(d / 86400), 0) : -1;
	}
	else if (KEY("milter", "inbound")) r = parse_milters(v, c->milter_inbound, sizeof c->milter_inbound);
	else if (KEY("milter", "outbound")) r = parse_milters(v, c->milter_outbound, sizeof c->milter_outbound);
	else if (KEY("milter", "default_action")) r = parse_milter_default(v, &c->milter_default_accept);
	else if (KEY("milter", "timeout")) r = parse_dur(v, 0, &c->milter_timeout);
	else if (KEY("milter", "spam_action")) r = parse_spam_action(v, &c->milter_spam_action);
	else if (KEY("milter", "spam_subject")) r = parse_str(v, c->milter_spam_subject, sizeof c->milter_spam_subject);
	else {
		if (!p->failed)
			snprintf(p->err, p->errlen, "%s: unknown key [%s] %s", c->path, section, name);
		p->failed = 1;
		return 0;
	}
	if (r < 0 && !p->failed) {
		snprintf(p->err, p->errlen, "%s: bad value for [%s] %s: \"%s\"", c->path, section, name, v);
		p->failed = 1;
	}
	return 1;
}

struct config *config_new(void)
{
	struct config *c = malloc(sizeof *c);

	if (c) {
		config_defaults(c);
		c->refs_ = 1;
	}
	return c;
}

struct config *config_new_load(const char *path, char *err, size_t errlen)
{
	struct config *c = malloc(sizeof *c);

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (config_load(path, c, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->refs_ = 1;
	return c;
}

const struct config *config_ref(const struct config *c)
{
	if (c && c->refs_ > 0)
		__atomic_add_fetch(&((struct config *)c)->refs_, 1, __ATOMIC_RELAXED);
	return c;
}

void config_unref(const struct config *c)
{
	if (c && c->refs_ > 0 && __atomic_sub_fetch(&((struct config *)c)->refs_, 1, __ATOMIC_ACQ_REL) == 0)
		free((struct config *)c);
}

/* [cluster] and [listen] lmtp go together: a node needs its certificate,
 * its key and the CA; they mean nothing without a node number. */
/* [listen] pop3_cluster serves other nodes only (pop3/pop3_proxy.h). */
static int config_check_pop3_cluster(const struct config *c, char *err, size_t errlen)
{
	if (c->pop3_cluster.n && !c->cluster_node) {
		snprintf(err, errlen, "%s: [listen] pop3_cluster needs [cluster] node: it serves the POP3 proxies"
		         " of the other nodes of a fleet", c->path);
		return -1;
	}
	if (c->imap_cluster.n && !c->cluster_node) {
		snprintf(err, errlen, "%s: [imap] listen_cluster needs [cluster] node: it serves the IMAP proxies"
		         " of the other nodes of a fleet", c->path);
		return -1;
	}
	return 0;
}

static int config_check_cluster(const struct config *c, char *err, size_t errlen)
{
	const char *missing = !c->cluster_ca[0] ? "ca" : !c->cluster_certificate[0] ? "certificate"
	                      : !c->cluster_key[0] ? "key" : NULL;

	if (c->cluster_node && missing) {
		snprintf(err, errlen, "%s: [cluster] node = %d needs [cluster] %s (nodes authenticate each other"
		         " with certificates signed by one CA; docs/cluster.md)", c->path, c->cluster_node, missing);
		return -1;
	}
	if (!c->cluster_node && (c->cluster_ca[0] || c->cluster_certificate[0] || c->cluster_key[0])) {
		snprintf(err, errlen, "%s: [cluster] ca, certificate and key need [cluster] node (this node's"
		         " server number)", c->path);
		return -1;
	}
	if (!c->cluster_node && c->lmtp.n) {
		snprintf(err, errlen, "%s: [listen] lmtp needs [cluster] node: internal delivery is between the"
		         " nodes of a fleet", c->path);
		return -1;
	}
	if (c->cluster_node && c->store_backend != STORE_POSTGRESQL) {
		snprintf(err, errlen, "%s: [cluster] node needs [store] backend = postgresql: the nodes of a fleet"
		         " share one store", c->path);
		return -1;
	}
	return 0;
}

int config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	struct parse_ctx p = { c, err, errlen, 0 };
	int r;

	config_defaults(c);
	snprintf(c->path, sizeof c->path, "%s", path);
	r = ini_parse(path, on_key, &p);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (r > 0 && !p.failed) {
		snprintf(err, errlen, "%s: syntax error on line %d", path, r);
		return -1;
	}
	if (!p.failed && c->store_backend == STORE_POSTGRESQL && !c->store_dsn[0]) {
		snprintf(err, errlen, "%s: [store] backend = postgresql needs a dsn (a libpq connection string)", path);
		return -1;
	}
	if (!p.failed && config_check_pop3_cluster(c, err, errlen) < 0)
		return -1;
	if (!p.failed && config_check_cluster(c, err, errlen) < 0)
		return -1;
	return p.failed ? -1 : 0;
}
