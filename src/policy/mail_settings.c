/*
 * mail_settings: one mailbox's client settings from config + account (see
 * mail_settings.h). Ports are the configured listeners' ports as customers
 * reach them ([acc] public_ports), never constants, so a test setup on
 * high ports shows its own numbers; the MX port 25 is not a client port.
 */
#include "policy/mail_settings.h"
#include "policy/client_settings.h"
#include "policy/hostnames.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append s to out at *o; -1 if it does not fit. */
static int put(char *out, size_t outlen, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n >= outlen)
		return -1;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return 0;
}

int ports_describe(const struct listen_list *l, const char *label, char *out, size_t outlen)
{
	size_t o = 0;
	int i, j, dup;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		/* 127.0.0.1:25 and [::1]:25 are one port to the customer */
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = strcmp(l->a[i].port, l->a[j].port) == 0;
		if (dup)
			continue;
		if ((o && put(out, outlen, &o, ", ") < 0) || put(out, outlen, &o, l->a[i].port) < 0)
			return -1;
	}
	if (o && (put(out, outlen, &o, " (") < 0 || put(out, outlen, &o, label) < 0 ||
	          put(out, outlen, &o, ")") < 0))
		return -1;
	return 0;
}

/* Join the non-empty groups with "; ", or "none" if all are empty. */
static int join_groups(const char *const *g, int n, char *out, size_t outlen)
{
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!g[i][0])
			continue;
		if ((o && put(out, outlen, &o, "; ") < 0) || put(out, outlen, &o, g[i]) < 0)
			return -1;
	}
	return o ? 0 : put(out, outlen, &o, "none");
}

static void size_describe(uint64_t n, char *out, size_t outlen)
{
	if (n % (1024 * 1024) == 0)
		snprintf(out, outlen, "%llu bytes (%llu MiB)", (unsigned long long)n,
		         (unsigned long long)(n / (1024 * 1024)));
	else if (n % 1024 == 0)
		snprintf(out, outlen, "%llu bytes (%llu KiB)", (unsigned long long)n,
		         (unsigned long long)(n / 1024));
	else
		snprintf(out, outlen, "%llu bytes", (unsigned long long)n);
}

/* l as customers see it: announced ports, without the MX port when skip_mx. */
static void announced(const struct config *cfg, const struct listen_list *l, int skip_mx, struct listen_list *out)
{
	int i, p;

	out->n = 0;
	for (i = 0; i < l->n; i++) {
		p = port_map_public(&cfg->acc_public_ports, atoi(l->a[i].port));
		if (skip_mx && p == CS_MX_PORT)
			continue;
		out->a[out->n] = l->a[i];
		snprintf(out->a[out->n++].port, sizeof out->a[0].port, "%d", p);
	}
}

static struct mail_setting *add(struct mail_settings *ms, const char *key)
{
	struct mail_setting *s = &ms->s[ms->n++];

	s->key = key;
	s->value[0] = '\0';
	return s;
}

int mail_settings_get(const struct config *cfg, const struct account *acc,
                      const char *address, struct mail_settings *ms)
{
	char a[200], b[200], c[200], host[256];
	struct listen_list l;
	const char *g[3];
	struct mail_setting *s;

	ms->n = 0;
	if (account_smtp_host(cfg, acc, host, sizeof host) < 0)
		return -1;
	s = add(ms, "username");
	if (snprintf(s->value, sizeof s->value, "%s", address) >= (int)sizeof s->value)
		return -1;
	snprintf(add(ms, "smtp_host")->value, sizeof s->value, "%s", host);
	announced(cfg, &cfg->smtp, 1, &l);
	if (ports_describe(&l, "STARTTLS", a, sizeof a) < 0)
		return -1;
	announced(cfg, &cfg->submission, 0, &l);
	if (ports_describe(&l, "STARTTLS", b, sizeof b) < 0)
		return -1;
	announced(cfg, &cfg->submissions, 0, &l);
	if (ports_describe(&l, "SSL/TLS", c, sizeof c) < 0)
		return -1;
	g[0] = a, g[1] = b, g[2] = c;
	if (join_groups(g, 3, add(ms, "smtp_ports")->value, sizeof s->value) < 0)
		return -1;
	snprintf(add(ms, "pop3_host")->value, sizeof s->value, "%s", host);
	announced(cfg, &cfg->pop3, 0, &l);
	if (ports_describe(&l, "STLS", a, sizeof a) < 0)
		return -1;
	announced(cfg, &cfg->pop3s, 0, &l);
	if (ports_describe(&l, "SSL/TLS", b, sizeof b) < 0)
		return -1;
	g[0] = a, g[1] = b;
	if (join_groups(g, 2, add(ms, "pop3_ports")->value, sizeof s->value) < 0)
		return -1;
	if (cfg->imap.n || cfg->imaps.n) {
		/* Dovecot, beside hostmaild, on the same host name and certificates */
		snprintf(add(ms, "imap_host")->value, sizeof s->value, "%s", host);
		announced(cfg, &cfg->imap, 0, &l);
		if (ports_describe(&l, "STARTTLS", a, sizeof a) < 0)
			return -1;
		announced(cfg, &cfg->imaps, 0, &l);
		if (ports_describe(&l, "SSL/TLS", b, sizeof b) < 0)
			return -1;
		g[0] = a, g[1] = b;
		if (join_groups(g, 2, add(ms, "imap_ports")->value, sizeof s->value) < 0)
			return -1;
	}
	snprintf(add(ms, "auth")->value, sizeof s->value, "required, with TLS");
	s = add(ms, "pop_before_smtp");
	if (cfg->pop_before_smtp_minutes > 0)
		snprintf(s->value, sizeof s->value, "%d minutes", cfg->pop_before_smtp_minutes);
	else
		snprintf(s->value, sizeof s->value, "disabled");
	size_describe(cfg->message_size, add(ms, "max_message_size")->value, sizeof s->value);
	return 0;
}
