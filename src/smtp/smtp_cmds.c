/*
 * smtp_cmds: the SMTP command table and its handlers (RFC 5321 4.1).
 * Each handler validates sequence and syntax, replies, and changes session
 * state; RCPT's mailbox lookup runs on a worker (the store blocks).
 */
#include "smtp/smtp_session_int.h"
#include "queue/queue.h"
#include "store/store.h"
#include "policy/rate.h"
#include <time.h>
#include "util/log.h"
#include <ctype.h>
#include <sys/statvfs.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*cmd_handler)(struct smtp_session *s, const char *arg);

void txn_reset(struct smtp_session *s)
{
	if (s->spool) {
		spool_abort(s->spool);
		s->spool = NULL;
	}
	buf_free(&s->wbuf);
	s->in_tx = 0;
	s->nrcpt = 0;
	s->sender[0] = '\0';
	memset(&s->mail, 0, sizeof s->mail);
	s->data_bytes = 0;
	s->too_big = s->write_failed = s->write_errno = 0;
	s->used_bdat = 0;
	s->mode = MODE_CMD;
	if (s->tx_as_mx) {
		s->tx_as_mx = 0;
		s->authorized = 1;
	}
}

static int no_arg(struct smtp_session *s, const char *arg)
{
	if (*arg) {
		session_error(s, 501, "5.5.4", "Syntax error: no parameters allowed");
		return 0;
	}
	return 1;
}

