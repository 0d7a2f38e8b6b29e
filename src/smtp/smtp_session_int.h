/*
 * smtp_session_int: the session and transaction structs shared by the
 * files of the SMTP server (smtp_session.c: lifecycle, input loop and
 * replies; smtp_cmds.c: the command table and its handlers; smtp_auth.c:
 * STARTTLS, AUTH and POP-before-SMTP; smtp_txn.c: message data, BDAT and
 * the queue commit). The connection itself (socket, TLS, timers, worker
 * jobs) is daemon/conn's; the decisions are policy/smtp_policy's.
 */
#ifndef HM_SMTP_SESSION_INT_H
#define HM_SMTP_SESSION_INT_H
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include "daemon/conn.h"
#include "policy/smtp_policy.h"
#include "smtp/smtp_session.h"
#include "smtp/smtp_parse.h"
#include "smtp/data_decode.h"
#include "smtp/eol_normalize.h"
#include "smtp/line_limit.h"
#include "util/buf.h"

#define SMTP_CHUNK 65536
#define SMTP_INPUT_HIGH (256 * 1024)
/* Message bytes are handed to a worker to write in pieces of this size (the
 * rest goes with the commit): the event loop never blocks in write(2). */
#define SMTP_SPOOL_FLUSH (128 * 1024)
/* Room one decoded chunk may take once line ends are normalized (a bare
 * CR or LF becomes two bytes). */
#define SMTP_NORM_MAX (2 * SMTP_CHUNK + 8)
#define SMTP_HDR_MAX 65536   /* header section kept for the From: check */
#define SMTP_MAX_DOMAINS 64
#define SMTP_ADDR_MAX 320

enum smtp_mode { MODE_CMD, MODE_DATA, MODE_BDAT, MODE_AUTH };
enum auth_step { AUTH_NONE, AUTH_PLAIN_WAIT, AUTH_LOGIN_USER, AUTH_LOGIN_PASS };

struct smtp_rcpt {
	char addr[SMTP_ADDR_MAX];  /* local@domain, domain lower-case */
	int local;                 /* a hosted mailbox */
	time_t reserved_at;        /* when one recipient of the account's budget
	                              was reserved for it; 0 = none (smtp_budget.c) */
};

struct spool;
struct evbuffer;

/* One mail transaction, made at MAIL and freed whole when it ends (RSET,
 * HELO, the end of DATA/BDAT, the end of the session). It never changes
 * the session's authorization: whether it may relay is its own `relay`. */
struct smtp_tx {
	int relay;                 /* relays as the session's account (policy_mail) */
	struct smtp_mail_args mail;
	char sender[SMTP_ADDR_MAX];
	struct smtp_rcpt *rcpts;
	size_t nrcpt, rcpt_cap;
	size_t nreserved;          /* recipients with reserved_at: the budget it holds */
	/* the message */
	struct spool *spool;
	struct buf wbuf;           /* message bytes for the spool, written by a worker */
	struct data_decoder dec;
	struct eol_norm eol;
	uint64_t data_bytes;
	struct buf hdr;            /* header section so far (relaying transactions) */
	int hdr_done;
	int hdr_overflow;          /* header section longer than SMTP_HDR_MAX */
	int too_big, write_failed, write_errno;
	int used_bdat;             /* the message came in BDAT chunks (no DATA now) */
	/* submission (an authorized client): RFC 6409 fix-ups, line limit */
	int submission;
	size_t received_len;       /* our Received: line, at the start of wbuf */
	int fixup_done;            /* Date:/Message-ID: added (or nothing to add);
	                              until then wbuf holds the whole message */
	struct line_limit lines;
};

struct smtp_session {
	struct conn *c;
	struct server *srv;
	const struct config *cfg;  /* the connection's snapshot */
	enum listener_kind kind;
	unsigned long long id;     /* for log lines: the connection's */
	char ip[INET6_ADDRSTRLEN];
	char helo[256];
	int helo_seen, esmtp;
	int errors;
	enum smtp_mode mode;

