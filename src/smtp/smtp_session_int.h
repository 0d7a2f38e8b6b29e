/*
 * smtp_session_int: the session struct shared by the files of the SMTP
 * server (smtp_session.c: I/O and lifecycle; smtp_cmds.c: command
 * handlers; smtp_txn.c: message data, BDAT and the queue commit).
 */
#ifndef HM_SMTP_SESSION_INT_H
#define HM_SMTP_SESSION_INT_H
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include "smtp/smtp_session.h"
#include "smtp/smtp_parse.h"
#include "smtp/data_decode.h"
#include "smtp/eol_normalize.h"
#include "util/buf.h"

#define SMTP_CHUNK 65536
#define SMTP_INPUT_HIGH (256 * 1024)
/* Message bytes are handed to a worker to write in pieces of this size (the
 * rest goes with the commit): the event loop never blocks in write(2). */
#define SMTP_SPOOL_FLUSH (128 * 1024)
/* Room one decoded chunk may take once line ends are normalized (a bare
 * CR or LF becomes two bytes). */
#define SMTP_NORM_MAX (2 * SMTP_CHUNK + 8)

enum smtp_mode { MODE_CMD, MODE_DATA, MODE_BDAT, MODE_AUTH };
enum auth_step { AUTH_NONE, AUTH_PLAIN_WAIT, AUTH_LOGIN_USER, AUTH_LOGIN_PASS };

#define SMTP_HDR_MAX 65536   /* header section kept for the From: check */
#define SMTP_MAX_DOMAINS 64

struct smtp_rcpt {
	char addr[320];    /* local@domain, domain lower-case */
	int local;         /* a hosted mailbox */
};

struct spool;
struct bufferevent;
struct evbuffer;

struct smtp_session {
	struct server *srv;
	struct bufferevent *bev;
	enum listener_kind kind;
	unsigned long long id;
	char ip[INET6_ADDRSTRLEN];
	char helo[256];
	int helo_seen, esmtp;
	int errors;
	enum smtp_mode mode;

	/* TLS and authorization */
	int tls;                 /* TLS is active on bev */
	int tls_handshaking;     /* under the handshake deadline */
	struct event *hs_deadline; /* ends the session if the handshake is not done */
	char tls_desc[160];      /* for Received: */
	int authorized;          /* may relay: SMTP AUTH (or POP-before-SMTP) */
	int authenticated;       /* by SMTP AUTH */
	int tx_as_mx;            /* POP-before-SMTP client, foreign sender: this
	                          * transaction is an MX-role one (authorized = 0
	                          * until txn_reset) */
	char account[64];        /* the authorized hosting account */
	char auth_user[320];     /* mailbox that authenticated */
	char (*domains)[256];    /* the account's domains (sender affiliation) */
	int ndomains;
	int lim_hour, lim_day, lim_rcpt; /* the account's budgets (overrides applied) */
	enum auth_step auth_step;
	char auth_login_user[256];
	struct event *delay;     /* delayed failure reply */

	/* the current transaction */
	int in_tx;
	struct smtp_mail_args mail;
	char sender[320];
	struct smtp_rcpt *rcpts;
	size_t nrcpt, rcpt_cap;
	struct spool *spool;
	struct buf wbuf;         /* message bytes for the spool, written by a worker */
	struct data_decoder dec;
	uint64_t data_bytes;
	struct buf hdr;          /* header section so far (authorized sessions) */
	int hdr_done;
	int hdr_overflow;        /* header section longer than SMTP_HDR_MAX */
	int too_big, write_failed, write_errno;
	int used_bdat;
	uint64_t bdat_left;
	int bdat_last, bdat_discard;
	const char *bdat_code_enh; /* deferred error for a discarded chunk */

	int busy;        /* a worker job is in flight: stop reading commands */
	int closing;     /* final reply sent, close once flushed */
	int dead;        /* peer gone while busy: free when the job returns */
	struct event *reaper;    /* frees a closing session once flushed */
	time_t close_deadline;
	int discarding;  /* inside an overlong line */
	char *dbuf;      /* SMTP_CHUNK + 2: decoded DATA */
	struct eol_norm eol;
	char line[SMTP_LINE_MAX + 2];
};

/* smtp_session.c */
struct sockaddr;
void sockaddr_ip(const struct sockaddr *sa, char *ip, size_t iplen);
void session_free(struct smtp_session *s);
/* The two arguments of "%s%s" in a log line: " account=NAME" when the
 * session is authorized, else nothing. */
#define LOG_ACCOUNT(s) ((s)->authorized ? " account=" : ""), ((s)->authorized ? (s)->account : "")
/* Set callbacks, watermarks and timeouts on s->bev (new or after STARTTLS). */
void session_attach(struct smtp_session *s);
void session_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A reply that counts as a client error (5xx for syntax/sequence), logged
 * as "refused:" with the IP and account (text escaped). */
void session_error(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same, for a refusal the caller has logged with more detail. */
void session_error_logged(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void session_close_after_reply(struct smtp_session *s);
void session_resume(struct smtp_session *s);   /* after a worker job */
void session_set_timeout(struct smtp_session *s, int seconds);
/* A TLS handshake starts: it must finish within [limits] tls_handshake_timeout. */
void session_tls_deadline(struct smtp_session *s);
/* Run work on a worker; done runs on the loop unless the session died. */
int session_job(struct smtp_session *s, void (*work)(void *), void (*done)(struct smtp_session *, void *), void *arg);
/* The same on another pool (password checks use srv->auth_workers). */
struct workers;
int session_job_on(struct smtp_session *s, struct workers *pool, void (*work)(void *),
                   void (*done)(struct smtp_session *, void *), void *arg);

/* smtp_cmds.c */
void smtp_dispatch(struct smtp_session *s, char *line, size_t len);
void txn_reset(struct smtp_session *s);

/* smtp_auth.c */
void cmd_starttls(struct smtp_session *s, const char *arg);
void cmd_auth(struct smtp_session *s, const char *arg);
void auth_continue(struct smtp_session *s, const char *line);
/* Is domain one of the authorized account's? */
int session_owns_domain(const struct smtp_session *s, const char *domain);
void session_init_delay(struct smtp_session *s);
/* Look up a POP-before-SMTP grant for the client IP (holds input meanwhile). */
void session_check_pop_grant(struct smtp_session *s);

/* smtp_txn.c */
void txn_start_data(struct smtp_session *s);
void txn_start_bdat(struct smtp_session *s, uint64_t size, int last);
/* Consume message bytes from input; 0 when it needs more input. */
int txn_data_step(struct smtp_session *s, struct evbuffer *in);
int txn_bdat_step(struct smtp_session *s, struct evbuffer *in);

#endif
