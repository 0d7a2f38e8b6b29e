/*
 * lmtp_server: the LMTP session (lmtp_server.h). One transaction at a
 * time: LHLO, MAIL, RCPT..., DATA, then one reply per accepted recipient.
 * RCPT looks the mailbox's home up on a worker; the message is decoded
 * (dot-unstuffing, smtp/data_decode.h) into data_dir/cluster/tmp/ and
 * handed to a worker that checks the hop header (lmtp_proto.h) and writes
 * it to each Maildir. A recipient whose home is not this node (its
 * account moved meanwhile) gets 451 4.3.0 so the sending node looks the
 * home up again at its next try.
 *
 * Exactly once: see lmtp_deliver.c (a repeated hand-over is stored once).
 */
#include "cluster/lmtp_server.h"
#include "cluster/cluster.h"
#include "cluster/lmtp_deliver.h"
#include "queue/runner.h"
#include "daemon/conn.h"
#include "daemon/server.h"
#include "smtp/data_decode.h"
#include "smtp/smtp_parse.h"
#include "store/store.h"
#include "store/store_node.h"
#include "util/fsutil.h"
#include "util/log.h"
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LMTP_CHUNK 65536
#define LMTP_INPUT_HIGH (4 * LMTP_CHUNK)

struct lmtp_session {
	struct conn *c;
	struct server *srv;
	const struct config *cfg;
	unsigned long long id;
	int node;
	int lhlo, mail, in_data;
	char sender[600];
	struct lmtp_rcpt *rcpt;
	size_t nrcpt;
	struct data_decoder dec;
	int fd;                   /* the message being received, -1 */
	char tmp[800];
	uint64_t size;
	int too_big, write_err;
	unsigned seq;
	char line[SMTP_LINE_MAX];
	char *dbuf;
};

/* ---- replies ---- */

static void reply(struct lmtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct lmtp_session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 3)
		n = (int)sizeof line - 3;
	memcpy(line + n, "\r\n", 2);
	conn_write(s->c, line, (size_t)n + 2);
}

static void tx_reset(struct lmtp_session *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->tmp);
		s->fd = -1;
	}
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
	s->mail = s->in_data = 0;
	s->sender[0] = '\0';
	s->size = 0;
	s->too_big = s->write_err = 0;
}

/* ---- RCPT: the home of the mailbox, on a worker ---- */

struct rcpt_job {
	struct server *srv;
	int node;
	struct lmtp_rcpt r;
	int code;
	char text[700];
};

static void rcpt_work(void *arg)
{
	struct rcpt_job *j = arg;
	int home = 0, exists = 0, rc;

	rc = store_mailbox_home(j->srv->store, j->r.local, j->r.domain, &home, &exists);
	if (rc == STORE_EFAIL) {
		j->code = 451;
		snprintf(j->text, sizeof j->text, "4.3.0 account store unavailable, try again later");
	} else if (rc == STORE_ENOTFOUND || !exists) {
		j->code = 550;
		snprintf(j->text, sizeof j->text, "5.1.1 <%s>: no such mailbox", j->r.addr);
	} else if (home != j->node) {
		/* moved (or the sender's view of the store is stale): it will
		 * look the home up again before the next try */
		j->code = 451;
		snprintf(j->text, sizeof j->text, "4.3.0 <%s> is homed on node %d, not %d: try again", j->r.addr,
		         home, j->node);
	} else {
		j->code = 250;
		snprintf(j->text, sizeof j->text, "2.1.5 <%s> OK", j->r.addr);
	}
}

