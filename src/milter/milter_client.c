/*
 * milter_client: one filter conversation on the event loop
 * (milter_client.h). The steps are a cursor over the message; each is
 * sent with its macros, and waits for the filter's reply unless the
 * filter said it will not answer it (SMFIP_NR_*). Output is bounded:
 * the body is read from the spool 64 KiB at a time, only when what was
 * queued has drained.
 */
#include "milter/milter_client.h"
#include "milter/milter_codec.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define OUT_HIGH (256 * 1024)

enum step { ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_HDR, ST_EOH, ST_BODY, ST_EOB, ST_END };
enum state { S_CONNECTING, S_OPTNEG, S_SENDING, S_WAITING, S_DONE };

struct milter_client {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *timer;
	const struct milter_spec *sp;
	const struct milter_msg *m;
	struct milter_client_result *res;
	void (*done)(void *);
	void *arg;
	int timeout;
	enum state state;
	enum step step;
	size_t idx;              /* recipient or header index */
	uint64_t body_at;        /* body bytes sent */
	uint32_t protocol;       /* the filter's SMFIP_* */
	struct buf out;          /* one step encoded */
	char chunk[MILTER_CHUNK];
};

static void arm(struct milter_client *mc)
{
	struct timeval tv = { mc->timeout, 0 };

	evtimer_add(mc->timer, &tv);
}

/* The conversation is over: say QUIT if it went well, close, and call
 * done from a fresh loop turn (the timer, at once). */
