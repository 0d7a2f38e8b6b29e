/*
 * smtp_txn: the message part of a transaction. DATA is decoded
 * (dot-unstuffed, CRLF.CRLF only) and BDAT chunks copied as they arrive,
 * both streamed into the queue's spool file, never held whole in memory:
 * the loop collects SMTP_SPOOL_FLUSH bytes, a worker writes them while the
 * session's input waits (and the socket keeps filling the input buffer).
 * At the end the commit (the last bytes, fsync, rename, fsync dir) runs
 * on a worker and only then is 250 sent. The budget reserved at RCPT
 * goes with the commit: kept if the message is queued, given back by the
 * same worker job if not.
 */
#include "delivery/quota.h"
#include "smtp/smtp_session_int.h"
#include "metrics/metrics.h"
#include "queue/queue.h"
#include "queue/runner.h"
#include "util/log.h"
#include "tls/tls.h"
#include "policy/header_from.h"
#include "smtp/smtp_dkim.h"
#include "smtp/submit_fixup.h"
#include "smtp/smtp_commit.h"
#include "smtp/smtp_milter.h"
#include <event2/buffer.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void tx_free(struct smtp_tx *tx)
{
	if (!tx)
		return;
	if (tx->spool)
		spool_abort(tx->spool);
	buf_free(&tx->wbuf);
	buf_free(&tx->hdr);
	free(tx->rcpts);
	free(tx);
}

static void tx_fail(struct smtp_tx *tx, int err)
{
	if (!tx->write_failed) {
		tx->write_failed = 1;
		tx->write_errno = err;
	}
}

