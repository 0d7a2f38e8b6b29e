/*
 * smtp_milter: filters before the reply to the end of data
 * (smtp_milter.h). Three steps, the client's connection held throughout
 * (conn_hold): on a worker, the last bytes are written and the header
 * section read back and parsed (prep); on the loop, the filters run
 * (milter_chain.c); then either the commit job (txn_commit_work, which
 * calls smtp_milter_apply before signing) or, for a message refused,
 * discarded or deferred, a worker job that removes the spool file and
 * gives the budget back. The reply is sent when the hold ends.
 */
#include "smtp/smtp_session_int.h"
#include "smtp/smtp_commit.h"
#include "smtp/smtp_milter.h"
#include "milter/milter_chain.h"
#include "milter/milter_codec.h"
#include "queue/queue.h"
#include "store/store.h"
#include "store/store_spam.h"
#include "util/config.h"
#include "util/log.h"
#include "util/workers.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HEAD_MAX (256 * 1024)   /* header section shown to filters; more is body */

struct smtp_milter {
	struct server *srv;
	struct commit_job *c;
	struct conn_job *hold;
	const struct config *cfg;       /* referenced */
	struct milter_spec specs[MILTER_MAX_FILTERS];
	int nspecs;
	char qid[QUEUE_ID_LEN + 1];
	char helo[256], ip[64], auth_user[SMTP_ADDR_MAX];
	const char **rcpts;
	/* prep */
	int fd, err;
	struct buf head;                /* the header section as received */
	size_t body_off;
	struct milter_hdr *hdrs;
	size_t nhdrs;
	struct milter_msg msg;
	/* the filters */
	struct milter_chain *chain;
	struct milter_outcome out;
	struct spam_verdict sv;
	int spam;
	enum spam_action domain_action;  /* the recipients' domains' choice (SPAM_DEFAULT: the provider's) */
	/* the end */
	int commit;                     /* 1: the commit job replies */
	int code;
	char enh[16], text[400];
	char applied[200];              /* what the commit applied, for the log */
};

static const char *role_filters(const struct config *cfg, int authorized)
{
	return authorized ? cfg->milter_outbound : cfg->milter_inbound;
}

int smtp_milter_wanted(const struct smtp_session *s)
{
	struct milter_spec sp[MILTER_MAX_FILTERS];

	return milter_spec_parse(role_filters(s->cfg, s->auth != POLICY_ANON), sp, MILTER_MAX_FILTERS) > 0;
}

static void milter_free(struct smtp_milter *m)
{
	if (m->fd >= 0)
		close(m->fd);
	milter_chain_free(m->chain);
	milter_outcome_free(&m->out);
	milter_hdrs_free(m->hdrs, m->nhdrs);
	buf_free(&m->head);
	free(m->rcpts);
	config_unref(m->cfg);
	free(m);
}

/* ---- the end: the reply, once the hold is over ---- */

static void session_done(void *st, void *arg)
{
	struct smtp_milter *m = arg;
	struct smtp_session *s = st;
	struct commit_job *c = m->c;

	if (m->applied[0])
		log_info("%s: milter applied %s", m->qid, m->applied);
	if (m->commit) {
		txn_commit_done(st, c);
	} else {
		if (s)
			session_reply(s, m->code, m->enh[0] ? m->enh : NULL, "%s", m->text);
		budget_free(c->budget);
		buf_free(&c->tail);
		envelope_free(&c->env);
		free(c);
	}
	milter_free(m);
}

/* ---- a message not queued: removed on a worker, then the reply ---- */

static void drop_work(void *arg)
{
	struct smtp_milter *m = arg;

	spool_abort(m->c->spool);
	m->c->spool = NULL;
	budget_give_now(m->c->budget);
	m->c->budget = NULL;
}

static void hold_over(void *arg)
{
	struct smtp_milter *m = arg;

	if (m->hold)
		conn_hold_end(m->hold);
	else
		session_done(NULL, m);
}

