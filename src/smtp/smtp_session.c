/*
 * smtp_session: one inbound SMTP session on a daemon/conn connection: its
 * state, the input loop (a command line at a time, bounded by
 * SMTP_LINE_MAX, or message data), the replies (queued in order, so
 * pipelined commands are answered in order) and its end. While a worker
 * job runs for the session, input stays buffered (up to SMTP_INPUT_HIGH).
 */
#include "smtp/smtp_session_int.h"
#include "metrics/metrics.h"
#include "smtp/reply.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void session_free(void *st)
{
	struct smtp_session *s = st;

	tx_end(s);
	free(s->domains);
	free(s->dbuf);
	free(s);
}

static void session_vreply(struct smtp_session *s, int code, const char *enh,
                           const char *fmt, va_list ap)
{
	struct buf text, out;

	buf_init(&text, 4096);
	buf_init(&out, 8192);
	if (buf_vprintf(&text, fmt, ap) < 0)
		buf_puts(&text, "(reply too long)");
	if (smtp_reply(&out, code, enh, "%s", text.data ? text.data : "") == 0)
		conn_write(s->c, out.data, out.len);
	buf_free(&text);
	buf_free(&out);
}

void session_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, code, enh, fmt, ap);
	va_end(ap);
}

void session_close_after_reply(struct smtp_session *s)
{
	conn_close(s->c);
}

/* Count a client error; too many end the session. */
static void count_error(struct smtp_session *s)
{
	if (++s->errors >= s->cfg->smtp_max_errors && conn_ready(s->c)) {
		log_warn("smtp[%llu] ip=%s%s%s: too many errors (%d), disconnecting", s->id, s->ip,
		         LOG_ACCOUNT(s), s->errors);
		session_reply(s, 421, "4.7.0", "%s Error: too many errors", s->cfg->hostname);
		session_close_after_reply(s);
	}
}

void session_error(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	char text[512], sent[560], safe[LOG_VALUE_MAX(sizeof sent)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* every refusal, one line with the IP (and account) and the reply as sent */
	snprintf(sent, sizeof sent, "%d %s %s", code, enh, text);
	log_info("smtp[%llu] ip=%s%s%s: refused: reply=%s", s->id, s->ip, LOG_ACCOUNT(s),
	         log_value(sent, strlen(sent), safe, sizeof safe));
	session_reply(s, code, enh, "%s", text);
	count_error(s);
}

void session_error_logged(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	session_vreply(s, code, enh, fmt, ap);
	va_end(ap);
	count_error(s);
}

void session_verdict(struct smtp_session *s, const struct policy_verdict *v)
{
	char sent[POLICY_TEXT_MAX + 32], reply[LOG_VALUE_MAX(sizeof sent) + 8] = "";

	/* a refusal's line carries the reply as the client got it */
	if (v->code >= 400) {
		snprintf(sent, sizeof sent, "%d %s %s", v->code, v->enh, v->text);
		memcpy(reply, " reply=", 8);
		log_value(sent, strlen(sent), reply + 7, sizeof reply - 7);
	}
	if (v->log[0] && v->warn)
		log_warn("smtp[%llu] ip=%s: %s%s", s->id, s->ip, v->log, reply);
	else if (v->log[0])
		log_info("smtp[%llu] ip=%s: %s%s", s->id, s->ip, v->log, reply);
	if (!v->code)
		return;
	if (v->code >= 400) {
		const char *why = metrics_refusal_reason(v->code, v->enh);

		metrics_inc(s->srv->metrics, M_MESSAGES_REFUSED, v->code >= 500 ? "5xx" : "4xx", why);
		if (strcmp(why, "budget") == 0)
			metrics_inc(s->srv->metrics, M_BUDGET_TRIPS, v->code == 450 ? "account" : "per_message", NULL);
	}
	if (v->client_error)
		session_error_logged(s, v->code, v->enh, "%s", v->text);
	else
		session_reply(s, v->code, v->enh, "%s", v->text);
}

void session_policy_client(const struct smtp_session *s, struct policy_client *cl)
{
	memset(cl, 0, sizeof *cl);
	cl->submission = s->kind != LISTEN_SMTP;
	cl->auth = s->auth;
	cl->account = s->account;
	cl->user = s->auth_user;
	cl->domains = (const char (*)[POLICY_DOMAIN_MAX])s->domains;
	cl->ndomains = s->ndomains;
	cl->lim = s->lim;
	cl->max_recipients = s->cfg->max_recipients;
}

/* One command line from input; 0 when no complete line is buffered. */
static int cmd_step(struct smtp_session *s)
{
	size_t len;
	int secret;

	switch (conn_getline(s->c, s->line, sizeof s->line, &len)) {
	case CONN_NOLINE:
		return 0;
	case CONN_LINE_LONG:
		session_error(s, 500, "5.5.6", "Error: line too long");
		return 1;
	case CONN_LINE:
		break;
	}
	/* a line that carries credentials is wiped once read (memory dumps) */
	secret = s->mode == MODE_AUTH || strncasecmp(s->line, "AUTH ", 5) == 0;
	if (s->mode == MODE_AUTH)
		auth_continue(s, s->line);
	else
		smtp_dispatch(s, s->line, len);
	if (secret)
		explicit_bzero(s->line, len + 1);
	return 1;
}

static void on_input(struct conn *c, void *st)
{
	struct smtp_session *s = st;

	while (conn_ready(c)) {
		int progressed;

		if (s->mode == MODE_DATA)
			progressed = txn_data_step(s, conn_input(c));
		else if (s->mode == MODE_BDAT)
			progressed = txn_bdat_step(s, conn_input(c));
		else
			progressed = cmd_step(s);
		if (!progressed)
			break;
	}
}

static void on_timeout(struct conn *c, void *st)
{
	struct smtp_session *s = st;

	(void)c;
	session_reply(s, 421, "4.4.2", "%s Error: timeout exceeded", s->cfg->hostname);
	session_close_after_reply(s);
}

static const struct conn_proto smtp_proto = {
	.name = "smtp",
	.input = on_input,
	.timeout = on_timeout,
	.free = session_free,
};

void smtp_session_start(struct conn *c)
{
	struct smtp_session *s = calloc(1, sizeof *s);

	if (!s || !(s->dbuf = malloc(SMTP_CHUNK + 2))) {
		free(s);
		conn_abort(c);
		return;
	}
	s->c = c;
	s->srv = conn_server(c);
	s->cfg = conn_cfg(c);
	s->kind = conn_kind(c);
	s->id = conn_id(c);
	snprintf(s->ip, sizeof s->ip, "%s", conn_ip(c));
	conn_bind(c, &smtp_proto, s);
	conn_set_input_max(c, SMTP_INPUT_HIGH, SMTP_CHUNK);
	conn_set_idle(c, s->cfg->smtp_timeout);
	session_reply(s, 220, NULL, "%s ESMTP hostmail", s->cfg->hostname);
	if (s->cfg->pop_before_smtp_minutes > 0)
		session_check_pop_grant(s);
}
