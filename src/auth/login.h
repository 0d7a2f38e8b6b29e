/*
 * login: one password login of a mail session (SMTP AUTH, POP3 USER/PASS
 * and AUTH), the glue both protocols share: the per-address throttle
 * (attempts in flight counted), a look at the auth cache on the general
 * workers (a cached verdict never waits behind a password storm), else
 * the check on the fair login queue (auth/login_queue.h), the fail2ban
 * line and the delay before a wrong password's answer. The protocol supplies its answers (struct
 * login_proto); the verdict's bookkeeping is done here, once.
 */
#ifndef HM_LOGIN_H
#define HM_LOGIN_H
#include <stddef.h>
#include "auth/auth.h"
#include "auth/login_queue.h"
#include "auth/sasl.h"

struct conn;
struct server;

struct login {
	struct server *srv;
	const struct login_proto *proto;
	struct conn *c;                    /* valid only while the session is (st != NULL) */
	struct sasl_creds cr;              /* the password is wiped once checked */
	enum auth_result res;
	int cached;                        /* the verdict came from the auth cache */
	char account[64], mailbox[320], ip[64];
	void *data;                        /* the protocol's data_size bytes, zeroed */
	size_t size;                       /* of the allocation, data included */
};

struct login_proto {
	enum login_service svc;
	const char *name;                  /* "smtp", "pop3": log lines */
	/* Refused before any check: blocked for wait seconds (too many
	 * failures, or attempts in flight), or wait == 0: the login queue is
	 * full or memory is short. A temporary error. */
	void (*refused)(void *st, int wait);
	/* On the worker after AUTH_OK: what the session needs (may turn the
	 * result into AUTH_TEMPFAIL). NULL: nothing. */
	void (*after)(struct login *l);
	/* A wrong password, answered after the delay. */
	void (*failed)(struct conn *c, void *st);
	/* AUTH_OK, AUTH_SUSPENDED or AUTH_TEMPFAIL on the loop; st NULL if
	 * the client has gone. Releases what data holds; l is freed after. */
	void (*done)(void *st, struct login *l);
};

/* Check cr (wiped here) for the session st on c, as p says. */
void login_start(struct conn *c, void *st, struct server *srv, const struct login_proto *p,
                 struct sasl_creds *cr, size_t data_size);

#endif