/* The reply "code enh text" (a filter's SMFIR_REPLYCODE, first line only,
 * control bytes dropped). */
static void set_reply(struct smtp_milter *m, const char *reply)
{
	const char *p = reply;
	size_t n = 0;

	m->code = milter_reply_code(reply);
	if (m->code < 0)
		m->code = 451;
	p += 3;
	while (*p == ' ' || *p == '-')
		p++;
	m->enh[0] = '\0';
	if (isdigit((unsigned char)p[0]) && p[1] == '.') {
		size_t k = strcspn(p, " \r\n");
		if (k < sizeof m->enh && (p[0] == '4' || p[0] == '5')) {
			memcpy(m->enh, p, k);
			m->enh[k] = '\0';
		}
		p += k;
		while (*p == ' ')
			p++;
	}
	for (; *p && *p != '\r' && *p != '\n' && n + 1 < sizeof m->text; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			m->text[n++] = *p;
	m->text[n] = '\0';
	if (!n)
		snprintf(m->text, sizeof m->text, "%s", m->code >= 500 ? "Message rejected" : "Try again later");
}

static void drop(struct smtp_milter *m, int code, const char *enh, const char *text)
{
	m->code = code;
	if (enh != m->enh)
		snprintf(m->enh, sizeof m->enh, "%s", enh ? enh : "");
	if (text != m->text)
		snprintf(m->text, sizeof m->text, "%s", text);
	if (workers_submit_urgent(m->srv->workers, drop_work, hold_over, m) < 0) {
		drop_work(m);      /* the pool is stopping: the loop does it */
		hold_over(m);
	}
}

/* ---- the filters ran ---- */

static void commit_done_loop(void *arg)
{
	hold_over(arg);
}

static void commit_work_wrap(void *arg)
{
	struct smtp_milter *m = arg;

	txn_commit_work(m->c);
}

static void chain_done(void *arg)
{
	struct smtp_milter *m = arg;
	struct milter_outcome *o = &m->out;

	switch (o->verdict) {
	case MILTER_REJECT:
	case MILTER_TEMPFAIL: {
		char reply[LOG_VALUE_MAX(sizeof o->reply)];
		log_info("%s: milter refused filter=%s reply=%s ip=%s", m->qid, o->filter,
		         log_value(o->reply, strlen(o->reply), reply, sizeof reply), m->ip);
		set_reply(m, o->reply);
		drop(m, m->code, m->enh, m->text);
		return;
	}
	case MILTER_DISCARD:
		log_info("%s: milter discarded filter=%s ip=%s", m->qid, o->filter, m->ip);
		drop(m, 250, "2.0.0", "Ok: discarded");
		return;
	default:
		break;
	}
	m->spam = milter_outcome_spam(o);
	m->sv = spam_decide(m->spam, m->domain_action, (enum spam_action)m->cfg->milter_spam_action);
	if (m->sv.refuse) {
		log_info("%s: milter spam refused ip=%s", m->qid, m->ip);
		drop(m, 550, "5.7.1", "Message refused as spam");
		return;
	}
	m->commit = 1;
	m->c->milter = m;
	if (workers_submit_urgent(m->srv->workers, commit_work_wrap, commit_done_loop, m) < 0) {
		m->commit = 0;
		m->c->milter = NULL;
		drop(m, 451, "4.3.0", "Error: local error in processing");
	}
}

/* ---- prep: the last bytes written, the header section read back ---- */

static int read_head(struct smtp_milter *m)
{
	uint64_t size = spool_size(m->c->spool);
	size_t want = size < HEAD_MAX ? (size_t)size : HEAD_MAX;

	if ((m->fd = spool_open_read(m->c->spool)) < 0 || buf_reserve(&m->head, want) < 0)
		return -1;
	while (m->head.len < want) {
		ssize_t n = pread(m->fd, m->head.data + m->head.len, want - m->head.len,
		                  (off_t)(QUEUE_MSG_OFFSET + m->head.len));
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		m->head.len += (size_t)n;
	}
	m->head.data[m->head.len] = '\0';
	return 0;
}

/* Where the body starts: after the fields and the blank line. A section
 * cut at HEAD_MAX loses its last (perhaps partial) field to the body. */
static void find_body(struct smtp_milter *m, uint64_t size)
{
	const char *h = m->head.data;
	size_t end = m->nhdrs ? m->hdrs[m->nhdrs - 1].off + m->hdrs[m->nhdrs - 1].len : 0;

	if (m->nhdrs && end == m->head.len && size > m->head.len) {
		end = m->hdrs[m->nhdrs - 1].off;
		free(m->hdrs[m->nhdrs - 1].name);
		free(m->hdrs[m->nhdrs - 1].value);
		m->nhdrs--;
	}
	if (end + 1 < m->head.len && h[end] == '\r' && h[end + 1] == '\n')
		end += 2;
	else if (end < m->head.len && h[end] == '\n')
		end += 1;
	m->body_off = end;
}

/* What the hosted domains of the recipients chose for spam (store_spam.h):
 * their one choice when they agree, else (or none hosted, or the store
 * failing) SPAM_DEFAULT: the provider's [milter] spam_action. Blocks. */
static enum spam_action domains_choice(const struct commit_job *c)
{
	enum spam_action agreed = SPAM_DEFAULT;
	int seen = 0;

	for (size_t i = 0; i < c->env.nrcpt; i++) {
		const char *at = strrchr(c->env.rcpt[i].addr, '@');
		char choice[STORE_SPAM_ACTION_MAX];
		enum spam_action a;

		if (!c->env.rcpt[i].local || !at)
			continue;
		if (store_domain_spam_action(c->srv->store, at + 1, choice, sizeof choice) != 0 ||
		    spam_action_parse(choice, 1, &a) < 0)
			a = SPAM_DEFAULT;
		if (seen && a != agreed)
			return SPAM_DEFAULT;
		agreed = a;
		seen = 1;
	}
	return agreed;
}

static void prep_work(void *arg)
{
	struct smtp_milter *m = arg;
	struct commit_job *c = m->c;
	long n;

	if (c->tail.len && spool_write(c->spool, c->tail.data, c->tail.len) < 0) {
		m->err = errno;
		return;
	}
	buf_free(&c->tail);
	buf_init(&c->tail, 0);
	if (read_head(m) < 0 ||
	    (n = milter_hdrs_parse(m->head.data, m->head.len, m->cfg->hostname, &m->hdrs)) < 0) {
		m->err = errno ? errno : ENOMEM;
		return;
	}
	m->nhdrs = (size_t)n;
	find_body(m, spool_size(c->spool));
	m->domain_action = domains_choice(c);
}

static void prep_done(void *arg)
{
	struct smtp_milter *m = arg;
	struct milter_msg *g = &m->msg;
	struct commit_job *c = m->c;

	if (m->err) {
		log_warn("%s: milter: cannot read the message: %s", m->qid, strerror(m->err));
		if (m->err == ENOSPC || m->err == EDQUOT)
			drop(m, 452, "4.3.1", "Insufficient system storage");
		else
			drop(m, 451, "4.3.0", "Error: local error in processing");
		return;
	}
	g->hostname = m->cfg->hostname;
	g->client_ip = m->ip;
	g->helo = m->helo;
	g->queue_id = m->qid;
	g->auth_user = m->auth_user;
	g->sender = c->env.sender;
	g->rcpts = m->rcpts;
	g->nrcpt = c->env.nrcpt;
	g->hdrs = m->hdrs;
	g->nhdrs = m->nhdrs;
	g->body_fd = m->fd;
	g->body_off = QUEUE_MSG_OFFSET + m->body_off;
	g->body_len = spool_size(c->spool) - m->body_off;
	m->chain = milter_chain_run(m->srv->base, m->srv->metrics, m->specs, m->nspecs, m->cfg->milter_timeout,
	                            m->cfg->milter_default_accept, m->qid, g, &m->out, chain_done, m);
	if (!m->chain)
		drop(m, 451, "4.3.0", "Error: local error in processing");
}

int smtp_milter_start(struct smtp_session *s, struct commit_job *c)
{
	struct smtp_milter *m = calloc(1, sizeof *m);

	if (!m)
		return -1;
	m->fd = -1;
	m->srv = s->srv;
	m->c = c;
	m->cfg = config_ref(s->cfg);
	buf_init(&m->head, HEAD_MAX + 1);
	snprintf(m->qid, sizeof m->qid, "%s", spool_id(c->spool));
	snprintf(m->helo, sizeof m->helo, "%s", s->helo);
	snprintf(m->ip, sizeof m->ip, "%s", s->ip);
	snprintf(m->auth_user, sizeof m->auth_user, "%s", s->auth != POLICY_ANON ? s->auth_user : "");
	m->nspecs = milter_spec_parse(role_filters(s->cfg, s->auth != POLICY_ANON), m->specs, MILTER_MAX_FILTERS);
	m->rcpts = calloc(c->env.nrcpt + 1, sizeof *m->rcpts);
	if (m->nspecs < 1 || !m->rcpts) {
		milter_free(m);
		return -1;
	}
	for (size_t i = 0; i < c->env.nrcpt; i++)
		m->rcpts[i] = c->env.rcpt[i].addr;
	if (workers_submit_urgent(s->srv->workers, prep_work, prep_done, m) < 0) {
		milter_free(m);
		return -1;
	}
	/* the client waits; the loop does not (a job done comes in a later turn) */
	m->hold = conn_hold(s->c, session_done, m);
	return 0;
}

/* ---- on the commit worker: the edits into the spool and envelope ---- */

/* addr without its angle brackets, into out. */
static void bare_addr(const char *a, char *out, size_t outlen)
{
	size_t n;

	while (*a == ' ' || *a == '<')
		a++;
	n = strcspn(a, ">");
	snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), a);
}

