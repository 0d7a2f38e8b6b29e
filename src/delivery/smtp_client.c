/*
 * smtp_client: the outbound session state machine (see smtp_client.h).
 * Replies are parsed by smtp_client_parse.c; this file glues them to a
 * bufferevent. One timer per session, re-armed with the RFC 5321
 * 4.5.3.2 limit of the phase it is in. All results go to the caller's
 * recipient array; smtpc_finish() releases everything before calling back.
 */
#include "delivery/smtp_client_int.h"
#include "tls/tls.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/fsutil.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUIT_WAIT    10      /* seconds to wait for the 221 */

static const char *const state_what[] = {
	"connecting", "waiting for the greeting", "in reply to EHLO", "in reply to HELO",
	"in reply to STARTTLS", "in the TLS handshake", "in reply to MAIL FROM",
	"in reply to RCPT TO", "in reply to DATA", "while sending the message",
	"in reply to the end of data", "in reply to the end of data", "in reply to QUIT",
	"while idle",
};


void smtpc_arm(struct smtpc *s, int seconds)
{
	struct timeval tv = { seconds, 0 };
	evtimer_add(s->timer, &tv);
}

static void release(struct smtpc *s)
{
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->timer)
		event_free(s->timer);
	if (s->fd >= 0)
		close(s->fd);
	buf_free(&s->out);
	buf_free(&s->qpbuf);
	wire_plan_free(&s->plan);
	config_unref(s->p.cfg);
	free(s);
}

void smtpc_abort(struct smtpc *s)
{
	if (s)
		release(s);
}

static void no_one(enum smtpc_outcome o, const char *err, void *arg)
{
	(void)o;
	(void)err;
	(void)arg;
}

/* The transaction is over and the connection is clean: hand it back open. */
static void keep_open(struct smtpc *s)
{
	smtpc_done_cb done = s->done;
	void *arg = s->arg;

	s->st = S_IDLE;
	evtimer_del(s->timer);
	s->done = no_one;
	done(SMTPC_IDLE, "", arg);
}

/* Something happened to an idle session: its keeper ends it. */
static void idle_end(struct smtpc *s, int timed_out)
{
	void (*gone)(struct smtpc *, int, void *) = s->gone;

	s->gone = NULL;
	if (gone)
		gone(s, timed_out, s->gone_arg);
	else
		release(s);
}

/* The end: release everything, then tell the caller. */
void smtpc_finish(struct smtpc *s, enum smtpc_outcome o, const char *err)
{
	char e[512];
	smtpc_done_cb done = s->done;
	void *arg = s->arg;

	if (snprintf(e, sizeof e, "%s", err ? err : "") >= (int)sizeof e)
		memcpy(e + sizeof e - 4, "...", 4); /* too long: cut, visibly */
	release(s);
	done(o, e, arg);
}

/* Give every recipient still without a result this one. */
static void settle_rest(struct smtpc *s, enum smtpc_rcpt_result res, const char *reason)
{
	for (size_t i = 0; i < s->p.nrcpt; i++) {
		struct smtpc_rcpt *r = &s->p.rcpts[i];
		if (r->result == SMTPC_RCPT_NONE) {
			r->result = res;
			snprintf(r->reason, sizeof r->reason, "%s", reason);
		}
	}
}