static void rcpt_done(void *st, void *arg)
{
	struct lmtp_session *s = st;
	struct rcpt_job *j = arg;
	struct lmtp_rcpt *n;

	if (s) {
		if (j->code == 250 && (n = realloc(s->rcpt, (s->nrcpt + 1) * sizeof *n))) {
			s->rcpt = n;
			s->rcpt[s->nrcpt++] = j->r;
		} else if (j->code == 250) {
			j->code = 451;
			snprintf(j->text, sizeof j->text, "4.3.0 out of memory");
		}
		if (j->code != 250)
			log_info("lmtp[%llu]: to=<%s>: refused: %d %s", s->id, j->r.addr, j->code, j->text);
		reply(s, "%d %s", j->code, j->text);
	}
	free(j);
}

/* ---- DATA: the Maildirs, on a worker (lmtp_deliver.c) ---- */

static void data_done(void *st, void *arg)
{
	struct lmtp_session *s = st;
	struct lmtp_delivery *j = arg;

	for (size_t i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].vacation_id[0] && j->runner)
			runner_schedule(j->runner, j->rcpt[i].vacation_id);
	if (s) {
		for (size_t i = 0; i < j->nrcpt; i++)
			reply(s, "%d %s", j->rcpt[i].code, j->rcpt[i].reply);
		conn_set_idle(s->c, s->cfg->smtp_timeout);
	}
	free(j->rcpt);
	free(j);
}

/* The final dot: every recipient's answer, one by one (RFC 2033 4.2). */
static void data_end(struct lmtp_session *s)
{
	struct lmtp_delivery *j;
	int bad = s->too_big ? 552 : s->write_err ? 451 : 0;

	/* not fsynced: nothing is answered before each Maildir's copy is */
	if (s->fd >= 0 && close(s->fd) < 0 && !bad)
		bad = 451;
	s->fd = -1;
	if (!bad && !(j = calloc(1, sizeof *j)))
		bad = 451;
	if (bad) {
		unlink(s->tmp);
		for (size_t i = 0; i < s->nrcpt; i++)
			reply(s, bad == 552 ? "552 5.3.4 <%s> message too big" : "451 4.3.0 <%s> local error in"
			      " processing", s->rcpt[i].addr);
		tx_reset(s);
		return;
	}
	snprintf(j->data_dir, sizeof j->data_dir, "%s", s->cfg->data_dir);
	memcpy(j->tmp, s->tmp, sizeof j->tmp);
	snprintf(j->sender, sizeof j->sender, "%s", s->sender);
	j->size = s->size;
	j->rcpt = s->rcpt;
	j->nrcpt = s->nrcpt;
	j->id = s->id;
	j->max_age = s->cfg->queue_max_age;
	j->store = s->srv->store;
	j->quota_warning = s->cfg->quota_warning;
	j->quota_temp = s->cfg->quota_full_temporary;
	snprintf(j->hostname, sizeof j->hostname, "%s", s->cfg->hostname);
	snprintf(j->queue_dir, sizeof j->queue_dir, "%s", s->srv->queue_dir);
	j->vacation_period = s->cfg->vacation_period;
	j->dkim_sign = s->cfg->dkim_sign;
	j->runner = s->srv->runner;
	s->rcpt = NULL;
	s->nrcpt = 0;
	tx_reset(s);
	if (conn_job(s->c, s->srv->workers, 1, lmtp_deliver, data_done, j) < 0) {
		unlink(j->tmp);
		for (size_t i = 0; i < j->nrcpt; i++)
			reply(s, "451 4.3.0 <%s> local error in processing", j->rcpt[i].addr);
		free(j->rcpt);
		free(j);
	}
}

static int data_step(struct lmtp_session *s)
{
	struct evbuffer *in = conn_input(s->c);
	struct evbuffer_iovec v;
	size_t n, used, outlen;
	int done = 0;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	n = v.iov_len < LMTP_CHUNK ? v.iov_len : LMTP_CHUNK;
	used = data_decoder_feed(&s->dec, v.iov_base, n, s->dbuf, &outlen, &done);
	if (s->size + outlen > s->cfg->message_size)
		s->too_big = 1;
	if (!s->too_big && !s->write_err && outlen && write_all(s->fd, s->dbuf, outlen) < 0)
		s->write_err = 1;
	s->size += outlen;
	evbuffer_drain(in, used);
	conn_progress(s->c);
	if (done) {
		s->in_data = 0;
		data_end(s);
	}
	return 1;
}