static int add_rcpt(struct commit_job *c, const char *addr)
{
	struct env_rcpt *r = realloc(c->env.rcpt, (c->env.nrcpt + 1) * sizeof *r);
	const char *at;
	char owner[64];

	if (!r)
		return -1;
	c->env.rcpt = r;
	r = &c->env.rcpt[c->env.nrcpt];
	memset(r, 0, sizeof *r);
	bare_addr(addr, r->addr, sizeof r->addr);
	at = strrchr(r->addr, '@');
	r->local = at && store_domain_owner(c->srv->store, at + 1, owner, sizeof owner) == 0;
	c->env.nrcpt++;
	return 0;
}

static void del_rcpt(struct commit_job *c, const char *addr)
{
	char a[SMTP_ADDR_MAX];

	bare_addr(addr, a, sizeof a);
	for (size_t i = 0; i < c->env.nrcpt; i++)
		if (!strcasecmp(c->env.rcpt[i].addr, a)) {
			memmove(&c->env.rcpt[i], &c->env.rcpt[i + 1], (c->env.nrcpt - i - 1) * sizeof c->env.rcpt[0]);
			c->env.nrcpt--;
			return;
		}
}

/* Recipient and sender changes. Counts into *added, *deleted. 0 or -1. */
static int envelope_edits(struct commit_job *c, const struct milter_outcome *o, int *added, int *deleted)
{
	for (int i = 0; i < o->nres; i++)
		for (size_t k = 0; o->res[i].verdict != MILTER_FAILED && k < o->res[i].nedits; k++) {
			const struct milter_edit *e = &o->res[i].edits[k];
			if (e->op == SMFIR_ADDRCPT || e->op == SMFIR_ADDRCPT_PAR) {
				if (add_rcpt(c, e->name) < 0)
					return -1;
				(*added)++;
			} else if (e->op == SMFIR_DELRCPT) {
				del_rcpt(c, e->name);
				(*deleted)++;
			} else if (e->op == SMFIR_CHGFROM)
				bare_addr(e->name, c->env.sender, sizeof c->env.sender);
		}
	return 0;
}

