/*
 * smtp_auth: STARTTLS (RFC 3207) and AUTH PLAIN/LOGIN (RFC 4954) for the
 * inbound SMTP session. Plaintext the client pipelined behind STARTTLS is
 * thrown away, never executed (the CVE-2011-0411 class). AUTH is offered
 * only under TLS; the password check runs on a worker, failures are
 * answered after a delay and counted per IP (throttle). A session is
 * authorized once, here: by AUTH, or by a POP-before-SMTP grant for its
 * IP found when it connects; its limits come from policy/limits.
 */
#include "smtp/smtp_session_int.h"
#include "auth/auth.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "auth/throttle.h"
#include "policy/limits.h"
#include "store/relay_auth.h"
#include "store/store.h"
#include "tls/tls.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


void cmd_starttls(struct smtp_session *s, const char *arg)
{
	if (*arg) {
		session_error(s, 501, "5.5.4", "Syntax: STARTTLS");
		return;
	}
	if (conn_tls(s->c)) {
		session_error(s, 503, "5.5.1", "Error: TLS already active");
		return;
	}
	if (!s->srv->tls) {
		session_error(s, 454, "4.7.0", "TLS not available");
		return;
	}
	/* the reply goes out in clear text, before the filter is in place */
	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (conn_starttls(s->c) < 0) {
		log_warn("smtp[%llu] ip=%s: cannot start TLS", s->id, s->ip);
		session_close_after_reply(s);
		return;
	}
	/* RFC 3207 4.2: forget everything learned before TLS. */
	tx_end(s);
	s->helo_seen = 0;
	s->helo[0] = '\0';
}

/* What an authorized session needs of its account: its record (limits,
 * standing) and its domains (sender affiliation). */
struct acct_info {
	struct account a;
	char (*domains)[POLICY_DOMAIN_MAX];
	int ndomains;
};

struct domain_list {
	char (*d)[POLICY_DOMAIN_MAX];
	int n;
};

static int collect_domain(const char *domain, const char *account, void *arg)
{
	struct domain_list *l = arg;

	(void)account;
	if (l->n < SMTP_MAX_DOMAINS)
		snprintf(l->d[l->n++], POLICY_DOMAIN_MAX, "%s", domain);
	return 0;
}

/* Blocking: on a worker. 0 or -1. */
static int load_account(struct store *st, const char *account, struct acct_info *ai)
{
	struct domain_list l = { calloc(SMTP_MAX_DOMAINS, POLICY_DOMAIN_MAX), 0 };

	if (!l.d || store_domain_list(st, account, collect_domain, &l) != 0 ||
	    store_account_get(st, account, &ai->a) != 0) {
		free(l.d);
		return -1;
	}
	ai->domains = l.d;
	ai->ndomains = l.n;
	return 0;
}

/* Authorize s as account (AUTH or POP-before-SMTP); takes ai's memory. The
 * only place the session's authorization is set. */
static void session_authorize(struct smtp_session *s, enum policy_auth how, const char *account,
                              const char *user, struct acct_info *ai)
{
	s->auth = how;
	snprintf(s->account, sizeof s->account, "%s", account);
	snprintf(s->auth_user, sizeof s->auth_user, "%s", user);
	free(s->domains);
	s->domains = ai->domains;
	s->ndomains = ai->ndomains;
	account_limits(&(struct account_limits){ ai->a.limit_per_hour, ai->a.limit_per_day,
	                                         ai->a.limit_max_recipients },
	               &(struct account_limits){ s->cfg->recipients_per_hour, s->cfg->recipients_per_day,
	                                         s->cfg->max_recipients },
	               &s->lim);
	ai->domains = NULL;
}

/* After a right password, on the worker: the account and its domains. */
static void auth_after(struct login *l)
{
	if (load_account(l->srv->store, l->account, l->data) < 0)
		l->res = AUTH_TEMPFAIL;
}

/* POP-before-SMTP: a recent POP3 login from this IP authorizes the session. */
struct grant_job {
	struct store *store;
	char ip[64];
	struct relay_grant g;
	int found;
	struct acct_info ai;
};

static void grant_work(void *p)
{
	struct grant_job *j = p;

	j->found = relay_auth_lookup(j->store, j->ip, time(NULL), &j->g) == 0 &&
	           load_account(j->store, j->g.account, &j->ai) == 0;
}

static void grant_done(void *st, void *p)
{
	struct smtp_session *s = st;
	struct grant_job *j = p;

	if (s && j->found && s->auth == POLICY_ANON) {
		session_authorize(s, POLICY_POP_GRANT, j->g.account, j->g.mailbox, &j->ai);
		log_info("smtp[%llu] ip=%s: authorized by POP-before-SMTP account=%s user=%s", s->id, s->ip,
		         s->account, s->auth_user);
	}
	free(j->ai.domains);
	free(j);
}

void session_check_pop_grant(struct smtp_session *s)
{
	struct grant_job *j = calloc(1, sizeof *j);

	if (!j)
		return;
	j->store = s->srv->store;
	snprintf(j->ip, sizeof j->ip, "%s", s->ip);
	if (session_job(s, s->srv->workers, grant_work, grant_done, j) < 0)
		free(j);
}

static void auth_refused(void *st, int wait)
{
	if (wait > 0)
		session_reply(st, 454, "4.7.0", "Too many failed authentication attempts, try again in %d seconds", wait);
	else
		session_reply(st, 454, "4.7.0", "Temporary authentication failure, try again later");
}

static void auth_failed(struct conn *c, void *st)
{
	(void)c;
	session_error_logged(st, 535, "5.7.8", "Error: authentication failed");
}

