/*
 * pop3_auth: the AUTHORIZATION state. STLS (RFC 2595: plaintext pipelined
 * behind it is discarded, never executed), USER/PASS (RFC 1939) and AUTH
 * PLAIN (RFC 5034), refused before TLS unless [pop3] allow_plaintext_auth.
 * A login is: the password check on a worker; the mailbox lock ([IN-USE]);
 * then, on a worker again, the Maildir snapshot and the POP-before-SMTP
 * grant for the client's IP. Failures are answered after a delay, logged
 * for fail2ban and counted per IP in the throttle shared with SMTP AUTH.
 */
#include "pop3/pop3_session_int.h"
#include "pop3/pop3_proxy.h"
#include "auth/auth.h"
#include "auth/login.h"
#include "auth/sasl.h"
#include "auth/throttle.h"
#include "delivery/maildir.h"
#include "store/relay_auth.h"
#include "tls/tls.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int p3_auth_allowed(const struct pop3_session *s)
{
	return conn_tls(s->c) || s->cfg->pop3_allow_plaintext_auth;
}

static int refuse_plaintext(struct pop3_session *s)
{
	if (p3_auth_allowed(s))
		return 0;
	p3_error(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections: %s",
	         s->srv->tls ? "use STLS first (or POP3S)" : "TLS is not available on this server");
	return 1;
}

void p3_cmd_stls(struct pop3_session *s, const struct pop3_command *c)
{
	(void)c;
	if (conn_tls(s->c)) {
		p3_error(s, "-ERR TLS already active");
		return;
	}
	if (!s->srv->tls) {
		p3_reply(s, "-ERR [SYS/TEMP] TLS not available");
		return;
	}
	p3_reply(s, "+OK Begin TLS negotiation");
	if (conn_starttls(s->c) < 0) {
		log_warn("pop3[%llu] ip=%s: cannot start TLS", s->id, s->ip);
		p3_close_after_reply(s);
		return;
	}
	/* forget what was said in the clear */
	s->user_given = 0;
	explicit_bzero(s->user, sizeof s->user);
}

/* A login's second step, after the password: Maildir snapshot and relay grant. */
struct open_job {
	struct server *srv;
	const struct config *cfg;      /* the session's: held while it waits for the job */
	char account[64], mailbox[320], ip[64];
	struct pop3_mailbox mb;
	int open_errno;
	int cached;                    /* the password's verdict came from the auth cache */
	int grant_rc;
	time_t grant_until;
};

static void open_work(void *p)
{
	struct open_job *j = p;
	char local[320], path[PATH_MAX], *at;
	int seconds = j->cfg->pop_before_smtp_seconds;

	snprintf(local, sizeof local, "%s", j->mailbox);
	if (!(at = strrchr(local, '@'))) {
		j->open_errno = EINVAL;
		return;
	}
	*at = '\0';
	if (maildir_create(j->cfg->data_dir, local, at + 1, path, sizeof path) < 0 ||
	    pop3_mailbox_open(path, &j->mb) < 0) {
		j->open_errno = errno ? errno : EIO;
		return;
	}
	if (seconds > 0) {
		j->grant_until = time(NULL) + (time_t)seconds;
		j->grant_rc = relay_auth_grant(j->srv->store, j->ip, j->mailbox, j->grant_until);
	}
}

static void open_done(void *st, void *p)
{
	struct pop3_session *s = st;
	struct open_job *j = p;
	unsigned long long octets = 0;
	size_t i;

	if (!s) {
		pop3_mailbox_free(&j->mb);
		free(j);
		return;
	}
	if (j->open_errno) {
		log_warn("pop3[%llu] ip=%s: cannot open the mailbox of %s: %s", s->id, s->ip, j->mailbox,
		         strerror(j->open_errno));
		p3_lock_release(s->srv, s->lock);
		s->lock = NULL;
		p3_reply(s, "-ERR [SYS/TEMP] cannot open your mailbox, try again later");
		free(j);
		return;
	}
	s->mb = j->mb;
	s->state = ST_TRANS;
	s->errors = 0;
	snprintf(s->mailbox, sizeof s->mailbox, "%s", j->mailbox);
	snprintf(s->account, sizeof s->account, "%s", j->account);
	for (i = 0; i < s->mb.n; i++)
		octets += s->mb.msgs[i].size;
	log_info("pop3[%llu] ip=%s: login user=%s account=%s messages=%zu%s", s->id, s->ip, s->mailbox,
	         s->account, s->mb.n, j->cached ? " (password cached)" : "");
	if (s->mb.unmoved > 0)
		log_warn("pop3[%llu] ip=%s: %s: %zu message(s) could not be moved from new/ to cur/,"
		         " served from new/", s->id, s->ip, s->mailbox, s->mb.unmoved);
	if (s->mb.tmp_removed > 0)
		log_info("pop3[%llu] ip=%s: %s: removed %d stale file(s) from tmp/ (older than 36 hours)",
		         s->id, s->ip, s->mailbox, s->mb.tmp_removed);
	if (j->grant_until && j->grant_rc == 0)
		log_info("pop3[%llu] ip=%s: relay authorized (POP-before-SMTP) account=%s mailbox=%s for %d seconds",
		         s->id, s->ip, s->account, s->mailbox, s->cfg->pop_before_smtp_seconds);
	else if (j->grant_until)
		log_warn("pop3[%llu] ip=%s: POP-before-SMTP grant for %s failed (store error %d)", s->id, s->ip,
		         s->mailbox, j->grant_rc);
	p3_reply(s, "+OK Logged in, %zu messages (%llu octets)", s->mb.n, octets);
	free(j);
}