/* The body a filter gave, with CRLF line ends, after the new header. */
static int write_body(struct spool *sp, const struct buf *b)
{
	struct buf o;
	int rc;

	buf_init(&o, 0);
	for (size_t i = 0; i < b->len; i++) {
		const char *ch = b->data + i;
		if (*ch == '\n' && (i == 0 || b->data[i - 1] != '\r') ? buf_append(&o, "\r\n", 2) < 0
		                                                      : buf_append(&o, ch, 1) < 0) {
			buf_free(&o);
			errno = ENOMEM;
			return -1;
		}
	}
	rc = spool_write(sp, o.data ? o.data : "", o.len);
	buf_free(&o);
	return rc;
}

static const struct buf *replaced_body(const struct milter_outcome *o)
{
	const struct buf *b = NULL;

	for (int i = 0; i < o->nres; i++)
		if (o->res[i].verdict != MILTER_FAILED && o->res[i].body_replaced)
			b = &o->res[i].body;    /* the last filter's wins */
	return b;
}

/* A filter's SMFIR_QUARANTINE: the message is committed on hold (the
 * envelope's hold is written with the commit, docs/quarantine.md). */
static void quarantine(struct commit_job *c, const struct milter_outcome *o, const struct milter_spec *specs)
{
	for (int i = 0; i < o->nres; i++)
		if (o->res[i].verdict != MILTER_FAILED && o->res[i].quarantined) {
			snprintf(c->env.hold, sizeof c->env.hold, "milter %s: %s", specs[i].text,
			         o->res[i].quarantine[0] ? o->res[i].quarantine : "quarantined");
			return;
		}
}

