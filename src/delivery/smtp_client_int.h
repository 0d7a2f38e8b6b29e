/*
 * smtp_client_int: the outbound session's state, shared by the files of
 * the client (not a public API): smtp_client.c (the state machine, replies,
 * timers), smtp_client_tls.c (STARTTLS, the TLS close) and
 * smtp_client_body.c (the message streamed from the queue file).
 */
#ifndef HM_SMTP_CLIENT_INT_H
#define HM_SMTP_CLIENT_INT_H
#include "delivery/smtp_client.h"
#include "delivery/smtp_client_parse.h"
#include "delivery/wire_plan.h"
#include "util/buf.h"
#include <stdint.h>
#include <time.h>

struct bufferevent;
struct event;

#define CHUNK        65536   /* the output is topped up to this while the message streams */
#define OUT_LOW      16384   /* refill the output below this */
/* Under TLS the filter encrypts whatever it is given into the socket's
 * own output, which without a high watermark grows to the whole message
 * (the peer reads slower than we encrypt): the filter stops at this. */
#define TLS_SOCK_HIGH (2 * CHUNK)

enum state {
	S_CONNECT, S_GREETING, S_EHLO, S_HELO, S_STARTTLS, S_TLS,
	S_MAIL, S_RCPT, S_DATA, S_BODY, S_DOT, S_EMPTY_DOT, S_QUIT, S_IDLE,
};

struct smtpc {
	struct smtpc_params p;
	smtpc_done_cb done;
	void *arg;
	char label[320];                /* host[address]:port */
	char host[256];                 /* p.host points here: it outlives the caller's copy */
	time_t born;
	int reused;                     /* this transaction runs over a kept connection */
	void (*gone)(struct smtpc *, int, void *);  /* parked: who ends it */
	void *gone_arg;
	struct bufferevent *bev;
	struct event *timer;
	enum state st;
	struct smtpc_reply reply;
	struct smtpc_ehlo ehlo;
	int tls_on;
	int pipelining;                 /* MAIL/RCPT/DATA sent in one go */
	size_t next_rcpt;               /* RCPT replies received */
	size_t accepted;
	int decided;                    /* some recipient has a result */
	int connect_failed;             /* bufferevent_socket_connect failed at once */
	int fd;                         /* the queue file while sending it */
	uint64_t left;                  /* message bytes not read from it yet */
	struct smtpc_stuffer stuffer;
	struct buf out;
	struct wire_plan plan;          /* SMTPUTF8, 7-bit conversion: per transaction */
	struct qp_enc qp;
	struct buf qpbuf;               /* a chunk as quoted-printable (plan.convert) */
};

/* smtp_client.c */
void smtpc_arm(struct smtpc *s, int seconds);
/* The connection ended (error, EOF, timeout) before the session was done. */
void smtpc_fail(struct smtpc *s, const char *why);
/* The end: release everything, then tell the caller. */
void smtpc_finish(struct smtpc *s, enum smtpc_outcome o, const char *err);
void smtpc_send_ehlo(struct smtpc *s);
void smtpc_on_read(struct bufferevent *bev, void *arg);
void smtpc_on_write(struct bufferevent *bev, void *arg);
void smtpc_on_event(struct bufferevent *bev, short what, void *arg);

/* smtp_client_tls.c */
/* STARTTLS got its 220: the handshake starts. 1 if the session ended. */
int smtpc_start_tls(struct smtpc *s);
/* The handshake is done: log it, EHLO again. */
void smtpc_tls_up(struct smtpc *s);
void smtpc_tls_close_notify(struct smtpc *s);

/* smtp_client_body.c */
/* The 354 arrived: open the queue file and start streaming. 1 if the session ended. */
int smtpc_begin_body(struct smtpc *s);
/* Top up the output (the write callback). 1 if the session ended. */
int smtpc_refill(struct smtpc *s);

#endif