static void finish(struct milter_client *mc, enum milter_verdict v, const char *why)
{
	struct timeval zero = { 0, 0 };

	if (mc->state == S_DONE)
		return;
	mc->state = S_DONE;
	mc->res->verdict = v;
	if (why)
		snprintf(mc->res->why, sizeof mc->res->why, "%s", why);
	if (mc->bev) {
		evutil_socket_t fd = bufferevent_getfd(mc->bev);
		/* QUIT, best effort (5 bytes into an idle socket), so the filter
		 * sees a goodbye and not a broken connection */
		buf_reset(&mc->out);
		if (v != MILTER_FAILED && fd >= 0 && !evbuffer_get_length(bufferevent_get_output(mc->bev)) &&
		    milter_enc_simple(&mc->out, SMFIC_QUIT) == 0 &&
		    send(fd, mc->out.data, mc->out.len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* the close says it too */
		}
		bufferevent_free(mc->bev);
		mc->bev = NULL;
	}
	evtimer_add(mc->timer, &zero);
}

static int proto_has(const struct milter_client *mc, uint32_t f)
{
	return (mc->protocol & f) != 0;
}

/* Macros for stage, each name with its value; empty values are left out. */
static int macros(struct milter_client *mc, char stage, const char *const *nv, size_t n)
{
	const char *names[8], *values[8];
	size_t k = 0;

	for (size_t i = 0; i + 1 < n && k < 8; i += 2)
		if (nv[i + 1] && nv[i + 1][0]) {
			names[k] = nv[i];
			values[k++] = nv[i + 1];
		}
	return k ? milter_enc_macros(&mc->out, stage, names, values, k) : 0;
}

static const char *family_of(const char *ip)
{
	return strchr(ip, ':') ? "6" : "4";
}

static int enc_connect(struct milter_client *mc)
{
	const struct milter_msg *m = mc->m;
	char name[80], under[200];

	snprintf(name, sizeof name, "[%s]", m->client_ip);
	snprintf(under, sizeof under, "%s [%s]", name, m->client_ip);
	const char *nv[] = { "j", m->hostname, "{daemon_name}", "hostmail", "{if_name}", m->hostname,
	                     "{client_addr}", m->client_ip, "{client_name}", name, "_", under };
	if (macros(mc, SMFIC_CONNECT, nv, 12) < 0)
		return -1;
	return milter_enc_connect(&mc->out, name, family_of(m->client_ip)[0], 0, m->client_ip);
}

static int enc_mail(struct milter_client *mc)
{
	const struct milter_msg *m = mc->m;
	char addr[330];

	snprintf(addr, sizeof addr, "<%s>", m->sender);
	const char *nv[] = { "i", m->queue_id, "{mail_addr}", m->sender, "{auth_authen}", m->auth_user,
	                     "{auth_type}", m->auth_user[0] ? "PLAIN" : "" };
	if (macros(mc, SMFIC_MAIL, nv, 8) < 0)
		return -1;
	return milter_enc_addr(&mc->out, SMFIC_MAIL, m->sender, NULL, 0);
}

static int enc_rcpt(struct milter_client *mc)
{
	const char *r = mc->m->rcpts[mc->idx];
	const char *nv[] = { "{rcpt_addr}", r };

	if (macros(mc, SMFIC_RCPT, nv, 2) < 0)
		return -1;
	return milter_enc_addr(&mc->out, SMFIC_RCPT, r, NULL, 0);
}

static int enc_queue_id(struct milter_client *mc, char stage)
{
	const char *nv[] = { "i", mc->m->queue_id };

	if (macros(mc, stage, nv, 2) < 0)
		return -1;
	return milter_enc_simple(&mc->out, stage);
}

/* The next body piece, read from the spool. 0 or -1. */
static int enc_body(struct milter_client *mc)
{
	const struct milter_msg *m = mc->m;
	uint64_t left = m->body_len - mc->body_at;
	size_t want = left < sizeof mc->chunk ? (size_t)left : sizeof mc->chunk;
	ssize_t n = pread(m->body_fd, mc->chunk, want, (off_t)(m->body_off + mc->body_at));

	if (n <= 0)
		return -1;
	mc->body_at += (uint64_t)n;
	return milter_enc_body(&mc->out, mc->chunk, (size_t)n);
}

/* Encode the current step into mc->out and move the cursor past it.
 * *reply: the filter answers it. 0, or -1 (no memory, spool unreadable). */
static int encode_step(struct milter_client *mc, int *reply)
{
	const struct milter_msg *m = mc->m;
	enum step s = mc->step;
	int rc = 0;

	*reply = 0;
	switch (s) {
	case ST_CONNECT:
		mc->step = ST_HELO;
		if (proto_has(mc, SMFIP_NOCONNECT))
			return 0;
		*reply = !proto_has(mc, SMFIP_NR_CONN);
		return enc_connect(mc);
	case ST_HELO:
		mc->step = ST_MAIL;
		if (proto_has(mc, SMFIP_NOHELO))
			return 0;
		*reply = !proto_has(mc, SMFIP_NR_HELO);
		return milter_enc_helo(&mc->out, m->helo);
	case ST_MAIL:
		mc->step = ST_RCPT;
		mc->idx = 0;
		if (proto_has(mc, SMFIP_NOMAIL))
			return 0;
		*reply = !proto_has(mc, SMFIP_NR_MAIL);
		return enc_mail(mc);
	case ST_RCPT:
		if (mc->idx >= m->nrcpt || proto_has(mc, SMFIP_NORCPT)) {
			mc->step = ST_DATA;
			return 0;
		}
		*reply = !proto_has(mc, SMFIP_NR_RCPT);
		rc = enc_rcpt(mc);
		mc->idx++;
		return rc;
	case ST_DATA:
		mc->step = ST_HDR;
		mc->idx = 0;
		if (proto_has(mc, SMFIP_NODATA))
			return 0;
		*reply = !proto_has(mc, SMFIP_NR_DATA);
		return enc_queue_id(mc, SMFIC_DATA);
	case ST_HDR:
		while (mc->idx < m->nhdrs && m->hdrs[mc->idx].hidden)
			mc->idx++;
		if (mc->idx >= m->nhdrs || proto_has(mc, SMFIP_NOHDRS)) {
			mc->step = ST_EOH;
			return 0;
		}
		*reply = !proto_has(mc, SMFIP_NR_HDR);
		rc = milter_enc_header(&mc->out, m->hdrs[mc->idx].name, m->hdrs[mc->idx].value);
		mc->idx++;
		return rc;
	case ST_EOH:
		mc->step = ST_BODY;
		mc->body_at = 0;
		if (proto_has(mc, SMFIP_NOEOH))
			return 0;
		*reply = !proto_has(mc, SMFIP_NR_EOH);
		return enc_queue_id(mc, SMFIC_EOH);
	case ST_BODY:
		if (mc->body_at >= m->body_len || proto_has(mc, SMFIP_NOBODY)) {
			mc->step = ST_EOB;
			return 0;
		}
		*reply = !proto_has(mc, SMFIP_NR_BODY);
		return enc_body(mc);
	case ST_EOB:
		mc->step = ST_END;
		*reply = 1;
		return enc_queue_id(mc, SMFIC_BODYEOB);
	case ST_END:
		break;
	}
	return -1;
}

/* Send steps until one waits for a reply or the output is full. */
static void pump(struct milter_client *mc)
{
	while (mc->state == S_SENDING) {
		int reply;

		if (evbuffer_get_length(bufferevent_get_output(mc->bev)) >= OUT_HIGH)
			return;                  /* write_cb comes back when it drained */
		buf_reset(&mc->out);
		if (encode_step(mc, &reply) < 0) {
			finish(mc, MILTER_FAILED, "cannot read the message or no memory");
			return;
		}
		if (mc->out.len && bufferevent_write(mc->bev, mc->out.data, mc->out.len) < 0) {
			finish(mc, MILTER_FAILED, "no memory");
			return;
		}
		if (reply)
			mc->state = S_WAITING;
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int add_edit(struct milter_client *mc, const struct milter_reply *r)
{
	struct milter_client_result *res = mc->res;
	struct milter_edit *e;

	if (res->nedits == res->capedits) {
		size_t cap = res->capedits ? 2 * res->capedits : 8;
		if (cap > 10000 || !(e = realloc(res->edits, cap * sizeof *e)))
			return -1;             /* a flood of edits is a broken filter */
		res->edits = e;
		res->capedits = cap;
	}
	e = &res->edits[res->nedits];
	e->op = r->cmd;
	e->index = r->index;
	e->name = dup_or_null(r->name);
	e->value = dup_or_null(r->value);
	if ((r->name && !e->name) || (r->value && !e->value)) {
		free(e->name);
		free(e->value);
		return -1;
	}
	res->nedits++;
	return 0;
}

/* A modification at the end of the message. 0, or -1 (not allowed now). */
static int modification(struct milter_client *mc, const struct milter_reply *r)
{
	struct milter_client_result *res = mc->res;

	switch (r->cmd) {
	case SMFIR_ADDHEADER: case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
	case SMFIR_ADDRCPT: case SMFIR_ADDRCPT_PAR: case SMFIR_DELRCPT: case SMFIR_CHGFROM:
		return add_edit(mc, r);
	case SMFIR_REPLBODY:
		if (!res->body_replaced) {
			buf_reset(&res->body);
			res->body_replaced = 1;
		}
		return buf_append(&res->body, r->data, r->datalen);
	case SMFIR_QUARANTINE:
		res->quarantined = 1;
		snprintf(res->quarantine, sizeof res->quarantine, "%s", r->name);
		return 0;
	}
	return -1;
}

/* A verdict (reply to a step): 1 if it ends the conversation, 0 if the
 * steps go on, -1 if it is not one. */
static int verdict(struct milter_client *mc, const struct milter_reply *r)
{
	switch (r->cmd) {
	case SMFIR_CONTINUE:
		if (mc->step == ST_END) {
			finish(mc, MILTER_CONTINUE, NULL);
			return 1;
		}
		return 0;
	case SMFIR_SKIP:
		if (mc->step != ST_BODY)
			return -1;
		mc->step = ST_EOB;
		return 0;
	case SMFIR_ACCEPT:
		finish(mc, mc->step == ST_END ? MILTER_CONTINUE : MILTER_ACCEPT, NULL);
		return 1;
	case SMFIR_REJECT: case SMFIR_TEMPFAIL: case SMFIR_DISCARD: case SMFIR_SHUTDOWN: case SMFIR_CONN_FAIL:
		finish(mc, r->cmd == SMFIR_REJECT ? MILTER_REJECT : r->cmd == SMFIR_DISCARD ? MILTER_DISCARD
		       : MILTER_TEMPFAIL, NULL);
		return 1;
	case SMFIR_REPLYCODE:
		snprintf(mc->res->reply, sizeof mc->res->reply, "%s", r->name);
		finish(mc, r->code >= 500 ? MILTER_REJECT : MILTER_TEMPFAIL, NULL);
		return 1;
	}
	return -1;
}

static int negotiated(struct milter_client *mc, const struct milter_reply *r)
{
	if (r->cmd != SMFIC_OPTNEG || r->version < 2 || (r->protocol & ~MILTER_PROTO_OFFERED))
		return -1;
	mc->protocol = r->protocol;
	mc->state = S_SENDING;
	mc->step = ST_CONNECT;
	return 0;
}

/* One reply: 0 to go on, -1 garbage (the conversation is failed). */
static int on_reply(struct milter_client *mc, const struct milter_reply *r)
{
	int v;

	if (r->cmd == SMFIR_PROGRESS)
		return 0;                    /* the timer is restarted by the read */
	if (mc->state == S_OPTNEG)
		return negotiated(mc, r);
	if (mc->state != S_WAITING)
		return -1;                   /* a reply nobody asked for */
	if ((v = verdict(mc, r)) == 1)
		return 0;
	if (v == 0) {
		mc->state = S_SENDING;
		return 0;
	}
	return mc->step == ST_END && modification(mc, r) == 0 ? 0 : -1;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct milter_client *mc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	arm(mc);
	while (mc->state == S_OPTNEG || mc->state == S_WAITING) {
		size_t have = evbuffer_get_length(in), used = 0, need;
		unsigned char *p, h[4];
		struct milter_reply r;
		int rc;

		if (have < 4)
			break;
		evbuffer_copyout(in, h, 4);
		need = 4 + ((size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]);
		if (need > 4 + MILTER_REPLY_MAX) {
			finish(mc, MILTER_FAILED, "garbage from the filter (packet length)");
			return;
		}
		if (have < need)
			break;
		p = evbuffer_pullup(in, (ssize_t)need);
		if (!p || (rc = milter_decode(p, need, &r, &used)) != 1 || on_reply(mc, &r) < 0) {
			if (mc->state != S_DONE)
				finish(mc, MILTER_FAILED, "garbage from the filter (bad or unexpected reply)");
			return;
		}
		if (mc->state == S_DONE)
			return;                  /* the socket is closed: nothing more to read */
		evbuffer_drain(in, used);
		if (mc->state == S_SENDING)
			pump(mc);
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct milter_client *mc = arg;

	(void)bev;
	arm(mc);
	if (mc->state == S_SENDING)
		pump(mc);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct milter_client *mc = arg;
	char why[160];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		buf_reset(&mc->out);
		if (milter_enc_optneg(&mc->out, MILTER_ACTIONS_OFFERED, MILTER_PROTO_OFFERED) < 0 ||
		    bufferevent_write(mc->bev, mc->out.data, mc->out.len) < 0) {
			finish(mc, MILTER_FAILED, "no memory");
			return;
		}
		mc->state = S_OPTNEG;
		bufferevent_enable(mc->bev, EV_READ | EV_WRITE);
		arm(mc);
		return;
	}
	if (mc->state == S_CONNECTING)
		snprintf(why, sizeof why, "cannot connect: %s", strerror(EVUTIL_SOCKET_ERROR() ? EVUTIL_SOCKET_ERROR() : ECONNREFUSED));
	else
		snprintf(why, sizeof why, "the filter closed the connection%s",
		         mc->state == S_WAITING && mc->step == ST_END ? " at the end of the message" : "");
	finish(mc, MILTER_FAILED, why);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct milter_client *mc = arg;

	(void)fd;
	(void)what;
	if (mc->state == S_DONE) {
		mc->done(mc->arg);
		return;
	}
	finish(mc, MILTER_FAILED, mc->state == S_CONNECTING ? "connect timed out" : "timed out");
}

static int connect_to(struct milter_client *mc)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof ss);
	if (mc->sp->unix_socket) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof un->sun_path, "%s", mc->sp->path);
		len = sizeof *un;
	} else if (strchr(mc->sp->host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)mc->sp->port);
		inet_pton(AF_INET6, mc->sp->host, &s6->sin6_addr);
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)mc->sp->port);
		inet_pton(AF_INET, mc->sp->host, &s4->sin_addr);
		len = sizeof *s4;
	}
	return bufferevent_socket_connect(mc->bev, (struct sockaddr *)&ss, (int)len);
}