int smtp_milter_apply(struct commit_job *c)
{
	struct smtp_milter *m = c->milter;
	const struct buf *body;
	struct buf nh;
	int changed, added = 0, deleted = 0, rc = 0;

	if (!m)
		return 0;
	buf_init(&nh, 0);
	body = replaced_body(&m->out);
	changed = milter_build_head(m->head.data, m->body_off, m->hdrs, m->nhdrs, &m->out, m->cfg->hostname, &m->sv,
	                            m->cfg->milter_spam_subject, &nh);
	if (changed < 0) {
		errno = ENOMEM;
		rc = -1;
	} else if (body) {
		rc = spool_replace_head(c->spool, nh.data, nh.len, spool_size(c->spool)) < 0 ||
		     write_body(c->spool, body) < 0 ? -1 : 0;
	} else if (changed) {
		rc = spool_replace_head(c->spool, nh.data, nh.len, m->body_off);
	}
	if (rc == 0 && envelope_edits(c, &m->out, &added, &deleted) < 0) {
		errno = ENOMEM;
		rc = -1;
	}
	if (rc == 0)
		quarantine(c, &m->out, m->specs);
	if (rc == 0 && c->env.nrcpt == 0) {
		errno = EINVAL;    /* every recipient deleted: nothing to queue */
		rc = -1;
	}
	buf_free(&nh);
	if (rc < 0) {
		c->err = errno;
		spool_abort(c->spool);
		c->spool = NULL;
		return -1;
	}
	snprintf(m->applied, sizeof m->applied, "headers=%s body=%s rcpt_added=%d rcpt_deleted=%d spam=%s%s%s%s",
	         changed ? "changed" : "kept", body ? "replaced" : "kept", added, deleted, m->spam ? "yes" : "no",
	         m->spam ? " spam_action=" : "",
	         m->spam ? spam_action_name(m->domain_action != SPAM_DEFAULT ? m->domain_action
	                                    : (enum spam_action)m->cfg->milter_spam_action) : "",
	         c->env.hold[0] ? " hold=yes" : "");
	return 0;
}
