/*
 * smtp_cmds: the SMTP command table and its handlers (RFC 5321 4.1).
 * Each handler validates sequence and syntax, asks the policy
 * (policy/smtp_policy) what to answer, replies, and changes session
 * state; RCPT's mailbox lookup and budget reservation run on a worker
 * (the store blocks). A transaction (struct smtp_tx) is made by an
 * accepted MAIL and ended by RSET, HELO/EHLO, STARTTLS, the end of its
 * message or of the session; the budget it reserved and did not commit is
 * given back then (smtp_budget.c).
 */
#include "smtp/smtp_session_int.h"
#include "store/store.h"
#include "store/store_rate.h"
#include "routing/route_store.h"
#include "delivery/quota.h"
#include "metrics/metrics.h"
#include "util/log.h"
#include <ctype.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

typedef void (*cmd_handler)(struct smtp_session *s, const char *arg);

void tx_end(struct smtp_session *s)
{
	if (s->tx && s->tx->nreserved)
		budget_give_later(s->srv->workers, budget_take(s->srv->store, s->account, s->tx));
	tx_free(s->tx);
	s->tx = NULL;
	s->mode = MODE_CMD;
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
	int tls = conn_tls(s->c);

	if (smtp_parse_helo(arg, name, sizeof name) < 0) {
		session_error(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return;
	}
	tx_end(s);
	snprintf(s->helo, sizeof s->helo, "%s", name);
	s->helo_seen = 1;
	s->esmtp = esmtp;
	if (!esmtp) {
		session_reply(s, 250, NULL, "%s", s->cfg->hostname);
		return;
	}
	session_reply(s, 250, NULL,
	              "%s\nPIPELINING\nSIZE %llu\n8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8\nCHUNKING%s%s\nHELP",
	              s->cfg->hostname, (unsigned long long)s->cfg->message_size,
	              !tls && s->srv->tls ? "\nSTARTTLS" : "",
	              tls && s->auth != POLICY_SMTP_AUTH ? "\nAUTH PLAIN LOGIN" : "");
}

static void cmd_helo(struct smtp_session *s, const char *arg) { cmd_helo_common(s, arg, 0); }
static void cmd_ehlo(struct smtp_session *s, const char *arg) { cmd_helo_common(s, arg, 1); }

/* The facts of a MAIL command for the policy (the disk is asked here). */
static void mail_facts(struct smtp_session *s, const struct smtp_mail_args *ma, const char *sender,
                       struct policy_mail *m)
{
	struct statvfs v;

	memset(m, 0, sizeof *m);
	m->sender = sender;
	m->domain = ma->from.null ? "" : ma->from.domain;
	m->declared_size = ma->has_size ? ma->size : 0;
	m->size_limit = s->cfg->message_size;
	m->disk_min_free = s->cfg->min_free_space;
	/* cannot tell: the write itself will report ENOSPC */
	if (statvfs(s->srv->queue_dir, &v) == 0) {
		m->disk_known = 1;
		m->disk_avail = (uint64_t)v.f_bavail * v.f_frsize;
	}
}

static void cmd_mail(struct smtp_session *s, const char *arg)
{
	struct smtp_mail_args ma;
	struct policy_client cl;
	struct policy_mail m;
	struct policy_verdict v;
	char sender[SMTP_ADDR_MAX];
	int code, relay;
	const char *enh, *why;

	if (!s->helo_seen) {
		session_error(s, 503, "5.5.1", "Error: send HELO/EHLO first");
		return;
	}
	if (s->tx) {
		session_error(s, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	session_policy_client(s, &cl);
	if (cl.submission && cl.auth == POLICY_ANON) {     /* before the syntax: say what is needed */
		memset(&m, 0, sizeof m);
		m.sender = m.domain = "";
		policy_mail(&cl, &m, &relay, &v);
		session_verdict(s, &v);
		return;
	}
	if (smtp_parse_mail(arg, &ma, &code, &enh, &why) < 0) {
		session_error(s, code, enh, "%s", why);
		return;
	}
	if (ma.body == SMTP_BODY_BINARYMIME) {
		session_error(s, 555, "5.5.4", "BODY=BINARYMIME is not supported");
		return;
	}
	if (ma.from.utf8 && !ma.smtputf8) {
		session_error(s, 553, "5.6.7", "UTF-8 address requires the SMTPUTF8 parameter");
		return;
	}
	addr_format(&ma.from, sender, sizeof sender);
	mail_facts(s, &ma, sender, &m);
	if (policy_mail(&cl, &m, &relay, &v) != 0) {
		session_verdict(s, &v);
		return;
	}
	if (!(s->tx = calloc(1, sizeof *s->tx))) {
		session_reply(s, 452, "4.3.0", "Insufficient resources");
		return;
	}
	session_verdict(s, &v);            /* an accepted MAIL may have a line to log */
	s->tx->relay = relay;
	s->tx->mail = ma;
	memcpy(s->tx->sender, sender, sizeof sender);
	session_reply(s, 250, "2.1.0", "Ok");
}

struct rcpt_lookup {
	struct store *store;
	struct workers *pool;              /* to give back a reservation no one took */
	struct policy_client cl;           /* plain data; strings point into the session */
	int relay;
	char local[ADDR_LOCAL_MAX * 2 + 3];
	char domain[ADDR_DOMAIN_MAX + 1];
	char addr[SMTP_ADDR_MAX];
	char account[64];
	int literal;                       /* an address literal: hosted nowhere here */
	int hosted, exists, failed;
	const struct srs *srs;             /* routing: aliases, roles, catch-all, SRS */
	int srs_refused;
	char refusal[600];
	int budget_asked, reserve_rc;      /* rate_reserve's answer, if asked */
	time_t reserved_at;
	struct rate_use use;
	struct metrics *metrics;
	struct timespec started;           /* the command's arrival: its reply's latency */
	char data_dir[512];                /* the mailbox quota (delivery/quota.h) */
	uint64_t size;                     /* MAIL's SIZE=, 0 if none */
	int quota;                         /* quota_check's answer for a hosted mailbox */
};

/* The lookup, then (if it would be accepted but for the budget) one
 * recipient reserved in the same worker job: checked and counted in one
 * step, so no other session of the account can take it meanwhile. */
static void rcpt_lookup_work(void *p)
{
	struct rcpt_lookup *r = p;

	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!r->literal) {
		r->failed = store_rcpt_lookup(r->store, r->local, r->domain, &r->hosted, &r->exists) != 0;
		if (!r->failed) {
			int rc = route_rcpt(r->store, r->srs, r->local, r->domain, &r->hosted, &r->exists, r->refusal,
			                    sizeof r->refusal);
			r->failed = rc < 0;
			r->srs_refused = rc == 1;
		}
		metrics_observe(r->metrics, M_STORE_SECONDS, "rcpt_lookup", NULL, metrics_since(&t0));
		if (!r->failed && r->hosted && r->exists)
			r->quota = quota_check(r->store, r->data_dir, r->addr, r->size);
	}
	if (policy_rcpt_needs_budget(&r->cl, r->relay, r->failed, r->hosted, r->exists)) {
		r->budget_asked = 1;
		r->reserved_at = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r->reserve_rc = rate_reserve(r->store, r->account, r->reserved_at, 1, r->cl.lim.per_hour,
		                             r->cl.lim.per_day, &r->use);
		metrics_observe(r->metrics, M_STORE_SECONDS, "rate_reserve", NULL, metrics_since(&t0));
	}
}

static int add_rcpt(struct smtp_session *s, const char *addr, int local, time_t reserved_at)
{
	struct smtp_tx *tx = s->tx;

	if (tx->nrcpt == tx->rcpt_cap) {
		size_t ncap = tx->rcpt_cap ? tx->rcpt_cap * 2 : 4;
		struct smtp_rcpt *n = realloc(tx->rcpts, ncap * sizeof *n);
		if (!n) {
			session_reply(s, 452, "4.3.0", "Insufficient resources");
			return -1;
		}
		tx->rcpts = n;
		tx->rcpt_cap = ncap;
	}
	snprintf(tx->rcpts[tx->nrcpt].addr, sizeof tx->rcpts[0].addr, "%s", addr);
	tx->rcpts[tx->nrcpt].local = local;
	tx->rcpts[tx->nrcpt].reserved_at = reserved_at;
	if (reserved_at)
		tx->nreserved++;
	tx->nrcpt++;
	return 0;
}

/* A hosted mailbox over its quota (docs/quotas.md): refused at RCPT
 * when MAIL's SIZE says the message will not fit, or when the mailbox is
 * already full (nothing fits). */
static void rcpt_quota_full(struct smtp_session *s, struct rcpt_lookup *r)
{
	int temp = s->cfg->quota_full_temporary;
	char to[LOG_VALUE_MAX(sizeof r->addr)];

	log_info("smtp[%llu] ip=%s: reject RCPT: %s mailbox full to=%s size=%llu", s->id, s->ip,
	         temp ? "452 4.2.2" : "552 5.2.2", log_addr(r->addr, to, sizeof to), (unsigned long long)r->size);
	if (temp)
		session_reply(s, 452, "4.2.2", "Mailbox full, try again later");
	else
		session_reply(s, 552, "5.2.2", "Mailbox full");
}

static void rcpt_lookup_done(void *st, void *p)
{
	struct smtp_session *s = st;
	struct rcpt_lookup *r = p;
	struct policy_rcpt pr;
	struct policy_verdict v;
	int reserved;

	memset(&pr, 0, sizeof pr);
	metrics_observe(r->metrics, M_SMTP_REPLY_SECONDS, "RCPT", NULL, metrics_since(&r->started));
	pr.budget = policy_budget_reserved(r->budget_asked, r->reserve_rc);
	reserved = pr.budget == BUDGET_RESERVED;
	if (!s || !s->tx)
		goto unused;
	if (r->srs_refused) {
		char why[LOG_VALUE_MAX(sizeof r->refusal)];

		log_info("smtp[%llu] ip=%s: reject RCPT: 550 5.7.1 reason=%s", s->id, s->ip,
		         log_value(r->refusal, strlen(r->refusal), why, sizeof why));
		session_error(s, 550, "5.7.1", "%s", r->refusal);
		goto unused;
	}
	pr.addr = r->addr;
	pr.sender = s->tx->sender;
	pr.lookup_failed = r->failed;
	pr.hosted = r->hosted;
	pr.exists = r->exists;
	pr.use = &r->use;                  /* refused: the counts as they were */
	session_verdict(s, (policy_rcpt(&r->cl, r->relay, &pr, &v), &v));
	if (v.code == 0 && r->quota == QUOTA_FULL) {
		rcpt_quota_full(s, r);
		goto unused;
	}
	if (v.code == 0 && add_rcpt(s, r->addr, r->hosted, reserved ? r->reserved_at : 0) == 0) {
		session_reply(s, 250, "2.1.5", "Ok");
		goto out;
	}
unused:
	if (reserved)
		budget_give_later(r->pool, budget_one(r->store, r->account, r->reserved_at));
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
	struct policy_verdict v;
	int code;
	const char *enh, *why;

	if (!s->tx) {
		session_error(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (smtp_parse_rcpt(arg, &ra, &code, &enh, &why) < 0) {
		session_error(s, code, enh, "%s", why);
		return;
	}
	if (ra.to.utf8 && !s->tx->mail.smtputf8) {
		session_error(s, 553, "5.6.7", "UTF-8 address requires SMTPUTF8 on MAIL");
		return;
	}
	if (!(r = calloc(1, sizeof *r))) {
		session_reply(s, 452, "4.3.0", "Insufficient resources");
		return;
	}
	session_policy_client(s, &r->cl);
	r->relay = s->tx->relay;
	if (policy_rcpt_count(&r->cl, r->relay, s->tx->nrcpt, &v) != 0) {
		session_verdict(s, &v);
		free(r);
		return;
	}
	if (ra.to.domain[0] == '\0') /* <postmaster> means postmaster of this host */
		snprintf(ra.to.domain, sizeof ra.to.domain, "%s", s->cfg->hostname);
	r->store = s->srv->store;
	r->srs = s->srv->srs;
	r->pool = s->srv->workers;
	r->metrics = s->srv->metrics;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	snprintf(r->account, sizeof r->account, "%s", s->account);
	snprintf(r->data_dir, sizeof r->data_dir, "%s", s->cfg->data_dir);
	r->size = s->tx->mail.has_size ? s->tx->mail.size : 0;
	addr_format(&ra.to, r->addr, sizeof r->addr);
	if (ra.to.ip_literal) {
		/* We host no address literals: never a local recipient. */
		r->literal = 1;
	}
	snprintf(r->local, sizeof r->local, "%s", ra.to.local);
	snprintf(r->domain, sizeof r->domain, "%s", ra.to.domain);
	lower(r->local);
	lower(r->domain);
	if (session_job(s, s->srv->workers, rcpt_lookup_work, rcpt_lookup_done, r) < 0) {
		free(r);
		session_reply(s, 451, "4.3.0", "Temporary failure, try again");
	}
}

static void cmd_data(struct smtp_session *s, const char *arg)
{
	if (!no_arg(s, arg))
		return;
	if (!s->tx) {
		session_error(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->tx->nrcpt == 0) {
		session_error(s, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	if (s->tx->used_bdat) {
		session_error(s, 503, "5.5.1", "Error: DATA after BDAT");
		return;
	}
	if (evbuffer_get_length(conn_input(s->c)) > 0) {
		/* RFC 2920 3.1: DATA ends a pipelined group; content must wait for 354. */
		log_warn("smtp[%llu] ip=%s: reject DATA: 554 5.5.0 message content sent before 354 account=%s",
		         s->id, s->ip, s->auth ? s->account : "-");
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
	tx_end(s);
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
