/*
 * smtp_txn: the message part of a transaction. DATA is decoded
 * (dot-unstuffed, CRLF.CRLF only) and BDAT chunks copied as they arrive,
 * both streamed into the queue's spool file, never held whole in memory:
 * the loop collects SMTP_SPOOL_FLUSH bytes, a worker writes them while the
 * session's input waits (and the socket keeps filling the input buffer).
 * At the end the commit (the last bytes, fsync, rename, fsync dir) runs
 * on a worker and only then is 250 sent.
 */
#include "smtp/smtp_session_int.h"
#include "queue/queue.h"
#include "queue/runner.h"
#include "util/log.h"
#include "tls/tls.h"
#include "policy/header_from.h"
#include "policy/rate.h"
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void spool_received(struct smtp_session *s)
{
	char date[64], line[1024];
	time_t now = time(NULL);
	struct tm tm;
	char proto[16], tlsinfo[200] = "";
	int n;

	/* RFC 3848 protocol names: ESMTP, ESMTPS (TLS), ESMTPSA (TLS + AUTH), UTF8... */
	snprintf(proto, sizeof proto, "%s%s%s%s", s->mail.smtputf8 ? "UTF8" : "", s->esmtp ? "ESMTP" : "SMTP",
	         s->tls ? "S" : "", s->authenticated ? "A" : "");
	if (s->tls) {
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
		char d[160];
		if (ssl) {
			tls_describe(ssl, d, sizeof d);
			snprintf(tlsinfo, sizeof tlsinfo, "\r\n\t(using %s)", d);
		}
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	n = snprintf(line, sizeof line, "Received: from %s ([%s])%s\r\n\tby %s (hostmail) with %s id %s%s%s%s;\r\n\t%s\r\n",
	             s->helo, s->ip, tlsinfo, s->srv->cfg->hostname, proto, spool_id(s->spool),
	             s->nrcpt == 1 ? "\r\n\tfor <" : "", s->nrcpt == 1 ? s->rcpts[0].addr : "",
	             s->nrcpt == 1 ? ">" : "", date);
	if (n > 0 && (size_t)n < sizeof line && buf_append(&s->wbuf, line, (size_t)n) < 0) {
		s->write_failed = 1;
		s->write_errno = ENOMEM;
	}
}

static int open_spool(struct smtp_session *s)
{
	s->spool = spool_begin(s->srv->queue_dir);
	if (!s->spool) {
		int e = errno;
		log_warn("smtp[%llu] ip=%s: cannot create queue file: %s", s->id, s->ip, strerror(e));
		errno = e;
		return -1;
	}
	s->data_bytes = 0;
	s->too_big = s->write_failed = 0;
	buf_reset(&s->hdr);
	s->hdr_overflow = 0;
	eol_norm_init(&s->eol);
	s->hdr_done = !s->authorized; /* only authorized senders get the From: check */
	spool_received(s);
	return 0;
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
	data_decoder_init(&s->dec);
	s->mode = MODE_DATA;
	session_set_timeout(s, s->srv->cfg->smtp_data_timeout);
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* Account for and store n message bytes; past the limit, keep reading but store nothing. */
/* Keep the header section (up to SMTP_HDR_MAX) for the From: check. */
static void capture_header(struct smtp_session *s, const char *p, size_t n)
{
	size_t room = SMTP_HDR_MAX - s->hdr.len, take = n < room ? n : room;
	const char *d;

	if (take && buf_append(&s->hdr, p, take) < 0) {
		s->hdr_done = s->hdr_overflow = 1;
		return;
	}
	d = s->hdr.data;
	if (d && (strstr(d, "\r\n\r\n") || d[0] == '\r'))
		s->hdr_done = 1;    /* the blank line that ends the header section */
	else if (s->hdr.len >= SMTP_HDR_MAX)
		s->hdr_done = s->hdr_overflow = 1;
}

static void txn_write(struct smtp_session *s, const char *p, size_t n)
{
	if (!s->hdr_done)
		capture_header(s, p, n);
	if (n && buf_append(&s->wbuf, p, n) < 0) {
		s->write_failed = 1;
		s->write_errno = ENOMEM;
	}
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

static void flush_done(struct smtp_session *s, void *p)
{
	struct flush_job *f = p;

	if (s && !f->ok && !s->write_failed) {
		s->write_failed = 1;
		s->write_errno = f->err;
	}
	buf_free(&f->b);
	free(f);
}

/* Enough collected: a worker writes it; the session waits (busy) meanwhile.
 * Nothing else touches the spool until the job is done. */
static void txn_flush(struct smtp_session *s)
{
	struct flush_job *f;

	if (s->wbuf.len < SMTP_SPOOL_FLUSH || !s->spool || s->write_failed || s->too_big)
		return;
	if (!(f = calloc(1, sizeof *f))) {
		s->write_failed = 1;
		s->write_errno = ENOMEM;
		return;
	}
	f->spool = s->spool;
	f->b = s->wbuf;
	buf_init(&s->wbuf, 0);
	if (session_job(s, flush_work, flush_done, f) < 0) {
		buf_free(&f->b);
		free(f);
		s->write_failed = 1;
		s->write_errno = ENOMEM;
	}
}

/* n message bytes as sent (at most SMTP_CHUNK + 2): counted against the
 * size limit, line ends normalized straight into the spool buffer (room
 * for a whole flush is taken at once: no realloc copies as it fills). */
static void txn_store(struct smtp_session *s, const char *p, size_t n)
{
	const size_t room = SMTP_SPOOL_FLUSH + SMTP_NORM_MAX; /* a flush and one chunk */
	char *out;
	size_t k;

	s->data_bytes += n;
	if (s->too_big || s->write_failed)
		return;
	if (s->data_bytes > s->srv->cfg->message_size) {
		s->too_big = 1;
		return;
	}
	if (buf_reserve(&s->wbuf, s->wbuf.len < SMTP_SPOOL_FLUSH ? room - s->wbuf.len : SMTP_NORM_MAX) < 0) {
		s->write_failed = 1;
		s->write_errno = ENOMEM;
		return;
	}
	out = s->wbuf.data + s->wbuf.len;
	k = eol_norm_feed(&s->eol, p, n, out);   /* at most 2n + 1 bytes */
	if (!s->hdr_done)
		capture_header(s, out, k);
	s->wbuf.len += k;
	s->wbuf.data[s->wbuf.len] = '\0';
}

struct commit_job {
	struct server *srv;
	struct spool *spool;
	struct buf tail;         /* message bytes not written yet */
	struct envelope env;
	unsigned long long sid;
	int ok, err;
};

static void commit_work(void *p)
{
	struct commit_job *c = p;

	if (c->tail.len && spool_write(c->spool, c->tail.data, c->tail.len) < 0) {
		c->err = errno;
		spool_abort(c->spool);
		return;
	}
	c->ok = spool_commit(c->spool, &c->env) == 0;
	c->err = errno;
	/* The budget counts what was accepted; a failure to count is logged, not fatal. */
	if (c->ok && c->env.account[0] &&
	    rate_add(c->srv->store, c->env.account, time(NULL), (int)c->env.nrcpt) != 0)
		log_warn("%s: cannot count %zu recipients for account %s", c->env.id, c->env.nrcpt, c->env.account);
}

static void commit_done(struct smtp_session *s, void *p)
{
	struct commit_job *c = p;

	if (c->ok) {
		log_info("%s: queued from=<%s> size=%llu nrcpt=%zu ip=%s smtp[%llu]%s", c->env.id,
		         c->env.sender, (unsigned long long)c->env.size, c->env.nrcpt, c->env.client_ip,
		         c->sid, s ? "" : " (client gone before reply)");
		runner_schedule(c->srv->runner, c->env.id);
		if (s)
			session_reply(s, 250, "2.0.0", "Ok: queued as %s", c->env.id);
	} else {
		log_warn("smtp[%llu] ip=%s: queue commit failed: %s", c->sid, c->env.client_ip, strerror(c->err));
		if (s && (c->err == ENOSPC || c->err == EDQUOT))
			session_reply(s, 452, "4.3.1", "Insufficient system storage");
		else if (s)
			session_reply(s, 451, "4.3.0", "Error: local error in processing");
	}
	buf_free(&c->tail);
	envelope_free(&c->env);
	free(c);
}

/* Sender affiliation, header part: every From: address in the account's domains. */
static int from_not_owned(struct smtp_session *s)
{
	char doms[HDR_FROM_MAX][256];
	int n = header_from_domains(s->hdr.data ? s->hdr.data : "", s->hdr.len, doms, HDR_FROM_MAX), i;

	if (s->hdr_overflow) {
		/* a From: could hide past what we keep: refuse rather than guess */
		log_warn("smtp[%llu] ip=%s: reject DATA: 550 5.7.1 header section over %d bytes account=%s user=%s",
		         s->id, s->ip, SMTP_HDR_MAX, s->account, s->auth_user);
		session_reply(s, 550, "5.7.1", "Header section too large (over %d bytes) for the sender check",
		              SMTP_HDR_MAX);
		return 1;
	}
	if (n < 0) {
		log_warn("smtp[%llu] ip=%s: reject DATA: 550 5.7.1 unparsable From: header account=%s user=%s",
		         s->id, s->ip, s->account, s->auth_user);
		session_reply(s, 550, "5.7.1", "Header From: address is not valid");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!session_owns_domain(s, doms[i])) {
			log_warn("smtp[%llu] ip=%s: reject DATA: 550 5.7.1 header From domain %s not owned by account %s user=%s",
			         s->id, s->ip, doms[i], s->account, s->auth_user);
			session_reply(s, 550, "5.7.1", "Header From: address in %s not owned by your account %s",
			              doms[i], s->account);
			return 1;
		}
	}
	return 0;
}

static void txn_finish(struct smtp_session *s)
{
	struct commit_job *c;
	char end[2];             /* a CR held back at the end becomes CRLF */
	size_t i;

	s->mode = MODE_CMD;
	session_set_timeout(s, s->srv->cfg->smtp_timeout);
	if (!s->too_big && !s->write_failed)
		txn_write(s, end, eol_norm_finish(&s->eol, end));
	if (s->eol.fixed)
		log_info("smtp[%llu] ip=%s: normalized %lu bare CR/LF line end(s) to CRLF", s->id, s->ip, s->eol.fixed);
	if (s->too_big) {
		log_info("smtp[%llu] ip=%s%s%s: reject DATA: 552 5.3.4 message size %llu over limit from=<%s>",
		         s->id, s->ip, LOG_ACCOUNT(s),
		         (unsigned long long)s->data_bytes, s->sender);
		session_reply(s, 552, "5.3.4", "Message size exceeds fixed limit of %llu bytes",
		              (unsigned long long)s->srv->cfg->message_size);
		txn_reset(s);
		return;
	}
	if (s->write_failed) {
		log_warn("smtp[%llu] ip=%s: queue write failed: %s", s->id, s->ip, strerror(s->write_errno));
		if (s->write_errno == ENOSPC || s->write_errno == EDQUOT)
			session_reply(s, 452, "4.3.1", "Insufficient system storage");
		else
			session_reply(s, 451, "4.3.0", "Error: local error in processing");
		txn_reset(s);
		return;
	}
	if (s->authorized && from_not_owned(s)) {
		txn_reset(s);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c)
		c->env.rcpt = calloc(s->nrcpt, sizeof *c->env.rcpt);
	if (!c || !c->env.rcpt) {
		if (c)
			free(c);
		session_reply(s, 451, "4.3.0", "Error: out of memory");
		txn_reset(s);
		return;
	}
	c->srv = s->srv;
	c->sid = s->id;
	c->env.arrival = time(NULL);
	snprintf(c->env.sender, sizeof c->env.sender, "%s", s->sender);
	snprintf(c->env.client_ip, sizeof c->env.client_ip, "%s", s->ip);
	snprintf(c->env.helo, sizeof c->env.helo, "%s", s->helo);
	snprintf(c->env.account, sizeof c->env.account, "%s", s->authorized ? s->account : "");
	c->env.nrcpt = s->nrcpt;
	for (i = 0; i < s->nrcpt; i++) {
		snprintf(c->env.rcpt[i].addr, sizeof c->env.rcpt[i].addr, "%s", s->rcpts[i].addr);
		c->env.rcpt[i].local = s->rcpts[i].local;
	}
	c->spool = s->spool;
	s->spool = NULL; /* the job owns it now, and the bytes not written yet */
	c->tail = s->wbuf;
	buf_init(&s->wbuf, 0);
	txn_reset(s);
	if (session_job(s, commit_work, commit_done, c) < 0) {
		spool_abort(c->spool);
		buf_free(&c->tail);
		envelope_free(&c->env);
		free(c);
		session_reply(s, 451, "4.3.0", "Error: local error in processing");
	}
}

int txn_data_step(struct smtp_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t n, used, outlen;
	int done = 0;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	n = v.iov_len < SMTP_CHUNK ? v.iov_len : SMTP_CHUNK;
	used = data_decoder_feed(&s->dec, v.iov_base, n, s->dbuf, &outlen, &done);
	txn_store(s, s->dbuf, outlen);
	evbuffer_drain(in, used);
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
	s->bdat_code_enh = NULL;
	if (!s->in_tx) {
		s->bdat_discard = 503;
		s->bdat_code_enh = "Error: need MAIL command";
	} else if (s->nrcpt == 0) {
		s->bdat_discard = 554;
		s->bdat_code_enh = "Error: no valid recipients";
	} else if (!s->spool && open_spool(s) < 0) {
		int full = errno == ENOSPC || errno == EDQUOT;
		s->bdat_discard = full ? 452 : 451;
		s->bdat_code_enh = full ? "Insufficient system storage" : "Error: local error in processing";
	}
	s->used_bdat = 1;
	s->mode = MODE_BDAT;
	session_set_timeout(s, s->srv->cfg->smtp_data_timeout);
}

static void bdat_chunk_end(struct smtp_session *s)
{
	uint64_t got = s->data_bytes;

	s->mode = MODE_CMD;
	session_set_timeout(s, s->srv->cfg->smtp_timeout);
	if (s->bdat_discard) {
		const char *enh = s->bdat_discard == 451 ? "4.3.0" : s->bdat_discard == 452 ? "4.3.1" : "5.5.1";
		if (s->bdat_discard == 451 || s->bdat_discard == 452)
			session_reply(s, s->bdat_discard, enh, "%s", s->bdat_code_enh);
		else
			session_error(s, s->bdat_discard, enh, "%s", s->bdat_code_enh);
		if (s->in_tx)
			txn_reset(s);
		return;
	}
	if (s->bdat_last) {
		txn_finish(s);
		return;
	}
	if (s->too_big || s->write_failed)
		session_reply(s, 250, "2.0.0", "%llu octets received, message will be refused",
		              (unsigned long long)got);
	else
		session_reply(s, 250, "2.0.0", "%llu octets received", (unsigned long long)got);
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
	s->bdat_left -= n;
	if (s->bdat_left == 0)
		bdat_chunk_end(s);
	else
		txn_flush(s);
	return 1;
}