	/* authorization: set once, by SMTP AUTH or a POP-before-SMTP grant */
	enum policy_auth auth;
	char account[64];          /* the authorized hosting account */
	char auth_user[SMTP_ADDR_MAX]; /* the mailbox that logged in */
	char (*domains)[POLICY_DOMAIN_MAX]; /* the account's domains */
	int ndomains;
	struct account_limits lim;
	enum auth_step auth_step;
	char auth_login_user[256];

	struct smtp_tx *tx;        /* the transaction, NULL outside one */
	/* the BDAT chunk being read */
	uint64_t bdat_left;        /* its bytes still to come */
	int bdat_last;
	int bdat_discard;          /* refused before its bytes (reply code): read and dropped */
	const char *bdat_text;

	char *dbuf;                /* SMTP_CHUNK + 2: decoded DATA */
	char line[SMTP_LINE_MAX + 2];
};

/* smtp_session.c */
/* The two arguments of "%s%s" in a log line: " account=NAME" when the
 * session is authorized, else nothing. */
#define LOG_ACCOUNT(s) ((s)->auth ? " account=" : ""), ((s)->auth ? (s)->account : "")
void session_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A reply that counts as a client error (5xx for syntax/sequence), logged
 * as "refused:" with the IP and account (text escaped). */
void session_error(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same, for a refusal the caller has logged with more detail. */
void session_error_logged(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Reply with a policy verdict, logging its reason. */
void session_verdict(struct smtp_session *s, const struct policy_verdict *v);
void session_close_after_reply(struct smtp_session *s);
/* The session's facts for the policy functions. */
void session_policy_client(const struct smtp_session *s, struct policy_client *cl);
/* Work on a worker for s (conn_job): the client waits for it (a commit,
 * a spool write), so it goes ahead of deliveries. done(st, arg) gets the
 * session, or NULL if it ended meanwhile. */
static inline int session_job(struct smtp_session *s, struct workers *pool, void (*work)(void *),
                              void (*done)(void *st, void *arg), void *arg)
{
	return conn_job(s->c, pool, 1, work, done, arg);
}

/* smtp_cmds.c */
void smtp_dispatch(struct smtp_session *s, char *line, size_t len);
/* End the transaction, if any (its spool file is removed). */
void tx_end(struct smtp_session *s);

/* smtp_auth.c */
void cmd_starttls(struct smtp_session *s, const char *arg);
void cmd_auth(struct smtp_session *s, const char *arg);
void auth_continue(struct smtp_session *s, const char *line);
/* Look up a POP-before-SMTP grant for the client IP (holds input meanwhile). */
void session_check_pop_grant(struct smtp_session *s);

/* smtp_budget.c: the budget reserved at RCPT, given back unless committed. */
struct budget_give;
struct workers;
struct store;
/* What tx holds, taken from it (tx forgets it: never given back twice);
 * NULL if nothing (or no memory: then it counts until its window ends). */
struct budget_give *budget_take(struct store *st, const char *account, struct smtp_tx *tx);
/* One reservation made at `at` that no recipient took. */
struct budget_give *budget_one(struct store *st, const char *account, time_t at);
/* Give it back now (blocks: on a worker) or on a worker of pool (from the
 * loop); either frees g. NULL: nothing. */
void budget_give_now(struct budget_give *g);
void budget_give_later(struct workers *pool, struct budget_give *g);
/* Keep it (the message was committed): only free g. */
void budget_free(struct budget_give *g);

/* smtp_txn.c */
void txn_start_data(struct smtp_session *s);
void txn_start_bdat(struct smtp_session *s, uint64_t size, int last);
/* Consume message bytes from input; 0 when it needs more input. */
int txn_data_step(struct smtp_session *s, struct evbuffer *in);
int txn_bdat_step(struct smtp_session *s, struct evbuffer *in);
void tx_free(struct smtp_tx *tx);

#endif