/* ---- commands ---- */

static void cmd_lhlo(struct lmtp_session *s, const char *arg)
{
	char helo[256];

	if (smtp_parse_helo(arg, helo, sizeof helo) < 0) {
		reply(s, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	tx_reset(s);
	s->lhlo = 1;
	reply(s, "250-%s", s->cfg->hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	reply(s, "250 SIZE %llu", (unsigned long long)s->cfg->message_size);
}

static void cmd_mail(struct lmtp_session *s, const char *arg)
{
	struct smtp_mail_args m;
	const char *enh, *why;
	int code;

	if (!s->lhlo) {
		reply(s, "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (s->mail) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (smtp_parse_mail(arg, &m, &code, &enh, &why) < 0) {
		reply(s, "%d %s %s", code, enh, why);
		return;
	}
	if (m.has_size && m.size > s->cfg->message_size) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (m.from.null)
		s->sender[0] = '\0';
	else
		snprintf(s->sender, sizeof s->sender, "%s@%s", m.from.local, m.from.domain);
	s->mail = 1;
	reply(s, "250 2.1.0 OK");
}

static void lower(char *p)
{
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

static void cmd_rcpt(struct lmtp_session *s, const char *arg)
{
	struct smtp_rcpt_args r;
	struct rcpt_job *j;
	const char *enh, *why;
	int code;

	if (!s->mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (smtp_parse_rcpt(arg, &r, &code, &enh, &why) < 0) {
		reply(s, "%d %s %s", code, enh, why);
		return;
	}
	if (s->nrcpt >= (size_t)s->cfg->max_recipients) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (!(j = calloc(1, sizeof *j))) {
		reply(s, "451 4.3.0 Error: local error in processing");
		return;
	}
	j->srv = s->srv;
	j->node = s->node;
	snprintf(j->r.local, sizeof j->r.local, "%s", r.to.local);
	snprintf(j->r.domain, sizeof j->r.domain, "%s", r.to.domain);
	lower(j->r.local);
	lower(j->r.domain);
	snprintf(j->r.addr, sizeof j->r.addr, "%s@%s", j->r.local, j->r.domain);
	if (!j->r.domain[0] || strchr(j->r.local, '/') || j->r.local[0] == '.') {
		reply(s, "550 5.1.1 <%s>: no such mailbox", j->r.addr);
		free(j);
		return;
	}
	if (conn_job(s->c, s->srv->workers, 1, rcpt_work, rcpt_done, j) < 0) {
		reply(s, "451 4.3.0 Error: local error in processing");
		free(j);
	}
}

static void cmd_data(struct lmtp_session *s)
{
	int fd;

	if (!s->mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->nrcpt == 0) {
		reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	snprintf(s->tmp, sizeof s->tmp, "%s/cluster/tmp/%llu.%u.%ld", s->cfg->data_dir, s->id, ++s->seq,
	         (long)getpid());
	if ((fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		log_warn("lmtp[%llu]: cannot make %s: %s", s->id, s->tmp, strerror(errno));
		reply(s, "451 4.3.0 Error: local error in processing");
		return;
	}
	s->fd = fd;
	s->size = 0;
	s->in_data = 1;
	data_decoder_init(&s->dec);
	conn_set_idle(s->c, s->cfg->smtp_data_timeout);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void cmd_rset(struct lmtp_session *s, const char *arg)
{
	(void)arg;
	tx_reset(s);
	reply(s, "250 2.0.0 OK");
}

static void cmd_noop(struct lmtp_session *s, const char *arg)
{
	(void)arg;
	reply(s, "250 2.0.0 OK");
}

static void cmd_quit(struct lmtp_session *s, const char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 Bye");
	conn_close(s->c);
}

static void cmd_data_verb(struct lmtp_session *s, const char *arg)
{
	(void)arg;
	cmd_data(s);
}

static void cmd_smtp_greeting(struct lmtp_session *s, const char *arg)
{
	(void)arg;
	reply(s, "500 5.5.1 Error: this is LMTP: use LHLO");
}

/* The commands (LHLO by name: smtp_parse_cmd knows SMTP's verbs only). */
static const struct {
	enum smtp_verb verb;
	void (*run)(struct lmtp_session *s, const char *arg);
} commands[] = {
	{ SMTP_VERB_MAIL, cmd_mail },
	{ SMTP_VERB_RCPT, cmd_rcpt },
	{ SMTP_VERB_DATA, cmd_data_verb },
	{ SMTP_VERB_RSET, cmd_rset },
	{ SMTP_VERB_NOOP, cmd_noop },
	{ SMTP_VERB_QUIT, cmd_quit },
	{ SMTP_VERB_HELO, cmd_smtp_greeting },
	{ SMTP_VERB_EHLO, cmd_smtp_greeting },
};

static void dispatch(struct lmtp_session *s, char *line, size_t len)
{
	struct smtp_cmd cmd;

	if (smtp_parse_cmd(line, len, &cmd) < 0) {
		reply(s, "500 5.5.2 Error: bad syntax");
		return;
	}
	if (!strncasecmp(line, "LHLO", 4) && (line[4] == ' ' || line[4] == '\0')) {
		cmd_lhlo(s, cmd.arg);
		return;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].verb == cmd.verb) {
			commands[i].run(s, cmd.arg);
			return;
		}
	reply(s, "502 5.5.2 Error: command not recognized");
}

static int cmd_step(struct lmtp_session *s)
{
	size_t len;

	switch (conn_getline(s->c, s->line, sizeof s->line, &len)) {
	case CONN_NOLINE:
		return 0;
	case CONN_LINE_LONG:
		reply(s, "500 5.5.6 Error: line too long");
		return 1;
	case CONN_LINE:
		break;
	}
	dispatch(s, s->line, len);
	return 1;
}

static void on_input(struct conn *c, void *st)
{
	struct lmtp_session *s = st;

	while (conn_ready(c))
		if (!(s->in_data ? data_step(s) : cmd_step(s)))
			break;
}

static void on_timeout(struct conn *c, void *st)
{
	struct lmtp_session *s = st;

	reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
	conn_close(c);
}

static void session_free(void *st)
{
	struct lmtp_session *s = st;

	tx_reset(s);
	free(s->dbuf);
	free(s);
}

static const struct conn_proto lmtp_proto = {
	.name = "lmtp",
	.input = on_input,
	.timeout = on_timeout,
	.free = session_free,
};

void lmtp_session_start(struct conn *c)
{
	struct lmtp_session *s = calloc(1, sizeof *s);
	struct server *srv = conn_server(c);

	if (!s || !srv->cluster || !(s->dbuf = malloc(LMTP_CHUNK + 2))) {
		free(s);
		conn_abort(c);
		return;
	}
	s->c = c;
	s->srv = srv;
	s->cfg = conn_cfg(c);
	s->id = conn_id(c);
	s->node = srv->cluster->node;
	s->fd = -1;
	conn_bind(c, &lmtp_proto, s);
	conn_set_input_max(c, LMTP_INPUT_HIGH, LMTP_CHUNK);
	conn_set_idle(c, s->cfg->smtp_timeout);
	reply(s, "220 %s LMTP hostmail node %d", s->cfg->hostname, s->node);
}

SSL *lmtp_new_ssl(struct server *srv)
{
	return srv->cluster ? SSL_new(srv->cluster->server) : NULL;
}

int lmtp_service_start(struct server *srv)
{
	return lmtp_spool_prepare(srv->cfg->data_dir, srv->cfg->queue_max_age);
}
