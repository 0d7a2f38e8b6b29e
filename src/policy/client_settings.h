/*
 * client_settings: one mailbox's servers as a mail program's setup screen
 * asks for them: per server its protocol, host, port and connection
 * security, the recommended one first, the alternatives after. Hosts follow
 * [hostnames] (the account's own name, legacy or new scheme); ports are the
 * configured listeners' as customers reach them ([acc] public_ports). Port
 * 25 is the MX port: it is never offered to a mail program. Every client
 * facing answer (the ACC's tables and JSON, `hostmailctl mailbox show`,
 * autoconfig, Autodiscover, the Apple profile) is made from this. Pure.
 */
#ifndef HM_CLIENT_SETTINGS_H
#define HM_CLIENT_SETTINGS_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"
#include "util/config.h"

#define CS_SERVERS_MAX (3 * CFG_MAX_ADDRS)
#define CS_MX_PORT 25

enum cs_proto { CS_POP3, CS_SMTP, CS_IMAP };   /* IMAP: Dovecot's, when [imap] is set */
enum cs_security { CS_SSL, CS_STARTTLS };   /* implicit TLS, or the upgrade */

struct cs_server {
	enum cs_proto proto;
	int port;
	enum cs_security security;
};

struct client_settings {
	char username[320];               /* the full address, as typed into the login */
	char host[256];                   /* the same host serves POP3, IMAP and SMTP */
	int nin, nout;                    /* in[0], out[0]: the recommended choice */
	struct cs_server in[CS_SERVERS_MAX], out[CS_SERVERS_MAX];
	uint64_t max_size;                /* bytes, as sent */
	int pop_before_smtp_minutes;      /* 0: disabled */
};

/* 0, or -1 if the host name or the address does not fit. */
int client_settings_get(const struct config *cfg, const struct account *acc, const char *address,
                        struct client_settings *out);
const char *cs_proto_name(enum cs_proto p);          /* "POP3", "SMTP", "IMAP" */
const char *cs_security_name(enum cs_security s);    /* "SSL/TLS", "STARTTLS" */
/* "POP3 acme.mail.example.net port 995 SSL/TLS": a line of mailbox show. */
int cs_server_line(const struct client_settings *cs, const struct cs_server *s, char *out, size_t outlen);
/* Every server as a mailbox show line ("incoming: POP3 host port 995
 * SSL/TLS (recommended)\n", ...) appended to b; 0 or -1 if b is full. */
struct buf;
int cs_server_lines(const struct client_settings *cs, struct buf *b);
/* "40 MB", "1.5 MB" (MB = 1024 * 1024 bytes, as mail programs count). */
void cs_size_mb(uint64_t bytes, char *out, size_t outlen);

#endif
