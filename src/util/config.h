/*
 * config: the INI configuration (parsed with libinih) as one struct.
 * Every key and its default is listed in docs/configuration.md. Unknown
 * sections or keys are an error, so a typo never silently means a default.
 *
 * In hostmaild a configuration is a value, not a place: config_new_load
 * makes a snapshot that nobody changes once it is published; a SIGHUP
 * publishes a new one. Whoever uses a snapshot beyond the current event
 * (a session, a worker job, an outbound delivery) holds a reference
 * (config_ref/config_unref), so a reload never changes or frees what a
 * request started with.
 */
#ifndef HM_CONFIG_H
#define HM_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include "util/port_map.h"

#define CFG_MAX_ADDRS 16

struct listen_addr {
	char host[64];  /* numeric IPv4 or IPv6, no brackets */
	char port[8];
};

struct listen_list {
	int n;
	struct listen_addr a[CFG_MAX_ADDRS];
};

enum store_backend_kind { STORE_SQLITE, STORE_POSTGRESQL };

struct config {
	int refs_;                      /* config_ref/config_unref only; -1: not counted */
	char path[512];
	/* [server] */
	char hostname[256];
	char data_dir[512];
	char user[64];                  /* "" = do not drop privileges */
	int log_syslog;                 /* [server] log = syslog (read at start only) */
	char syslog_socket[108];        /* the syslog daemon's socket (/dev/log) */
	/* [listen] */
	struct listen_list smtp, submission, submissions, pop3, pop3s, acc;
	struct listen_list admin;       /* the admin API (HTTPS, tokens); none = off */
	struct listen_list metrics;     /* Prometheus, plain HTTP (docs/metrics.md) */
	struct listen_list pop3_cluster; /* POP3 proxied from other nodes (mutual TLS, docs/cluster.md) */
	/* [tls] */
	char tls_certificate[512];
	char tls_key[512];
	char tls_sni_dir[512];
	/* [relay] */
	int pop_before_smtp_minutes;     /* rounded up, for display; 0 = off */
	int pop_before_smtp_seconds;     /* the grant's lifetime (a unit may be given: 30s) */
	/* [pop3] */
	int pop3_allow_plaintext_auth;
	int pop3_timeout;                /* seconds idle before a POP3 session is closed */
	/* [imap]: served by Dovecot beside hostmaild (hostmailctl dovecot-config) */
	struct listen_list imap, imaps;  /* listen (STARTTLS), listen_tls (implicit TLS) */
	struct listen_list imap_cluster; /* listen_cluster: one IPv4:PORT, implicit TLS with the
	                                  * [cluster] certificate, for the other nodes' IMAP proxies */
	/* [limits] */
	uint64_t message_size;
	int max_recipients;
	int recipients_per_hour;
	int recipients_per_day;
	int max_connections;            /* concurrent SMTP + POP3 sessions */
	int max_connections_per_ip;
	uint64_t min_free_space;        /* bytes the queue's disk keeps free */
	int login_queue;                /* password checks waiting, per service */
	int login_queue_per_ip;         /* ... from one client address */
	int auth_cache_ttl;             /* [auth] seconds a right password's verdict is kept; 0: no cache */
	int auth_negative_ttl;          /* ... a wrong password's; 0: not kept */
	int auth_cache_size;            /* entries */
	/* [smtp] */
	int smtp_timeout;               /* seconds idle in command state */
	int smtp_data_timeout;          /* seconds between DATA chunks */
	int smtp_max_errors;
	int tls_handshake_timeout;      /* seconds to finish a TLS handshake */
	/* [queue] */
	int retry_schedule[16];         /* seconds */
	int retry_schedule_n;
	int queue_max_age;              /* seconds */
	int queue_delay_warning;        /* seconds pending before a delay DSN; 0 = never */
	/* [delivery] */
	char dns_servers[256];
	int mx_port;
	int delivery_max_connections;   /* simultaneous outbound connections */
	int delivery_max_per_domain;    /* ... to one recipient domain */
	int delivery_connect_timeout;   /* seconds; the RFC 5321 4.5.3.2 timeouts follow */
	int delivery_greeting_timeout;  /* 220 greeting; also EHLO/HELO, STARTTLS, QUIT */
	int delivery_command_timeout;   /* MAIL and RCPT replies */
	int delivery_data_init_timeout; /* the 354 reply to DATA */
	int delivery_data_block_timeout;/* each block of message data written */
	int delivery_data_done_timeout; /* the reply to the final "." */
	/* [hostnames] */
	char hostname_legacy_pattern[256];
	char hostname_pattern[256];
	char hostname_legacy_cutover[16];
	/* [acc] */
	int acc_max_connections;        /* concurrent ACC connections */
	int acc_max_connections_per_ip;
	int acc_request_timeout;        /* seconds for a whole request, head and body, from its first byte */
	int acc_keepalive_timeout;      /* seconds an idle connection waits for the next request */
	int acc_sessions_per_account;   /* logged-in ACC sessions one account may have */
	struct port_map acc_public_ports;  /* ports announced to customers, if not the listen ports */
	char acc_provider_name[128];    /* on every page and in autoconfig's displayName */
	char acc_provider_logo[512];    /* https URL of the logo image, "" = none */
	char acc_support_url[512];      /* https: or mailto: link to the provider's support, "" = none */
	/* [workers] */
	int worker_threads;
	/* [store] */
	enum store_backend_kind store_backend;
	char store_dsn[1024];           /* libpq connection string (postgresql) */
	int store_statement_timeout;    /* seconds a database call may take */
	int store_pool_size;            /* PostgreSQL connections per process */
	/* [dkim] */
	int dkim_sign;                  /* sign what authorized clients send (docs/dkim.md) */
	/* [cluster]: one node of a fleet (docs/cluster.md); node 0 = not a fleet */
	int cluster_node;               /* this node's server number */
	char cluster_ca[512];           /* the CA that signs every node's certificate */
	char cluster_certificate[512];  /* this node's certificate (server and client) */
	char cluster_key[512];
	struct listen_list lmtp;        /* [listen] lmtp: internal delivery from other nodes */
	/* [records]: what customers are told to publish ("" = from [server] hostname) */
	char records_mx[256];
	char records_spf[512];
	char records_dmarc[512];
	/* [srs]: forwarding's sender rewriting (docs/routing.md) */
	char srs_secret_file[512];      /* "" = data_dir/srs.secret */
	char srs_domain[256];           /* "" = [server] hostname */
	int srs_max_age_days;           /* how long a forwarded message's bounce is taken */
	/* quotas and autoresponders (docs/quotas.md, docs/vacation.md) */
	int quota_full_temporary;       /* [limits] quota_full = temporary: 452 4.2.2, not 552 5.2.2 */
	int quota_warning;              /* [limits] quota_warning: percent; 0 = no warning */
	int vacation_period;            /* [delivery] vacation_period: seconds between replies to one sender */
	/* [milter] (docs/milter.md): filters as "inet:HOST:PORT, unix:PATH", in order */
	char milter_inbound[1024];      /* mail from clients not authorized (the MX role); "" = none */
	char milter_outbound[1024];     /* authorized clients' mail; "" = none */
	int milter_default_accept;      /* default_action = accept (else tempfail) */
	int milter_timeout;             /* seconds a filter may be silent */
	int milter_spam_action;         /* enum spam_action (milter/milter_result.h), not SPAM_DEFAULT */
	char milter_spam_subject[64];   /* the subject tag of spam_action = subject */
};

/* Fill cfg with defaults, then the file. Returns 0, or -1 with err set. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
void config_defaults(struct config *cfg);

/* A snapshot with one reference: the defaults (config_new) or the file
 * (config_new_load: NULL with err set if it cannot be read). */
struct config *config_new(void);
struct config *config_new_load(const char *path, char *err, size_t errlen);
/* Another reference to c (thread-safe); returns c. A struct filled by
 * config_load or config_defaults in the caller's memory is not counted:
 * ref and unref leave it alone. */
const struct config *config_ref(const struct config *c);
/* Drop a reference; the last one frees c. NULL is ignored. */
void config_unref(const struct config *c);
/* "127.0.0.1:25, [::1]:25" -> list; -1 on a malformed entry. */
int config_parse_listen(const char *value, struct listen_list *out);
/* "5m", "1h", "5d", "30" (seconds) -> seconds; -1 if malformed. */
long config_parse_duration(const char *s);

#endif