static void auth_done(void *st, struct login *l)
{
	struct smtp_session *s = st;
	struct acct_info *ai = l->data;
	char safe[200];

	log_value(l->cr.authcid, sizeof l->cr.authcid, safe, sizeof safe);
	if (!s) {
		/* the client is gone: nothing to answer */
	} else if (l->res == AUTH_OK) {
		log_info("smtp[%llu] ip=%s: authenticated user=%s account=%s%s", s->id, s->ip, l->mailbox,
		         l->account, l->cached ? " (password cached)" : "");
		session_authorize(s, POLICY_SMTP_AUTH, l->account, l->mailbox, ai);
		session_reply(s, 235, "2.7.0", "Authentication successful");
	} else if (l->res == AUTH_SUSPENDED) {
		log_warn("smtp[%llu] ip=%s: authentication refused: account %s suspended user=%s", s->id,
		         s->ip, l->account, safe);
		session_error_logged(s, 535, "5.7.8", "Authentication refused: account %s is suspended (not in good standing)",
		                     l->account);
	} else {
		log_warn("smtp[%llu] ip=%s: authentication temporary failure user=%s", s->id, s->ip, safe);
		session_reply(s, 454, "4.7.0", "Temporary authentication failure");
	}
	free(ai->domains);
}

static const struct login_proto smtp_login = {
	LOGIN_SMTP, "smtp", auth_refused, auth_after, auth_failed, auth_done,
};

static void auth_submit(struct smtp_session *s, struct sasl_creds *cr)
{
	s->mode = MODE_CMD;
	s->auth_step = AUTH_NONE;
	login_start(s->c, s, s->srv, &smtp_login, cr, sizeof(struct acct_info));
}

static void auth_malformed(struct smtp_session *s)
{
	s->mode = MODE_CMD;
	s->auth_step = AUTH_NONE;
	session_error(s, 501, "5.5.2", "Error: malformed authentication data");
}

void cmd_auth(struct smtp_session *s, const char *arg)
{
	char mech[32];
	const char *sp, *initial = NULL;
	size_t ml;
	struct sasl_creds cr;
	int wait;

	if (!s->helo_seen) {
		session_error(s, 503, "5.5.1", "Error: send EHLO first");
		return;
	}
	if (!conn_tls(s->c)) {
		session_error(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return;
	}
	if (s->auth == POLICY_SMTP_AUTH) {
		session_error(s, 503, "5.5.1", "Error: already authenticated");
		return;
	}
	if (s->tx) {
		session_error(s, 503, "5.5.1", "Error: AUTH not allowed during a mail transaction");
		return;
	}
	if ((wait = throttle_blocked(s->srv->auth_throttle, s->ip, time(NULL))) > 0) {
		log_warn_key(s->ip, "smtp[%llu] ip=%s: AUTH refused: too many failures (blocked %ds more)", s->id,
		             s->ip, wait);
		session_reply(s, 454, "4.7.0", "Too many failed authentication attempts, try again in %d seconds", wait);
		return;
	}
	sp = strchr(arg, ' ');
	ml = sp ? (size_t)(sp - arg) : strlen(arg);
	if (ml == 0 || ml >= sizeof mech) {
		session_error(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	snprintf(mech, sizeof mech, "%.*s", (int)ml, arg);
	if (sp) {
		initial = sp + 1;
		while (*initial == ' ')
			initial++;
	}
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (!initial || !*initial) {
			s->mode = MODE_AUTH;
			s->auth_step = AUTH_PLAIN_WAIT;
			session_reply(s, 334, NULL, "%s", "");
			return;
		}
		if (strcmp(initial, "=") == 0 || sasl_plain_decode(initial, strlen(initial), &cr) < 0) {
			auth_malformed(s);
			return;
		}
		auth_submit(s, &cr);
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		s->mode = MODE_AUTH;
		if (initial && *initial) {
			if (sasl_login_decode(initial, strlen(initial), s->auth_login_user, sizeof s->auth_login_user) < 0) {
				auth_malformed(s);
				return;
			}
			s->auth_step = AUTH_LOGIN_PASS;
			session_reply(s, 334, NULL, "UGFzc3dvcmQ6");
		} else {
			s->auth_step = AUTH_LOGIN_USER;
			session_reply(s, 334, NULL, "VXNlcm5hbWU6");
		}
	} else {
		session_error(s, 504, "5.5.4", "Error: unsupported authentication mechanism");
	}
}

/* A line sent in answer to a 334 challenge. */
void auth_continue(struct smtp_session *s, const char *line)
{
	struct sasl_creds cr;

	if (strcmp(line, "*") == 0) {
		s->mode = MODE_CMD;
		s->auth_step = AUTH_NONE;
		session_error(s, 501, "5.0.0", "Authentication cancelled");
		return;
	}
	switch (s->auth_step) {
	case AUTH_PLAIN_WAIT:
		if (sasl_plain_decode(line, strlen(line), &cr) < 0) {
			auth_malformed(s);
			return;
		}
		auth_submit(s, &cr);
		break;
	case AUTH_LOGIN_USER:
		if (sasl_login_decode(line, strlen(line), s->auth_login_user, sizeof s->auth_login_user) < 0) {
			auth_malformed(s);
			return;
		}
		s->auth_step = AUTH_LOGIN_PASS;
		session_reply(s, 334, NULL, "UGFzc3dvcmQ6");
		break;
	case AUTH_LOGIN_PASS:
		memset(&cr, 0, sizeof cr);
		if (sasl_login_decode(line, strlen(line), cr.password, sizeof cr.password) < 0) {
			auth_malformed(s);
			return;
		}
		snprintf(cr.authcid, sizeof cr.authcid, "%s", s->auth_login_user);
		explicit_bzero(s->auth_login_user, sizeof s->auth_login_user);
		auth_submit(s, &cr);
		break;
	default:
		auth_malformed(s);
	}
}