static void cmd_helo_common(struct smtp_session *s, const char *arg, int esmtp)
{
	char name[256];

	if (smtp_parse_helo(arg, name, sizeof name) < 0) {
		session_error(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return;
	}
	txn_reset(s);
	snprintf(s->helo, sizeof s->helo, "%s", name);
	s->helo_seen = 1;
	s->esmtp = esmtp;
	if (!esmtp) {
		session_reply(s, 250, NULL, "%s", s->srv->cfg->hostname);
		return;
	}
	session_reply(s, 250, NULL,
	              "%s\nPIPELINING\nSIZE %llu\n8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING%s%s\nHELP",
	              s->srv->cfg->hostname, (unsigned long long)s->srv->cfg->message_size,
	              !s->tls && s->srv->tls ? "\nSTARTTLS" : "",
	              s->tls && !s->authenticated ? "\nAUTH PLAIN LOGIN" : "");
}

static void cmd_helo(struct smtp_session *s, const char *arg) { cmd_helo_common(s, arg, 0); }
static void cmd_ehlo(struct smtp_session *s, const char *arg) { cmd_helo_common(s, arg, 1); }

/* Would a message of the declared size eat into [limits] min_free_space? */
static int disk_short(struct smtp_session *s)
{
	struct statvfs v;
	uint64_t avail, need = s->srv->cfg->min_free_space;

	if (statvfs(s->srv->queue_dir, &v) < 0)
		return 0; /* cannot tell: the write itself will report ENOSPC */
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (s->mail.has_size)
		need += s->mail.size;
	if (avail >= need)
		return 0;
	log_warn("smtp[%llu] ip=%s: reject MAIL: 452 4.3.1 %llu bytes free in the queue, need %llu", s->id,
	         s->ip, (unsigned long long)avail, (unsigned long long)need);
	return 1;
}

static void cmd_mail(struct smtp_session *s, const char *arg)
{
	int code;
	const char *enh, *why;

	if (!s->helo_seen) {
		session_error(s, 503, "5.5.1", "Error: send HELO/EHLO first");
		return;
	}
	if (s->in_tx) {
		session_error(s, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	if (s->kind != LISTEN_SMTP && !s->authorized) {
		log_info("smtp[%llu] ip=%s: reject MAIL: 530 5.7.0 authentication required on submission port",
		         s->id, s->ip);
		session_error_logged(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if (smtp_parse_mail(arg, &s->mail, &code, &enh, &why) < 0) {
		session_error(s, code, enh, "%s", why);
		return;
	}
	if (s->mail.body == SMTP_BODY_BINARYMIME) {
		session_error(s, 555, "5.5.4", "BODY=BINARYMIME is not supported");
		return;
	}
	if (s->mail.from.utf8 && !s->mail.smtputf8) {
		session_error(s, 553, "5.6.7", "UTF-8 address requires the SMTPUTF8 parameter");
		return;
	}
	if (disk_short(s)) {
		session_reply(s, 452, "4.3.1", "Insufficient system storage");
		return;
	}
	if (s->mail.has_size && s->mail.size > s->srv->cfg->message_size) {
		log_info("smtp[%llu] ip=%s%s%s: reject MAIL: 552 5.3.4 SIZE=%llu over limit", s->id, s->ip,
		         LOG_ACCOUNT(s),
		         (unsigned long long)s->mail.size);
		session_reply(s, 552, "5.3.4", "Message size exceeds fixed limit of %llu bytes",
		              (unsigned long long)s->srv->cfg->message_size);
		return;
	}
	if (s->authorized && (s->mail.from.null || !session_owns_domain(s, s->mail.from.domain))) {
		char safe[400];
		addr_format(&s->mail.from, safe, sizeof safe);
		if (!s->authenticated && s->kind == LISTEN_SMTP) {
			/* POP-before-SMTP authorizes an IP, which other senders may
			 * share (NAT, a mail server beside the customer): their mail
			 * to hosted mailboxes is ordinary MX traffic. Only relaying
			 * needs the account's own sender (refused at RCPT). */
			s->authorized = 0;
			s->tx_as_mx = 1;
			log_info("smtp[%llu] ip=%s: sender <%s> not owned by account %s: POP-before-SMTP "
			         "authorization not used for this transaction", s->id, s->ip, safe, s->account);
			goto accept;
		}
		log_warn("smtp[%llu] ip=%s: reject MAIL: 553 5.7.1 sender <%s> not owned by account %s user=%s",
		         s->id, s->ip, safe, s->account, s->auth_user);
		session_error_logged(s, 553, "5.7.1", "Sender address <%s> not owned by your account %s", safe, s->account);
		return;
	}
accept:
	addr_format(&s->mail.from, s->sender, sizeof s->sender);
	s->in_tx = 1;
	s->nrcpt = 0;
	session_reply(s, 250, "2.1.0", "Ok");
}

struct rcpt_lookup {
	struct store *store;
	char local[ADDR_LOCAL_MAX * 2 + 3];
	char domain[ADDR_DOMAIN_MAX + 1];
	char addr[320];
	int hosted, exists, failed;
	char account[64];      /* authorized: count against this account's budget */
	struct rate_use use;
};

static void rcpt_lookup_work(void *p)
{
	struct rcpt_lookup *r = p;

	r->failed = store_rcpt_lookup(r->store, r->local, r->domain, &r->hosted, &r->exists) != 0;
	if (!r->failed && r->account[0])
		r->failed = rate_get(r->store, r->account, time(NULL), &r->use) != 0;
}

static int add_rcpt(struct smtp_session *s, const char *addr, int local)
{
	if (s->nrcpt == s->rcpt_cap) {
		size_t ncap = s->rcpt_cap ? s->rcpt_cap * 2 : 4;
		struct smtp_rcpt *n = realloc(s->rcpts, ncap * sizeof *n);
		if (!n) {
			session_reply(s, 452, "4.3.0", "Insufficient resources");
			return -1;
		}
		s->rcpts = n;
		s->rcpt_cap = ncap;
	}
	snprintf(s->rcpts[s->nrcpt].addr, sizeof s->rcpts[0].addr, "%s", addr);
	s->rcpts[s->nrcpt].local = local;
	s->nrcpt++;
	return 0;
}

static void rcpt_lookup_done(struct smtp_session *s, void *p)
{
	struct rcpt_lookup *r = p;
	char why[160];

	if (!s)
		goto out;
	if (r->failed) {
		session_reply(s, 451, "4.3.0", "<%s>: Temporary lookup failure", r->addr);
	} else if (r->account[0] && rate_decide(&r->use, s->lim_hour, s->lim_day, (int)s->nrcpt, why, sizeof why)) {
		log_warn("smtp[%llu] ip=%s: reject RCPT: 450 4.7.1 account=%s user=%s to=<%s>: %s", s->id, s->ip,
		         s->account, s->auth_user, r->addr, why);
		session_reply(s, 450, "4.7.1", "<%s>: Recipient refused: account %s %s", r->addr, s->account, why);
	} else if (!r->hosted && s->authorized && s->in_tx) {
		if (add_rcpt(s, r->addr, 0) == 0) {
			log_info("smtp[%llu] ip=%s: relay from=<%s> to=<%s> account=%s", s->id, s->ip, s->sender,
			         r->addr, s->account);
			session_reply(s, 250, "2.1.5", "Ok");
		}
	} else if (!r->hosted && s->tx_as_mx) {
		log_warn("smtp[%llu] ip=%s: reject RCPT: 553 5.7.1 sender <%s> not owned by account %s "
		         "(POP-before-SMTP) to=<%s>", s->id, s->ip, s->sender, s->account, r->addr);
		session_error_logged(s, 553, "5.7.1", "<%s>: Relay refused: sender <%s> not owned by your account %s",
		              r->addr, s->sender, s->account);
	} else if (!r->hosted) {
		log_info("smtp[%llu] ip=%s: reject RCPT: 554 5.7.1 relay access denied from=<%s> to=<%s>",
		         s->id, s->ip, s->sender, r->addr);
		session_error_logged(s, 554, "5.7.1", "<%s>: Relay access denied", r->addr);
	} else if (!r->exists) {
		log_info("smtp[%llu] ip=%s: reject RCPT: 550 5.1.1 no such mailbox from=<%s> to=<%s>",
		         s->id, s->ip, s->sender, r->addr);
		session_error_logged(s, 550, "5.1.1", "<%s>: Recipient address rejected: no such mailbox", r->addr);
	} else if (s->in_tx) {
		if (add_rcpt(s, r->addr, 1) == 0)
			session_reply(s, 250, "2.1.5", "Ok");
	}
out:
	free(r);
}

static void lower(char *p)
{
	for (; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void cmd_rcpt(struct smtp_session *s, const char *arg)
{
	struct smtp_rcpt_args ra;
	struct rcpt_lookup *r;
	int code;
	const char *enh, *why;

	if (!s->in_tx) {
		session_error(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (smtp_parse_rcpt(arg, &ra, &code, &enh, &why) < 0) {
		session_error(s, code, enh, "%s", why);
		return;
	}
	if (ra.to.utf8 && !s->mail.smtputf8) {
		session_error(s, 553, "5.6.7", "UTF-8 address requires SMTPUTF8 on MAIL");
		return;
	}
	if (s->nrcpt >= (size_t)(s->authorized ? s->lim_rcpt : s->srv->cfg->max_recipients)) {
		log_info("smtp[%llu] ip=%s: reject RCPT: 452 4.5.3 too many recipients (%zu) account=%s", s->id,
		         s->ip, s->nrcpt, s->authorized ? s->account : "-");
		session_reply(s, 452, "4.5.3", "Error: too many recipients (at most %zu per message)", s->nrcpt);
		return;
	}
	if (ra.to.domain[0] == '\0') /* <postmaster> means postmaster of this host */
		snprintf(ra.to.domain, sizeof ra.to.domain, "%s", s->srv->cfg->hostname);
	if (!(r = calloc(1, sizeof *r))) {
		session_reply(s, 452, "4.3.0", "Insufficient resources");
		return;
	}
	r->store = s->srv->store;
	if (s->authorized)
		snprintf(r->account, sizeof r->account, "%s", s->account);
	addr_format(&ra.to, r->addr, sizeof r->addr);
	if (ra.to.ip_literal) {
		/* We host no address literals: never a local recipient. */
		r->hosted = r->exists = 0;
		rcpt_lookup_done(s, r);
		return;
	}
	snprintf(r->local, sizeof r->local, "%s", ra.to.local);
	snprintf(r->domain, sizeof r->domain, "%s", ra.to.domain);
	lower(r->local);
	lower(r->domain);
	if (session_job(s, rcpt_lookup_work, rcpt_lookup_done, r) < 0) {
		free(r);
		session_reply(s, 451, "4.3.0", "Temporary failure, try again");
	}
}

static void cmd_data(struct smtp_session *s, const char *arg)
{
	if (!no_arg(s, arg))
		return;
	if (!s->in_tx) {
		session_error(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->nrcpt == 0) {
		session_error(s, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	if (s->used_bdat) {
		session_error(s, 503, "5.5.1", "Error: DATA after BDAT");
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
		/* RFC 2920 3.1: DATA ends a pipelined group; content must wait for 354. */
		log_warn("smtp[%llu] ip=%s: reject DATA: 554 5.5.0 message content sent before 354 account=%s",
		         s->id, s->ip, s->authorized ? s->account : "-");
		session_reply(s, 554, "5.5.0", "Error: SMTP protocol synchronization (data sent before 354)");
		session_close_after_reply(s);
		return;
	}
	txn_start_data(s);
}

static void cmd_bdat(struct smtp_session *s, const char *arg)
{
	uint64_t size;
	int last;

	if (smtp_parse_bdat(arg, &size, &last) < 0) {
		/* We cannot know how many bytes follow: the session is unusable. */
		session_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		session_close_after_reply(s);
		return;
	}
	txn_start_bdat(s, size, last);
}

static void cmd_rset(struct smtp_session *s, const char *arg)
{
	if (!no_arg(s, arg))
		return;
	txn_reset(s);
	session_reply(s, 250, "2.0.0", "Ok");
}

static void cmd_noop(struct smtp_session *s, const char *arg)
{
	(void)arg;
	session_reply(s, 250, "2.0.0", "Ok");
}

static void cmd_quit(struct smtp_session *s, const char *arg)
{
	(void)arg;
	session_reply(s, 221, "2.0.0", "Bye");
	session_close_after_reply(s);
}

static void cmd_vrfy(struct smtp_session *s, const char *arg)
{
	(void)arg; /* never confirm or deny: no address enumeration */
	session_reply(s, 252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_session *s, const char *arg)
{
	(void)arg;
	session_error(s, 502, "5.5.1", "Error: EXPN not supported");
}

static void cmd_help(struct smtp_session *s, const char *arg)
{
	(void)arg;
	session_reply(s, 214, "2.0.0",
	              "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\n"
	              "See RFC 5321");
}

static const cmd_handler handlers[SMTP_VERB_COUNT] = {
	[SMTP_VERB_HELO] = cmd_helo,
	[SMTP_VERB_EHLO] = cmd_ehlo,
	[SMTP_VERB_MAIL] = cmd_mail,
	[SMTP_VERB_RCPT] = cmd_rcpt,
	[SMTP_VERB_DATA] = cmd_data,
	[SMTP_VERB_BDAT] = cmd_bdat,
	[SMTP_VERB_RSET] = cmd_rset,
	[SMTP_VERB_NOOP] = cmd_noop,
	[SMTP_VERB_QUIT] = cmd_quit,
	[SMTP_VERB_VRFY] = cmd_vrfy,
	[SMTP_VERB_EXPN] = cmd_expn,
	[SMTP_VERB_HELP] = cmd_help,
	[SMTP_VERB_STARTTLS] = cmd_starttls,
	[SMTP_VERB_AUTH] = cmd_auth,
};

void smtp_dispatch(struct smtp_session *s, char *line, size_t len)
{
	struct smtp_cmd cmd;

	if (smtp_parse_cmd(line, len, &cmd) < 0 || cmd.verb == SMTP_VERB_UNKNOWN ||
	    !handlers[cmd.verb]) {
		session_error(s, 500, "5.5.2", "Error: command not recognized");
		return;
	}
	handlers[cmd.verb](s, cmd.arg);
}
