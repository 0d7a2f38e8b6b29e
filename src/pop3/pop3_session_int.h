/*
 * pop3_session_int: the session struct shared by the files of the POP3
 * server, on a daemon/conn connection (pop3_session.c: lifecycle, input
 * loop, worker jobs, message streaming;
 * pop3_cmds.c: the command table and transaction commands; pop3_auth.c:
 * STLS, USER/PASS, AUTH PLAIN and the login; pop3_service.c: the mailbox
 * locks and the grant purge).
 */
#ifndef HM_POP3_SESSION_INT_H
#define HM_POP3_SESSION_INT_H
#include <netinet/in.h>
#include <sys/queue.h>
#include <time.h>
#include "daemon/conn.h"
#include "pop3/pop3_session.h"
#include "pop3/pop3_parse.h"
#include "pop3/pop3_maildir.h"

#define POP3_CHUNK 65536
#define POP3_OUT_HIGH (256 * 1024)   /* stop reading the message file above this */
#define POP3_OUT_LOW (64 * 1024)     /* and go on below this */
#define POP3_INPUT_HIGH (64 * 1024)
#define POP3_MAX_ERRORS 20

enum pop3_state { ST_AUTH = 1, ST_TRANS = 2 };

struct pop3_lock;

struct pop3_session {
	struct conn *c;
	struct server *srv;
	const struct config *cfg;    /* the connection's snapshot */
	unsigned long long id;       /* for log lines: the connection's */
	char ip[INET6_ADDRSTRLEN];
	enum pop3_state state;
	int errors;

	/* authorization */
	char user[POP3_ARG_MAX];     /* from USER, until PASS */
	int user_given;
	int auth_wait;               /* AUTH PLAIN: waiting for the response line */
	char mailbox[320];           /* logged in as */
	char account[64];
	struct pop3_lock *lock;      /* the mailbox, held while logged in */
	struct pop3_proxy *proxy;    /* proxied to the home node (pop3_proxy.h) */
	struct move_put *put;        /* receiving a file of an account move (cluster/move_recv.h) */

	/* transaction */
	struct pop3_mailbox mb;
	int mb_open;

	/* RETR/TOP in progress */
	int streaming;
	int fd;
	struct pop3_enc enc;
	char *ibuf, *obuf;           /* POP3_CHUNK, 2 * POP3_CHUNK + 8 */

	char line[POP3_LINE_MAX + 2];
};

/* pop3_session.c */
void p3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A -ERR that counts toward POP3_MAX_ERRORS. */
void p3_error(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void p3_write(struct pop3_session *s, const void *p, size_t n);
void p3_close_after_reply(struct pop3_session *s);
/* Work on a worker for s (conn_job); done(st, arg) gets the session, or
 * NULL if it ended meanwhile. */
static inline int p3_job(struct pop3_session *s, struct workers *pool, void (*work)(void *),
                         void (*done)(void *st, void *arg), void *arg)
{
	return conn_job(s->c, pool, 0, work, done, arg);
}
/* Go on with buffered input (after a proxy attempt answered). */
void p3_input_again(struct pop3_session *s);
/* Send message i (0-based): everything (body_lines -1) or TOP's part. */
void p3_send_message(struct pop3_session *s, size_t i, long body_lines);

/* pop3_cmds.c */
void p3_dispatch(struct pop3_session *s, const char *line, size_t len);

/* pop3_auth.c */
void p3_cmd_stls(struct pop3_session *s, const struct pop3_command *c);
void p3_cmd_user(struct pop3_session *s, const struct pop3_command *c);
void p3_cmd_pass(struct pop3_session *s, const struct pop3_command *c);
void p3_cmd_auth(struct pop3_session *s, const struct pop3_command *c);
void p3_auth_continue(struct pop3_session *s, const char *line);
/* May USER/PASS/AUTH be used now (TLS, or plaintext allowed)? */
int p3_auth_allowed(const struct pop3_session *s);
/* The login was right (a password, or XLOGIN from a node): lock, open, grant. */
struct login;
void p3_open_mailbox(struct pop3_session *s, const struct login *l);

/* pop3_service.c: one session per mailbox (in-memory, one daemon owns the data dir) */
struct pop3_lock *p3_lock_take(struct server *srv, const char *mailbox);  /* NULL: in use */
void p3_lock_release(struct server *srv, struct pop3_lock *l);

#endif