static void spool_received(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	char date[64], line[1024];
	time_t now = time(NULL);
	struct tm tm;
	char proto[16], tlsinfo[200] = "";
	SSL *ssl = conn_ssl(s->c);
	int n;

	/* RFC 3848 protocol names: ESMTP, ESMTPS (TLS), ESMTPSA (TLS + AUTH);
	 * with SMTPUTF8, RFC 6531 3.7.4's UTF8SMTP, UTF8SMTPS, UTF8SMTPSA */
	snprintf(proto, sizeof proto, "%s%s%s%s", tx->mail.smtputf8 ? "UTF8" : "",
	         tx->mail.smtputf8 ? "SMTP" : s->esmtp ? "ESMTP" : "SMTP",
	         conn_tls(s->c) ? "S" : "", s->auth == POLICY_SMTP_AUTH ? "A" : "");
	if (ssl) {
		char d[160];
		tls_describe(ssl, d, sizeof d);
		snprintf(tlsinfo, sizeof tlsinfo, "\r\n\t(using %s)", d);
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	n = snprintf(line, sizeof line, "Received: from %s ([%s])%s\r\n\tby %s (hostmail) with %s id %s%s%s%s;\r\n\t%s\r\n",
	             s->helo, s->ip, tlsinfo, s->cfg->hostname, proto, spool_id(tx->spool),
	             tx->nrcpt == 1 ? "\r\n\tfor <" : "", tx->nrcpt == 1 ? tx->rcpts[0].addr : "",
	             tx->nrcpt == 1 ? ">" : "", date);
	if (n > 0 && (size_t)n < sizeof line && buf_append(&tx->wbuf, line, (size_t)n) < 0)
		tx_fail(tx, ENOMEM);
}

static int open_spool(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;

	tx->spool = spool_begin(s->srv->queue_dir);
	if (!tx->spool) {
		int e = errno;
		log_warn("smtp[%llu] ip=%s: cannot create queue file: %s", s->id, s->ip, strerror(e));
		errno = e;
		return -1;
	}
	tx->data_bytes = 0;
	tx->too_big = tx->write_failed = 0;
	buf_init(&tx->hdr, SMTP_HDR_MAX + SUBMIT_FIXUP_ROOM);
	buf_init(&tx->wbuf, 0);
	eol_norm_init(&tx->eol);
	/* the From: check (relaying) and the submission fix-ups read the header */
	tx->submission = s->auth != POLICY_ANON;
	tx->hdr_done = !tx->relay && !tx->submission;
	tx->fixup_done = !tx->submission;
	line_limit_init(&tx->lines);
	spool_received(s);
	tx->received_len = tx->wbuf.len;
	return 0;
}

/* Message data from now on: its idle time is [smtp] data_timeout. */
static void data_mode(struct smtp_session *s, enum smtp_mode mode)
{
	s->mode = mode;
	conn_set_idle(s->c, mode == MODE_CMD ? s->cfg->smtp_timeout : s->cfg->smtp_data_timeout);
}

void txn_start_data(struct smtp_session *s)
{
	if (open_spool(s) < 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			session_reply(s, 452, "4.3.1", "Insufficient system storage");
		else
			session_reply(s, 451, "4.3.0", "Error: local error in processing");
		return;
	}
	data_decoder_init(&s->tx->dec);
	data_mode(s, MODE_DATA);
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* Insert add (n bytes) at offset at of b. 0 or -1. */
static int buf_insert(struct buf *b, size_t at, const char *add, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, add, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* RFC 6409 8: the Date: and Message-ID: a submitted message lacks, added
 * at the end of its header section (submit_fixup.c). Runs once, as soon
 * as the header section is complete (or at the end of the message); until
 * then nothing of the message has been written (txn_flush waits), so the
 * whole header is still in wbuf, after our Received: line. Anything that
 * reads the whole message at the commit (DKIM signing) comes after it. */
static void txn_submit_fixup(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	const char *msg = tx->hdr.data ? tx->hdr.data : "";
	long end = submit_header_end(msg, tx->hdr.len);
	struct buf add;
	int need;

	tx->fixup_done = 1;
	if (tx->too_big || tx->write_failed)
		return;
	if (end < 0 && tx->hdr_overflow) {
		log_info("smtp[%llu] ip=%s: header section over %d bytes: no Date:/Message-ID: check",
		         s->id, s->ip, SMTP_HDR_MAX);
		return;
	}
	if (end < 0)                     /* no body: the header is the whole message */
		end = (long)tx->hdr.len;
	if (end > 0 && msg[end - 1] != '\n')
		return;                      /* a message ending inside a line: leave it */
	if (!(need = submit_fixup_missing(msg, (size_t)end)))
		return;
	buf_init(&add, 0);
	if (submit_fixup_lines(&add, need, time(NULL), spool_id(tx->spool), s->cfg->hostname) < 0 ||
	    buf_insert(&tx->wbuf, tx->received_len + (size_t)end, add.data, add.len) < 0 ||
	    buf_insert(&tx->hdr, (size_t)end, add.data, add.len) < 0)
		tx_fail(tx, ENOMEM);
	else
		log_info("smtp[%llu] ip=%s: added%s%s", s->id, s->ip,
		         (need & SUBMIT_NEED_DATE) ? " Date:" : "", (need & SUBMIT_NEED_MSGID) ? " Message-ID:" : "");
	buf_free(&add);
}

/* Keep the header section (up to SMTP_HDR_MAX) for the From: check. */
static void capture_header(struct smtp_tx *tx, const char *p, size_t n)
{
	size_t room = SMTP_HDR_MAX - tx->hdr.len, take = n < room ? n : room;
	const char *d;

	if (take && buf_append(&tx->hdr, p, take) < 0) {
		tx->hdr_done = tx->hdr_overflow = 1;
		return;
	}
	d = tx->hdr.data;
	if (d && (strstr(d, "\r\n\r\n") || d[0] == '\r'))
		tx->hdr_done = 1;    /* the blank line that ends the header section */
	else if (tx->hdr.len >= SMTP_HDR_MAX)
		tx->hdr_done = tx->hdr_overflow = 1;
}

static void txn_write(struct smtp_tx *tx, const char *p, size_t n)
{
	if (!tx->hdr_done)
		capture_header(tx, p, n);
	if (n && buf_append(&tx->wbuf, p, n) < 0)
		tx_fail(tx, ENOMEM);
	if (tx->submission)
		line_limit_feed(&tx->lines, p, n);
}

struct flush_job {
	struct spool *spool;
	struct buf b;
	int ok, err;
};

static void flush_work(void *p)
{
	struct flush_job *f = p;

	f->ok = spool_write(f->spool, f->b.data, f->b.len) == 0;
	f->err = errno;
}

static void flush_done(void *st, void *p)
{
	struct smtp_session *s = st;
	struct flush_job *f = p;

	if (s && s->tx && !f->ok)
		tx_fail(s->tx, f->err);
	buf_free(&f->b);
	free(f);
}

/* Enough collected: a worker writes it; the session waits (busy) meanwhile.
 * Nothing else touches the spool until the job is done. */
static void txn_flush(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	struct flush_job *f;

	if (tx->wbuf.len < SMTP_SPOOL_FLUSH || !tx->spool || tx->write_failed || tx->too_big)
		return;
	if (!tx->fixup_done)
		return;   /* the header may still grow: kept whole (bounded by SMTP_HDR_MAX) */
	if (!(f = calloc(1, sizeof *f))) {
		tx_fail(tx, ENOMEM);
		return;
	}
	f->spool = tx->spool;
	f->b = tx->wbuf;
	buf_init(&tx->wbuf, 0);
	if (session_job(s, s->srv->workers, flush_work, flush_done, f) < 0) {
		buf_free(&f->b);
		free(f);
		tx_fail(tx, ENOMEM);
	}
}

/* n message bytes as sent (at most SMTP_CHUNK + 2): counted against the
 * size limit, line ends normalized straight into the spool buffer (room
 * for a whole flush is taken at once: no realloc copies as it fills). */
static void txn_store(struct smtp_session *s, const char *p, size_t n)
{
	const size_t room = SMTP_SPOOL_FLUSH + SMTP_NORM_MAX; /* a flush and one chunk */
	struct smtp_tx *tx = s->tx;
	char *out;
	size_t k;

	tx->data_bytes += n;
	if (tx->too_big || tx->write_failed)
		return;
	if (tx->data_bytes > s->cfg->message_size) {
		tx->too_big = 1;
		return;
	}
	if (buf_reserve(&tx->wbuf, tx->wbuf.len < SMTP_SPOOL_FLUSH ? room - tx->wbuf.len : SMTP_NORM_MAX) < 0) {
		tx_fail(tx, ENOMEM);
		return;
	}
	out = tx->wbuf.data + tx->wbuf.len;
	k = eol_norm_feed(&tx->eol, p, n, out);   /* at most 2n + 1 bytes */
	if (!tx->hdr_done)
		capture_header(tx, out, k);
	if (tx->submission)
		line_limit_feed(&tx->lines, out, k);
	tx->wbuf.len += k;
	tx->wbuf.data[tx->wbuf.len] = '\0';
	if (tx->hdr_done && !tx->fixup_done)
		txn_submit_fixup(s);
}


/* After DATA, the quotas (docs/quotas.md): when the message fits no
 * recipient's mailbox (all of them hosted and full), it is refused
 * whole; when only some are full, it is taken and those recipients get
 * a bounce (or, with quota_full = temporary, wait in the queue). */
static int commit_quota_step(struct commit_job *c)
{
	if (c->env.nrcpt == 0)
		return 0;
	for (size_t i = 0; i < c->env.nrcpt; i++)
		if (!c->env.rcpt[i].local ||
		    quota_check(c->srv->store, c->data_dir, c->env.rcpt[i].addr, c->data_bytes) != QUOTA_FULL)
			return 0;
	spool_abort(c->spool);
	c->quota_full = 1;
	return -1;
}

/* The DKIM step (smtp_dkim.h): the message is whole, nothing changes it
 * after this; 0, or -1 when the store could not give the keys (the
 * client gets 451 and tries again: a message leaves signed or not at all). */
static int commit_dkim_step(struct commit_job *c)
{
	char err[200] = "";

	if (!c->dkim_domain[0])
		return 0;
	c->dkim_rc = smtp_dkim_sign_spool(c->srv->store, c->spool, c->dkim_domain, c->dkim_info,
	                                  sizeof c->dkim_info, err, sizeof err);
	if (c->dkim_rc != SMTP_DKIM_SIGNED)
		snprintf(c->dkim_info, sizeof c->dkim_info, "%s", err);
	if (c->dkim_rc != SMTP_DKIM_ESTORE)
		return 0;
	spool_abort(c->spool);
	c->err = EAGAIN;
	return -1;
}

void txn_commit_work(void *p)
{
	struct commit_job *c = p;

	if (c->tail.len && spool_write(c->spool, c->tail.data, c->tail.len) < 0) {
		c->err = errno;
		spool_abort(c->spool);
	} else if (commit_quota_step(c) == 0 && smtp_milter_apply(c) == 0 && commit_dkim_step(c) == 0) {
		c->ok = spool_commit(c->spool, &c->env) == 0;
		c->err = errno;
	}
	/* Not queued (the client gets 4xx): what it reserved is free again. */
	if (!c->ok) {
		budget_give_now(c->budget);
		c->budget = NULL;
	}
}

void txn_commit_done(void *st, void *p)
{
	struct smtp_session *s = st;
	struct commit_job *c = p;

	if (c->dkim_rc == SMTP_DKIM_SIGNED)
		log_info("%s: dkim signed d=%s s=%s", c->env.id, c->dkim_domain, c->dkim_info);
	else if (c->dkim_rc == SMTP_DKIM_NOKEY)   /* a domain without keys: by choice, or not yet */
		log_info("smtp[%llu] ip=%s: not DKIM-signed: %s", c->sid, c->env.client_ip, c->dkim_info);
	else if (c->dkim_domain[0])
		log_warn("smtp[%llu] ip=%s: not DKIM-signed: %s", c->sid, c->env.client_ip, c->dkim_info);
	metrics_observe(c->srv->metrics, M_SMTP_REPLY_SECONDS, "DATA", NULL, metrics_since(&c->started));
	if (c->ok) {
		metrics_inc(c->srv->metrics, M_MESSAGES_ACCEPTED, c->listener, NULL);
		metrics_inc(c->srv->metrics, M_MESSAGES_QUEUED, NULL, NULL);
		char from[LOG_VALUE_MAX(sizeof c->env.sender)];

		log_info("%s: queued from=%s size=%llu nrcpt=%zu ip=%s smtp[%llu]%s", c->env.id,
		         log_addr(c->env.sender, from, sizeof from), (unsigned long long)c->env.size,
		         c->env.nrcpt, c->env.client_ip, c->sid, s ? "" : " (client gone before reply)");
		runner_schedule(c->srv->runner, c->env.id);
		if (s)
			session_reply(s, 250, "2.0.0", "Ok: queued as %s", c->env.id);
	} else if (c->quota_full) {
		log_info("smtp[%llu] ip=%s: reject DATA: %s mailbox full nrcpt=%zu size=%llu", c->sid, c->env.client_ip,
		         c->quota_temp ? "452 4.2.2" : "552 5.2.2", c->env.nrcpt, (unsigned long long)c->data_bytes);
		if (s && c->quota_temp)
			session_reply(s, 452, "4.2.2", "Mailbox full, try again later");
		else if (s)
			session_reply(s, 552, "5.2.2", "Mailbox full");
	} else {
		log_warn("smtp[%llu] ip=%s: queue commit failed: %s", c->sid, c->env.client_ip, strerror(c->err));
		if (s && (c->err == ENOSPC || c->err == EDQUOT))
			session_reply(s, 452, "4.3.1", "Insufficient system storage");
		else if (s)
			session_reply(s, 451, "4.3.0", "Error: local error in processing");
	}
	budget_free(c->budget);
	buf_free(&c->tail);
	envelope_free(&c->env);
	free(c);
}

/* Sender affiliation, header part: every From: address in the account's domains. */
static int from_not_owned(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	char doms[HDR_FROM_MAX][256];
	struct policy_client cl;
	struct policy_verdict v;
	int n = header_from_domains(tx->hdr.data ? tx->hdr.data : "", tx->hdr.len, doms, HDR_FROM_MAX);

	session_policy_client(s, &cl);
	if (policy_header_from(&cl, (const char (*)[POLICY_DOMAIN_MAX])doms, n, tx->hdr_overflow, SMTP_HDR_MAX,
	                       &v) == 0)
		return 0;
	session_verdict(s, &v);
	return 1;
}

/* The reply for a message that cannot be taken, or 0. */
static int refuse_message(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;

	if (tx->too_big) {
		char from[LOG_VALUE_MAX(sizeof tx->sender)];

		log_info("smtp[%llu] ip=%s%s%s: reject DATA: 552 5.3.4 message size %llu over limit from=%s"
		         " reply=\"552 5.3.4 Message size exceeds fixed limit of %llu bytes\"", s->id, s->ip,
		         LOG_ACCOUNT(s), (unsigned long long)tx->data_bytes, log_addr(tx->sender, from, sizeof from),
		         (unsigned long long)s->cfg->message_size);
		metrics_inc(s->srv->metrics, M_MESSAGES_REFUSED, "5xx", "size");
		session_reply(s, 552, "5.3.4", "Message size exceeds fixed limit of %llu bytes",
		              (unsigned long long)s->cfg->message_size);
		return 1;
	}
	if (tx->submission && line_limit_exceeded(&tx->lines)) {
		/* RFC 5321 4.5.3.1.6: we could not relay it as it is; say so now,
		 * while the client can still fix it, rather than bounce it later */
		char from[LOG_VALUE_MAX(sizeof tx->sender)];

		log_info("smtp[%llu] ip=%s%s%s: reject DATA: 554 5.6.0 line of %zu octets (limit %d) from=%s",
		         s->id, s->ip, LOG_ACCOUNT(s),
		         tx->lines.longest > tx->lines.cur ? tx->lines.longest : tx->lines.cur,
		         LINE_LIMIT_MAX, log_addr(tx->sender, from, sizeof from));
		session_reply(s, 554, "5.6.0", "Message has a line longer than %d octets (RFC 5322 2.1.1); "
		              "wrap it or send it encoded (quoted-printable or base64)", LINE_LIMIT_MAX);
		return 1;
	}
	if (tx->write_failed) {
		log_warn("smtp[%llu] ip=%s: queue write failed: %s", s->id, s->ip, strerror(tx->write_errno));
		if (tx->write_errno == ENOSPC || tx->write_errno == EDQUOT)
			session_reply(s, 452, "4.3.1", "Insufficient system storage");
		else
			session_reply(s, 451, "4.3.0", "Error: local error in processing");
		return 1;
	}
	return tx->relay && from_not_owned(s);
}

/* The domain a message is signed as: its From: domain (the first, if
 * several) when the transaction is the account's own (tx->relay: AUTH or
 * a POP-before-SMTP grant used with the account's sender; not other
 * senders behind a granted IP) and the account owns it; else "". */
static void dkim_domain_of(struct smtp_session *s, char *out, size_t outlen)
{
	struct smtp_tx *tx = s->tx;
	char doms[HDR_FROM_MAX][256];
	struct policy_client cl;
	int n;

	out[0] = '\0';
	if (!s->cfg->dkim_sign || !tx->relay || tx->hdr_overflow)
		return;
	n = header_from_domains(tx->hdr.data ? tx->hdr.data : "", tx->hdr.len, doms, HDR_FROM_MAX);
	session_policy_client(s, &cl);
	if (n >= 1 && policy_owns_domain(&cl, doms[0]))
		snprintf(out, outlen, "%s", doms[0]);
}

/* The envelope of the transaction for the commit job. 0 or -1. */
static int make_envelope(struct smtp_session *s, struct envelope *env)
{
	struct smtp_tx *tx = s->tx;

	if (!(env->rcpt = calloc(tx->nrcpt, sizeof *env->rcpt)))
		return -1;
	env->arrival = time(NULL);
	snprintf(env->sender, sizeof env->sender, "%s", tx->sender);
	snprintf(env->client_ip, sizeof env->client_ip, "%s", s->ip);
	snprintf(env->helo, sizeof env->helo, "%s", s->helo);
	snprintf(env->account, sizeof env->account, "%s", tx->relay ? s->account : "");
	env->nrcpt = tx->nrcpt;
	for (size_t i = 0; i < tx->nrcpt; i++) {
		snprintf(env->rcpt[i].addr, sizeof env->rcpt[i].addr, "%s", tx->rcpts[i].addr);
		env->rcpt[i].local = tx->rcpts[i].local;
	}
	return 0;
}

static void txn_finish(struct smtp_session *s)
{
	struct smtp_tx *tx = s->tx;
	struct commit_job *c;
	char end[2];             /* a CR held back at the end becomes CRLF */

	data_mode(s, MODE_CMD);
	if (!tx->too_big && !tx->write_failed)
		txn_write(tx, end, eol_norm_finish(&tx->eol, end));
	/* The message is complete. Submissions: the RFC 6409 fix-ups first
	 * (txn_submit_fixup, usually done already when the header ended);
	 * anything that signs or reads the whole message (DKIM) goes after
	 * this, so that it covers the Date: and Message-ID: added here. */
	if (!tx->fixup_done)
		txn_submit_fixup(s);
	if (tx->eol.fixed)
		log_info("smtp[%llu] ip=%s: normalized %lu bare CR/LF line end(s) to CRLF", s->id, s->ip, tx->eol.fixed);
	if (refuse_message(s)) {
		tx_end(s);
		return;
	}
	if (!(c = calloc(1, sizeof *c)) || make_envelope(s, &c->env) < 0) {
		free(c);
		session_reply(s, 451, "4.3.0", "Error: out of memory");
		tx_end(s);
		return;
	}
	c->srv = s->srv;
	c->sid = s->id;
	c->listener = metrics_listener_name(s->kind);
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->spool = tx->spool;
	tx->spool = NULL; /* the job owns it now, and the bytes not written yet */
	c->tail = tx->wbuf;
	buf_init(&tx->wbuf, 0);
	c->budget = budget_take(s->srv->store, s->account, tx);
	snprintf(c->data_dir, sizeof c->data_dir, "%s", s->cfg->data_dir);
	c->data_bytes = tx->data_bytes;
	c->quota_temp = s->cfg->quota_full_temporary;
	dkim_domain_of(s, c->dkim_domain, sizeof c->dkim_domain);
	c->milter_wanted = smtp_milter_wanted(s);
	tx_end(s);
	if (c->milter_wanted ? smtp_milter_start(s, c) < 0
	                     : session_job(s, s->srv->workers, txn_commit_work, txn_commit_done, c) < 0) {
		budget_give_later(s->srv->workers, c->budget);
		spool_abort(c->spool);
		buf_free(&c->tail);
		envelope_free(&c->env);
		free(c);
		session_reply(s, 451, "4.3.0", "Error: local error in processing");
	}
}

int txn_data_step(struct smtp_session *s, struct evbuffer *in)
{
	struct smtp_tx *tx = s->tx;
	struct evbuffer_iovec v;
	size_t n, used, outlen;
	int done = 0;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	n = v.iov_len < SMTP_CHUNK ? v.iov_len : SMTP_CHUNK;
	used = data_decoder_feed(&tx->dec, v.iov_base, n, s->dbuf, &outlen, &done);
	txn_store(s, s->dbuf, outlen);
	evbuffer_drain(in, used);
	conn_progress(s->c);
	if (done)
		txn_finish(s);
	else
		txn_flush(s);
	return 1;
}

void txn_start_bdat(struct smtp_session *s, uint64_t size, int last)
{
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_discard = 0;
	s->bdat_text = NULL;
	if (!s->tx) {
		s->bdat_discard = 503;
		s->bdat_text = "Error: need MAIL command";
	} else if (s->tx->nrcpt == 0) {
		s->bdat_discard = 554;
		s->bdat_text = "Error: no valid recipients";
	} else if (!s->tx->spool && open_spool(s) < 0) {
		int full = errno == ENOSPC || errno == EDQUOT;
		s->bdat_discard = full ? 452 : 451;
		s->bdat_text = full ? "Insufficient system storage" : "Error: local error in processing";
	}
	if (s->tx)
		s->tx->used_bdat = 1;
	data_mode(s, MODE_BDAT);
}

static void bdat_chunk_end(struct smtp_session *s)
{
	data_mode(s, MODE_CMD);
	if (s->bdat_discard) {
		int code = s->bdat_discard;
		const char *enh = code == 451 ? "4.3.0" : code == 452 ? "4.3.1" : "5.5.1";
		if (code == 451 || code == 452)
			session_reply(s, code, enh, "%s", s->bdat_text);
		else
			session_error(s, code, enh, "%s", s->bdat_text);
		tx_end(s);
		return;
	}
	if (s->bdat_last) {
		txn_finish(s);
		return;
	}
	if (s->tx->too_big || s->tx->write_failed)
		session_reply(s, 250, "2.0.0", "%llu octets received, message will be refused",
		              (unsigned long long)s->tx->data_bytes);
	else
		session_reply(s, 250, "2.0.0", "%llu octets received", (unsigned long long)s->tx->data_bytes);
}

int txn_bdat_step(struct smtp_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t n;

	if (s->bdat_left == 0) {
		bdat_chunk_end(s);
		return 1;
	}
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	n = v.iov_len < SMTP_CHUNK ? v.iov_len : SMTP_CHUNK;
	if (n > s->bdat_left)
		n = (size_t)s->bdat_left;
	if (!s->bdat_discard)
		txn_store(s, v.iov_base, n);
	evbuffer_drain(in, n);
	conn_progress(s->c);
	s->bdat_left -= n;
	if (s->bdat_left == 0)
		bdat_chunk_end(s);
	else if (!s->bdat_discard)
		txn_flush(s);
	return 1;
}