/* The connection ended (error, EOF, timeout) before the session was done. */
void smtpc_fail(struct smtpc *s, const char *why)
{
	char reason[512];
	int before_rcpt = s->st <= S_MAIL && s->st != S_QUIT;

	snprintf(reason, sizeof reason, "4.4.2 %s %s %s", why, s->label, state_what[s->st]);
	if (s->st == S_QUIT) {
		/* the server's close_notify may end the read before its 221 is seen */
		smtpc_tls_close_notify(s);
		smtpc_finish(s, SMTPC_FINISHED, NULL);
		return;
	}
	if (s->st == S_TLS) {
		smtpc_finish(s, SMTPC_TLS_FAILED, reason);
		return;
	}
	if (before_rcpt && !s->decided) {
		smtpc_finish(s, SMTPC_TRY_NEXT, reason);
		return;
	}
	if (s->st == S_DOT)
		strncat(reason, " (the message may arrive twice)", sizeof reason - strlen(reason) - 1);
	/* accepted recipients whose DATA never completed are not delivered */
	for (size_t i = 0; i < s->p.nrcpt; i++) {
		struct smtpc_rcpt *r = &s->p.rcpts[i];
		if (r->result == SMTPC_RCPT_NONE || r->result == SMTPC_RCPT_OK) {
			r->result = SMTPC_RCPT_TEMP;
			snprintf(r->reason, sizeof r->reason, "%s", reason);
		}
	}
	smtpc_finish(s, SMTPC_FINISHED, NULL);
}

static void send_line(struct smtpc *s, const char *fmt, const char *arg)
{
	evbuffer_add_printf(bufferevent_get_output(s->bev), fmt, arg);
}

static void send_str(struct smtpc *s, const char *str)
{
	evbuffer_add(bufferevent_get_output(s->bev), str, strlen(str));
}

static void quit(struct smtpc *s)
{
	s->st = S_QUIT;
	send_str(s, "QUIT\r\n");
	smtpc_arm(s, QUIT_WAIT);
}

void smtpc_quit(struct smtpc *s, smtpc_done_cb done, void *arg)
{
	s->done = done;
	s->arg = arg;
	s->gone = NULL;
	quit(s);
}

void smtpc_park(struct smtpc *s, int seconds, void (*gone)(struct smtpc *, int, void *), void *arg)
{
	s->gone = gone;
	s->gone_arg = arg;
	smtpc_arm(s, seconds);
}

long smtpc_age(const struct smtpc *s)
{
	return (long)(time(NULL) - s->born);
}