static void login_refused(void *st, int wait)
{
	if (wait > 0)
		p3_reply(st, "-ERR [SYS/TEMP] Too many failed logins from your address, try again in %d seconds", wait);
	else
		p3_reply(st, "-ERR [SYS/TEMP] too busy checking passwords, try again later");
}

static void login_failed(struct conn *c, void *st)
{
	(void)c;
	p3_error(st, "-ERR [AUTH] Authentication failed");
}

/* The password was right: take the mailbox's lock, then open it on a worker. */
void p3_open_mailbox(struct pop3_session *s, const struct login *l)
{
	struct open_job *j;

	if (!(s->lock = p3_lock_take(s->srv, l->mailbox))) {
		log_info("pop3[%llu] ip=%s: login refused: %s is in use by another session", s->id, s->ip,
		         l->mailbox);
		p3_reply(s, "-ERR [IN-USE] mailbox %s is in use by another POP3 session", l->mailbox);
		return;
	}
	if ((j = calloc(1, sizeof *j))) {
		j->srv = s->srv;
		j->cfg = s->cfg;
		snprintf(j->account, sizeof j->account, "%s", l->account);
		snprintf(j->mailbox, sizeof j->mailbox, "%s", l->mailbox);
		snprintf(j->ip, sizeof j->ip, "%s", l->ip);
		j->cached = l->cached;
		if (p3_job(s, s->srv->workers, open_work, open_done, j) == 0)
			return;
		free(j);
	}
	p3_lock_release(s->srv, s->lock);
	s->lock = NULL;
	p3_reply(s, "-ERR [SYS/TEMP] temporary failure, try again later");
}

static void login_done(void *st, struct login *l)
{
	struct pop3_session *s = st;
	char safe[200];

	if (!s)
		return;                       /* the client is gone: nothing to answer */
	log_value(l->cr.authcid, sizeof l->cr.authcid, safe, sizeof safe);
	if (l->res == AUTH_SUSPENDED) {
		log_warn("pop3[%llu] ip=%s: login refused: account %s suspended user=%s", s->id, s->ip,
		         l->account, safe);
		p3_error(s, "-ERR [AUTH] account not in good standing");
	} else if (l->res == AUTH_TEMPFAIL) {
		log_warn("pop3[%llu] ip=%s: login temporary failure user=%s", s->id, s->ip, safe);
		p3_reply(s, "-ERR [SYS/TEMP] temporary failure, try again later");
	} else if (l->data && ((const struct p3_home *)l->data)->moving) {
		log_info("pop3[%llu] ip=%s: login refused: account %s is being moved to another node", s->id,
		         s->ip, l->account);
		p3_reply(s, "-ERR [SYS/TEMP] your mailbox is being moved to another server, try again in a few minutes");
	} else if (l->data && ((const struct p3_home *)l->data)->node > 0) {
		pop3_proxy_start(s, l, l->data);   /* its home is another node */
	} else {
		p3_open_mailbox(s, l);
	}
}

static const struct login_proto pop3_login = {
	LOGIN_POP3, "pop3", login_refused, pop3_proxy_after_login, login_failed, login_done,
};

static void login_submit(struct pop3_session *s, struct sasl_creds *cr)
{
	login_start(s->c, s, s->srv, &pop3_login, cr, sizeof(struct p3_home));
}

void p3_cmd_user(struct pop3_session *s, const struct pop3_command *c)
{
	if (refuse_plaintext(s))
		return;
	if (strlen(c->arg) >= SASL_FIELD_MAX) {
		p3_error(s, "-ERR user name too long");
		return;
	}
	snprintf(s->user, sizeof s->user, "%s", c->arg);
	s->user_given = 1;
	/* the same answer for every name: no probing for mailboxes */
	p3_reply(s, "+OK send your password");
}

void p3_cmd_pass(struct pop3_session *s, const struct pop3_command *c)
{
	struct sasl_creds cr;

	if (refuse_plaintext(s))
		return;
	if (!s->user_given) {
		p3_error(s, "-ERR send USER first");
		return;
	}
	s->user_given = 0;
	if (strlen(c->arg) >= sizeof cr.password) {
		p3_error(s, "-ERR [AUTH] Authentication failed");
		return;
	}
	memset(&cr, 0, sizeof cr);
	memcpy(cr.authcid, s->user, strlen(s->user) + 1);    /* < SASL_FIELD_MAX: p3_cmd_user */
	memcpy(cr.password, c->arg, strlen(c->arg) + 1);
	explicit_bzero(s->user, sizeof s->user);
	login_submit(s, &cr);
}

void p3_cmd_auth(struct pop3_session *s, const struct pop3_command *c)
{
	struct sasl_creds cr;

	if (refuse_plaintext(s))
		return;
	if (c->nargs == 0) {
		/* RFC 1734 style: list the mechanisms */
		p3_reply(s, "+OK\r\nPLAIN\r\n.");
		return;
	}
	if (strcasecmp(c->arg, "PLAIN") != 0) {
		p3_error(s, "-ERR unsupported authentication mechanism");
		return;
	}
	s->user_given = 0;
	if (c->nargs == 1) {
		s->auth_wait = 1;
		p3_reply(s, "+ ");
		return;
	}
	if (sasl_plain_decode(c->arg2, strlen(c->arg2), &cr) < 0) {
		p3_error(s, "-ERR malformed authentication data");
		return;
	}
	login_submit(s, &cr);
}

void p3_auth_continue(struct pop3_session *s, const char *line)
{
	struct sasl_creds cr;

	s->auth_wait = 0;
	if (strcmp(line, "*") == 0) {
		p3_error(s, "-ERR authentication cancelled");
		return;
	}
	if (sasl_plain_decode(line, strlen(line), &cr) < 0) {
		p3_error(s, "-ERR malformed authentication data");
		return;
	}
	login_submit(s, &cr);
}