struct milter_client *milter_client_start(struct event_base *base, const struct milter_spec *sp, int timeout,
                                          const struct milter_msg *m, struct milter_client_result *res,
                                          void (*done)(void *arg), void *arg)
{
	struct milter_client *mc = calloc(1, sizeof *mc);

	if (!mc)
		return NULL;
	mc->base = base;
	mc->sp = sp;
	mc->m = m;
	mc->res = res;
	mc->done = done;
	mc->arg = arg;
	mc->timeout = timeout > 0 ? timeout : 30;
	buf_init(&mc->out, 0);
	buf_init(&res->body, 0);
	if (!(mc->timer = evtimer_new(base, timer_cb, mc)) ||
	    !(mc->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE))) {
		milter_client_free(mc);
		return NULL;
	}
	bufferevent_setcb(mc->bev, read_cb, write_cb, event_cb, mc);
	bufferevent_setwatermark(mc->bev, EV_READ, 0, MILTER_REPLY_MAX + 8192);
	mc->state = S_CONNECTING;
	arm(mc);
	if (connect_to(mc) < 0)
		finish(mc, MILTER_FAILED, "cannot connect");
	return mc;
}

void milter_client_free(struct milter_client *mc)
{
	if (!mc)
		return;
	if (mc->bev)
		bufferevent_free(mc->bev);
	if (mc->timer)
		event_free(mc->timer);
	buf_free(&mc->out);
	free(mc);
}

void milter_client_result_free(struct milter_client_result *res)
{
	for (size_t i = 0; i < res->nedits; i++) {
		free(res->edits[i].name);
		free(res->edits[i].value);
	}
	free(res->edits);
	buf_free(&res->body);
	memset(res, 0, sizeof *res);
}
