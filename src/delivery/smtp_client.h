/*
 * smtp_client: one outbound SMTP session to one address (RFC 5321), on
 * the event loop: greeting, EHLO (HELO fallback), opportunistic STARTTLS
 * (RFC 3207; bytes the server sent behind its 220 are discarded), EHLO
 * again, MAIL FROM with SIZE and BODY=8BITMIME where offered, one RCPT
 * per recipient (pipelined with MAIL and DATA when PIPELINING is offered,
 * RFC 2920), DATA streamed from the queue file in chunks, dot-stuffed,
 * then QUIT. Timeouts per RFC 5321 4.5.3.2 from [delivery].
 *
 * With keep, a session whose transaction ended with a reply to the final
 * "." stays open instead of sending QUIT (SMTPC_IDLE): the caller may
 * park it (conn_cache.h) and run the next message to the same domain over
 * it with smtpc_reuse, as Postfix's connection cache does: no DNS lookup,
 * no connect, no greeting, no EHLO, no TLS handshake.
 *
 * The caller owns the recipient array; the session fills in a result for
 * each. Trying the next MX host, and recording results, is the caller's job.
 */
#ifndef HM_SMTP_CLIENT_H
#define HM_SMTP_CLIENT_H
#include <stdint.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

struct event_base;
struct config;
struct smtpc;

enum smtpc_rcpt_result { SMTPC_RCPT_NONE = 0, SMTPC_RCPT_OK, SMTPC_RCPT_PERM, SMTPC_RCPT_TEMP };

struct smtpc_rcpt {
	const char *addr;
	enum smtpc_rcpt_result result;
	/* "5.1.1 host mx.example[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO)"
	 * -- an enhanced status code first, then what happened */
	char reason[512];
};

enum smtpc_outcome {
	SMTPC_FINISHED,     /* every recipient has a result */
	SMTPC_TRY_NEXT,     /* nothing decided (connect, greeting, EHLO failed): try another host */
	SMTPC_TLS_FAILED,   /* the TLS handshake failed: the same host may be tried without TLS */
	SMTPC_IDLE,         /* every recipient has a result, and the session (params.keep) is
	                     * open and idle: the caller owns it (smtpc_park, smtpc_reuse,
	                     * smtpc_quit or smtpc_abort) */
};

/* err: for TRY_NEXT / TLS_FAILED, why ("4.4.1 connect to HOST[IP]: ..."). */
typedef void (*smtpc_done_cb)(enum smtpc_outcome outcome, const char *err, void *arg);

struct smtpc_params {
	struct event_base *base;
	const struct config *cfg;       /* timeouts */
	SSL_CTX *tls;                   /* NULL: never STARTTLS */
	const char *queue_id;           /* for log lines */
	const char *helo;               /* our name */
	const char *host;               /* MX host name (SNI, logs, reasons) */
	const struct sockaddr *addr;
	socklen_t addrlen;
	const char *sender;             /* "" = null sender */
	const char *msg_path;           /* queue file, CRLF line ends */
	uint64_t msg_offset;            /* the message: msg_size bytes from here */
	uint64_t msg_size;
	struct smtpc_rcpt *rcpts;       /* results are written here */
	size_t nrcpt;
	int keep;                       /* end a transaction with SMTPC_IDLE, not QUIT */
};

/* Start a session; done runs later (never from inside smtpc_start) exactly
 * once, after the session has released everything. NULL: out of memory. */
struct smtpc *smtpc_start(const struct smtpc_params *p, smtpc_done_cb done, void *arg);
/* Drop the session now; done is not called. */
void smtpc_abort(struct smtpc *s);
/* Send QUIT to an idle session; it closes on the 221 (or an error, or
 * after a while), then done runs (outcome SMTPC_FINISHED). */
void smtpc_quit(struct smtpc *s, smtpc_done_cb done, void *arg);
/* Let an idle session wait. If the server closes it or says anything, or
 * after `seconds` (timed_out), gone(s, timed_out, arg) is called and must
 * end it: smtpc_quit, or smtpc_abort for a connection that is gone. */
void smtpc_park(struct smtpc *s, int seconds, void (*gone)(struct smtpc *, int timed_out, void *),
                void *arg);
/* The next transaction over an idle (parked) session, with p's message,
 * sender and recipients; the host and address stay the session's own.
 * done as for smtpc_start (never from inside this call). A server that
 * dropped the idle connection gives SMTPC_TRY_NEXT: connect afresh. */
void smtpc_reuse(struct smtpc *s, const struct smtpc_params *p, smtpc_done_cb done, void *arg);
/* Seconds since the session connected. */
long smtpc_age(const struct smtpc *s);

/* A client SSL_CTX for opportunistic TLS: no verification enforced (the
 * result is logged), system trust store loaded for that log line. */
SSL_CTX *smtpc_tls_ctx_new(void);

#endif
