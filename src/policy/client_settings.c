/*
 * client_settings: a mailbox's servers, recommended first (see
 * client_settings.h). Implicit TLS comes before STARTTLS (RFC 8314 3:
 * no clear-text first step a network can strip), so 995 and 465 are
 * recommended when they are configured. With IMAP (Dovecot, [imap]) it
 * comes before POP3: a customer reading on a phone and a laptop at once
 * keeps one mailbox that way.
 */
#include "policy/client_settings.h"
#include "policy/hostnames.h"
#include "util/buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cs_proto_name(enum cs_proto p)
{
	return p == CS_POP3 ? "POP3" : p == CS_IMAP ? "IMAP" : "SMTP";
}

const char *cs_security_name(enum cs_security s)
{
	return s == CS_SSL ? "SSL/TLS" : "STARTTLS";
}

/* Append l's ports (as announced, each once per list) to list. */
static void add_ports(const struct config *cfg, const struct listen_list *l, enum cs_proto proto,
                      enum cs_security sec, int skip_mx, struct cs_server *list, int *n)
{
	for (int i = 0; i < l->n; i++) {
		int port = port_map_public(&cfg->acc_public_ports, atoi(l->a[i].port)), dup = 0;

		for (int j = 0; j < *n && !dup; j++)
			dup = list[j].port == port && list[j].proto == proto;
		if (dup || (skip_mx && port == CS_MX_PORT) || *n >= CS_SERVERS_MAX)
			continue;
		list[*n].proto = proto;
		list[*n].port = port;
		list[(*n)++].security = sec;
	}
}

int client_settings_get(const struct config *cfg, const struct account *acc, const char *address,
                        struct client_settings *cs)
{
	memset(cs, 0, sizeof *cs);
	if (snprintf(cs->username, sizeof cs->username, "%s", address) >= (int)sizeof cs->username ||
	    account_smtp_host(cfg, acc, cs->host, sizeof cs->host) < 0)
		return -1;
	add_ports(cfg, &cfg->imaps, CS_IMAP, CS_SSL, 0, cs->in, &cs->nin);
	add_ports(cfg, &cfg->imap, CS_IMAP, CS_STARTTLS, 0, cs->in, &cs->nin);
	add_ports(cfg, &cfg->pop3s, CS_POP3, CS_SSL, 0, cs->in, &cs->nin);
	add_ports(cfg, &cfg->pop3, CS_POP3, CS_STARTTLS, 0, cs->in, &cs->nin);
	add_ports(cfg, &cfg->submissions, CS_SMTP, CS_SSL, 0, cs->out, &cs->nout);
	add_ports(cfg, &cfg->submission, CS_SMTP, CS_STARTTLS, 0, cs->out, &cs->nout);
	/* the MX listener takes authenticated mail too (2525 is a common
	 * alternative where 587 is blocked), but 25 is for servers */
	add_ports(cfg, &cfg->smtp, CS_SMTP, CS_STARTTLS, 1, cs->out, &cs->nout);
	cs->max_size = cfg->message_size;
	cs->pop_before_smtp_minutes = cfg->pop_before_smtp_minutes;
	return 0;
}

int cs_server_line(const struct client_settings *cs, const struct cs_server *s, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s %s port %d %s", cs_proto_name(s->proto), cs->host, s->port,
	                 cs_security_name(s->security));

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int cs_server_lines(const struct client_settings *cs, struct buf *b)
{
	char line[400];
	int i;

	for (i = 0; i < cs->nin + cs->nout; i++) {
		const struct cs_server *s = i < cs->nin ? &cs->in[i] : &cs->out[i - cs->nin];
		int first = i == 0 || i == cs->nin;

		if (cs_server_line(cs, s, line, sizeof line) < 0 ||
		    buf_printf(b, "%s: %s%s\n", i < cs->nin ? "incoming" : "outgoing", line,
		               first ? " (recommended)" : "") < 0)
			return -1;
	}
	return 0;
}

void cs_size_mb(uint64_t bytes, char *out, size_t outlen)
{
	uint64_t mb = 1024 * 1024, tenths = (bytes * 10 + mb / 2) / mb;

	if (tenths % 10 == 0)
		snprintf(out, outlen, "%llu MB", (unsigned long long)(tenths / 10));
	else
		snprintf(out, outlen, "%llu.%llu MB", (unsigned long long)(tenths / 10),
		         (unsigned long long)(tenths % 10));
}