/* "5.1.1 host H[A] said: 550 5.1.1 text (in reply to RCPT TO)" */
static void said(struct smtpc *s, char *out, size_t outlen)
{
	char status[16];

	smtpc_reply_status(&s->reply, status, sizeof status);
	if (snprintf(out, outlen, "%s host %s said: %s (%s)", status, s->label, s->reply.text,
	             state_what[s->st]) >= (int)outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

static enum smtpc_rcpt_result classify(int code)
{
	return code >= 200 && code < 300 ? SMTPC_RCPT_OK : code >= 500 ? SMTPC_RCPT_PERM : SMTPC_RCPT_TEMP;
}

void smtpc_send_ehlo(struct smtpc *s)
{
	memset(&s->ehlo, 0, sizeof s->ehlo);
	s->st = S_EHLO;
	send_line(s, "EHLO %s\r\n", s->p.helo);
	smtpc_arm(s, s->p.cfg->delivery_greeting_timeout);
}

static void send_rcpt(struct smtpc *s, size_t i)
{
	send_line(s, "RCPT TO:<%s>\r\n", s->p.rcpts[i].addr);
}

/* The first recipient from i on still to be sent (wire_plan may have
 * settled some before MAIL); nrcpt if none. */
static size_t next_open(const struct smtpc *s, size_t i)
{
	while (i < s->p.nrcpt && s->p.rcpts[i].result != SMTPC_RCPT_NONE)
		i++;
	return i;
}

static void begin_mail(struct smtpc *s)
{
	struct evbuffer *o = bufferevent_get_output(s->bev);

	if (wire_plan_make(&s->plan, &s->p, s->ehlo.ext, s->label) == 0) {
		s->decided = 1;            /* nobody left to send to, and it stays so */
		quit(s);
		return;
	}
	if ((s->ehlo.ext & SMTPC_EXT_SIZE) && s->ehlo.size_max && s->plan.size > s->ehlo.size_max) {
		char reason[512];
		snprintf(reason, sizeof reason, "5.3.4 message too big for host %s (%llu bytes, it takes %llu)",
		         s->label, (unsigned long long)s->plan.size, (unsigned long long)s->ehlo.size_max);
		settle_rest(s, SMTPC_RCPT_PERM, reason);
		s->decided = 1;
		quit(s);
		return;
	}
	evbuffer_add_printf(o, "MAIL FROM:<%s>", s->p.sender);
	if (s->ehlo.ext & SMTPC_EXT_SIZE)
		evbuffer_add_printf(o, " SIZE=%llu", (unsigned long long)s->plan.size);
	if (s->ehlo.ext & SMTPC_EXT_8BITMIME)
		evbuffer_add_printf(o, " BODY=8BITMIME");
	if (s->plan.smtputf8)
		evbuffer_add_printf(o, " SMTPUTF8");
	evbuffer_add(o, "\r\n", 2);
	s->next_rcpt = next_open(s, 0);
	s->pipelining = (s->ehlo.ext & SMTPC_EXT_PIPELINING) != 0;
	if (s->pipelining) {
		for (size_t i = next_open(s, 0); i < s->p.nrcpt; i = next_open(s, i + 1))
			send_rcpt(s, i);
		evbuffer_add(o, "DATA\r\n", 6);
	}
	s->st = S_MAIL;
	smtpc_arm(s, s->p.cfg->delivery_command_timeout);
}

/* Replies after DATA: decide the accepted recipients. */
static void settle_accepted(struct smtpc *s, enum smtpc_rcpt_result res, const char *reason)
{
	for (size_t i = 0; i < s->p.nrcpt; i++)
		if (s->p.rcpts[i].result == SMTPC_RCPT_OK) {
			s->p.rcpts[i].result = res;
			snprintf(s->p.rcpts[i].reason, sizeof s->p.rcpts[i].reason, "%s", reason);
		}
}

static void on_rcpt_reply(struct smtpc *s, const char *reason)
{
	struct smtpc_rcpt *r = &s->p.rcpts[s->next_rcpt];
	enum smtpc_rcpt_result res = classify(s->reply.code);

	r->result = res;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	if (res == SMTPC_RCPT_OK)
		s->accepted++;
	s->next_rcpt = next_open(s, s->next_rcpt + 1);
	if (s->next_rcpt < s->p.nrcpt) {
		if (!s->pipelining)
			send_rcpt(s, s->next_rcpt);
		return;
	}
	if (s->pipelining) {
		s->st = S_DATA;  /* its reply is next in line */
		smtpc_arm(s, s->p.cfg->delivery_data_init_timeout);
	} else if (s->accepted > 0) {
		send_str(s, "DATA\r\n");
		s->st = S_DATA;
		smtpc_arm(s, s->p.cfg->delivery_data_init_timeout);
	} else {
		quit(s);
	}
}

/* One complete reply in s->reply; act on it by state. 1 = the session ended. */
static int on_reply(struct smtpc *s)
{
	int code = s->reply.code, ok = code >= 200 && code < 300;
	char reason[512];

	said(s, reason, sizeof reason);
	switch (s->st) {
	case S_GREETING:
		if (!ok)
			break;
		smtpc_send_ehlo(s);
		return 0;
	case S_EHLO:
		if (ok && (s->ehlo.ext & SMTPC_EXT_STARTTLS) && s->p.tls && !s->tls_on) {
			s->st = S_STARTTLS;
			send_str(s, "STARTTLS\r\n");
			smtpc_arm(s, s->p.cfg->delivery_greeting_timeout);
		} else if (ok) {
			begin_mail(s);
		} else if (code >= 500 && !s->tls_on) {
			s->st = S_HELO;
			send_line(s, "HELO %s\r\n", s->p.helo);
		} else {
			break;
		}
		return 0;
	case S_HELO:
		if (!ok)
			break;
		memset(&s->ehlo, 0, sizeof s->ehlo);
		begin_mail(s);
		return 0;
	case S_STARTTLS:
		if (code == 220)
			return smtpc_start_tls(s);
		begin_mail(s); /* opportunistic: go on in plain text */
		return 0;
	case S_MAIL:
		if (code == 421 && s->reused && !s->decided) {
			/* the server closed the kept connection: connect afresh */
			smtpc_finish(s, SMTPC_TRY_NEXT, reason);
			return 1;
		}
		if (!ok) {
			settle_rest(s, classify(code), reason);
			s->decided = 1;
			quit(s); /* pipelined RCPT/DATA replies are read and ignored before the 221 */
			return 0;
		}
		s->st = S_RCPT;
		if (!s->pipelining)
			send_rcpt(s, s->next_rcpt);
		return 0;
	case S_RCPT:
		s->decided = 1;
		on_rcpt_reply(s, reason);
		return 0;
	case S_DATA:
		if (code == 354 && s->accepted > 0)
			return smtpc_begin_body(s);
		if (code == 354) {
			/* pipelined, every RCPT refused, yet 354: end the empty message */
			s->st = S_EMPTY_DOT;
			send_str(s, ".\r\n");
			smtpc_arm(s, s->p.cfg->delivery_data_done_timeout);
			return 0;
		}
		settle_accepted(s, code >= 500 ? SMTPC_RCPT_PERM : SMTPC_RCPT_TEMP, reason);
		quit(s);
		return 0;
	case S_DOT:
		settle_accepted(s, classify(code), reason);
		if (s->p.keep && code != 421) {
			keep_open(s);
			return 1;
		}
		quit(s);
		return 0;
	case S_EMPTY_DOT:
		quit(s);
		return 0;
	case S_QUIT:
		if (code != 221)
			return 0; /* a late reply to a pipelined command */
		smtpc_tls_close_notify(s);
		smtpc_finish(s, SMTPC_FINISHED, NULL);
		return 1;
	default:
		smtpc_fail(s, "unexpected reply from");
		return 1;
	}
	/* greeting, EHLO or HELO refused: another host may do better */
	smtpc_finish(s, SMTPC_TRY_NEXT, reason);
	return 1;
}

void smtpc_on_read(struct bufferevent *bev, void *arg)
{
	struct smtpc *s = arg;
	char line[SMTPC_LINE_MAX + 1];

	(void)bev;
	if (s->st == S_IDLE) {
		/* nothing is expected while idle (a 421 before closing, at most) */
		idle_end(s, 0);
		return;
	}
	while (s->st != S_TLS && s->st != S_CONNECT) {
		struct evbuffer *in = bufferevent_get_input(s->bev);
		size_t eol_len = 0, n;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		enum smtpc_feed f;

		if (p.pos < 0) {
			if (evbuffer_get_length(in) > SMTPC_LINE_MAX)
				smtpc_fail(s, "overlong reply line from");
			return;
		}
		n = (size_t)p.pos < SMTPC_LINE_MAX ? (size_t)p.pos : SMTPC_LINE_MAX;
		evbuffer_copyout(in, line, n);
		evbuffer_drain(in, (size_t)p.pos + eol_len);
		line[n] = '\0';
		if (s->st == S_BODY) {
			smtpc_fail(s, "unexpected reply during DATA from");
			return;
		}
		if ((f = smtpc_reply_feed(&s->reply, line, n)) == SMTPC_BAD) {
			smtpc_fail(s, "malformed reply from");
			return;
		}
		if (s->st == S_EHLO && s->reply.nlines > 1 && n > 4)
			smtpc_ehlo_line(&s->ehlo, line + 4, n - 4);
		if (f == SMTPC_DONE && on_reply(s))
			return;
	}
}

void smtpc_on_write(struct bufferevent *bev, void *arg)
{
	struct smtpc *s = arg;

	(void)bev;
	if (s->st == S_BODY)
		smtpc_refill(s);
}

void smtpc_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtpc *s = arg;
	char why[700];
	unsigned long e;

	(void)bev;
	if (s->st == S_IDLE) {
		idle_end(s, 0);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (s->st == S_TLS) {
			smtpc_tls_up(s);
			return;
		}
		s->st = S_GREETING;
		smtpc_arm(s, s->p.cfg->delivery_greeting_timeout);
		return;
	}
	if (s->st == S_CONNECT) {
		int err = EVUTIL_SOCKET_ERROR();
		snprintf(why, sizeof why, "4.4.1 connect to %s: %s", s->label,
		         err ? evutil_socket_error_to_string(err) : "failed");
		smtpc_finish(s, SMTPC_TRY_NEXT, why);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && (e = bufferevent_get_openssl_error(s->bev)) != 0) {
		char es[200];
		ERR_error_string_n(e, es, sizeof es);
		while (bufferevent_get_openssl_error(s->bev) != 0)
			;
		snprintf(why, sizeof why, "TLS error (%s) with", es);
		smtpc_fail(s, why);
		return;
	}
	smtpc_fail(s, (what & BEV_EVENT_EOF) ? "lost connection with" : "connection error with");
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smtpc *s = arg;
	char why[700];

	(void)fd;
	(void)what;
	if (s->st == S_IDLE) {
		idle_end(s, 1);
		return;
	}
	if (s->connect_failed) {
		snprintf(why, sizeof why, "4.4.1 connect to %s: %s", s->label, strerror(s->connect_failed));
		smtpc_finish(s, SMTPC_TRY_NEXT, why);
		return;
	}
	smtpc_fail(s, s->st == S_CONNECT ? "timed out connecting to" : "timeout with");
}

struct smtpc *smtpc_start(const struct smtpc_params *p, smtpc_done_cb done, void *arg)
{
	struct smtpc *s = calloc(1, sizeof *s);
	char ip[INET6_ADDRSTRLEN + 1] = "?", port[8] = "?";

	if (!s)
		return NULL;
	s->p = *p;
	s->p.cfg = config_ref(p->cfg);   /* held, also while kept in the cache */
	s->done = done;
	s->arg = arg;
	s->fd = -1;
	s->born = time(NULL);
	snprintf(s->host, sizeof s->host, "%s", p->host ? p->host : "");
	s->p.host = s->host;
	buf_init(&s->out, 0);
	buf_init(&s->qpbuf, 0);
	wire_plan_init(&s->plan);
	getnameinfo(p->addr, p->addrlen, ip, sizeof ip, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(s->label, sizeof s->label, "%s[%s]:%s", p->host, ip, port);
	s->timer = evtimer_new(p->base, on_timer, s);
	s->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!s->timer || !s->bev) {
		release(s);
		return NULL;
	}
	bufferevent_setcb(s->bev, smtpc_on_read, smtpc_on_write, smtpc_on_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->st = S_CONNECT;
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)p->addr, (int)p->addrlen) < 0) {
		/* report from the loop, never from inside smtpc_start */
		struct timeval now = { 0, 0 };
		s->connect_failed = errno ? errno : ECONNREFUSED;
		evtimer_add(s->timer, &now);
		return s;
	}
	smtpc_arm(s, p->cfg->delivery_connect_timeout);
	return s;
}

void smtpc_reuse(struct smtpc *s, const struct smtpc_params *p, smtpc_done_cb done, void *arg)
{
	const struct sockaddr *addr = s->p.addr;
	socklen_t addrlen = s->p.addrlen;
	SSL_CTX *tls = s->p.tls;

	config_unref(s->p.cfg);
	s->p = *p;
	s->p.cfg = config_ref(p->cfg);
	s->p.host = s->host;
	s->p.addr = addr;
	s->p.addrlen = addrlen;
	s->p.tls = tls;
	s->done = done;
	s->arg = arg;
	s->gone = NULL;
	s->reused = 1;
	s->next_rcpt = s->accepted = 0;
	s->decided = 0;
	s->left = 0;
	begin_mail(s);
}

