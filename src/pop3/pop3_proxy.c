/*
 * pop3_proxy: the proxying node's side (pop3_proxy.h has the design).
 * One struct pop3_proxy per proxied session: an OpenSSL bufferevent to the
 * home node, a state (greeting, login, relay) and the session it serves.
 * Relaying moves evbuffer chains (no copy) from the client's input to the
 * home node's output and back through conn_write, each way only while
 * fewer than POP3_PROXY_HIGH bytes wait; the other side goes on from its
 * write callback (low watermark) or the session's drained().
 */
#include "pop3/pop3_proxy.h"
#include "pop3/pop3_session_int.h"
#include "auth/login.h"
#include "store/store.h"
#include "store/store_node.h"
#include "store/store_move.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum proxy_state { PX_GREETING, PX_LOGIN, PX_RELAY };

struct pop3_proxy {
	struct pop3_session *s;
	struct bufferevent *up;
	enum proxy_state state;
	int node;
	char addr[300];
	int up_eof;                 /* the home node closed: flush to the client, then close */
};

void pop3_proxy_after_login(struct login *l)
{
	struct p3_home *h = l->data;
	const struct config *cfg = l->srv->cfg;
	struct account a;
	struct node n;
	struct account_move mv;
	int rc;

	if (!h || cfg->cluster_node <= 0)
		return;                                /* one node: every mailbox is here */
	if ((rc = store_account_get(l->srv->store, l->account, &a)) != 0) {
		if (rc != STORE_ENOTFOUND)
			l->res = AUTH_TEMPFAIL;
		return;
	}
	/* while its Maildirs move, nothing but deliveries may change them */
	if ((rc = store_move_get(l->srv->store, l->account, &mv)) == 0) {
		h->moving = 1;
		return;
	} else if (rc != STORE_ENOTFOUND) {
		l->res = AUTH_TEMPFAIL;
		return;
	}
	if (a.server_number <= 0 || a.server_number == cfg->cluster_node)
		return;
	h->node = a.server_number;
	rc = store_node_get(l->srv->store, a.server_number, &n);
	if (rc == STORE_ENOTFOUND || (rc == 0 && !n.pop3[0]))
		h->unknown = 1;
	else if (rc != 0)
		l->res = AUTH_TEMPFAIL;
	else
		snprintf(h->addr, sizeof h->addr, "%s", n.pop3);
}

/* "HOST:PORT" or "[HOST]:PORT" (numeric) into ss. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(addr, ':'), *h = addr;
	size_t hl;
	long port;
	char *end;

	if (!colon)
		return -1;
	hl = (size_t)(colon - addr);
	if (*h == '[' && hl >= 2 && addr[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

void pop3_proxy_free(struct pop3_proxy *p)
{
	if (!p)
		return;
	if (p->up)
		bufferevent_free(p->up);
	free(p);
}

/* Before the relay: the home node cannot serve this login. */
static void fail(struct pop3_proxy *p, const char *why)
{
	struct pop3_session *s = p->s;

	log_warn("pop3[%llu] ip=%s: proxy to node %d (%s) for %s failed: %s", s->id, s->ip, p->node, p->addr,
	         s->mailbox, why);
	s->proxy = NULL;
	s->mailbox[0] = '\0';
	pop3_proxy_free(p);
	p3_reply(s, "-ERR [SYS/TEMP] the server holding your mailbox is unavailable, try again later");
	p3_input_again(s);
}

/* Home node -> client, while the client's output has room. */
static void pump_down(struct pop3_proxy *p)
{
	struct pop3_session *s = p->s;
	struct evbuffer *in = bufferevent_get_input(p->up);
	char chunk[16384];

	while (evbuffer_get_length(in) > 0 && conn_ready(s->c) && conn_output_pending(s->c) < POP3_PROXY_HIGH) {
		int n = evbuffer_remove(in, chunk, sizeof chunk);
		if (n <= 0)
			break;
		conn_write(s->c, chunk, (size_t)n);
	}
	if (evbuffer_get_length(in) == 0 && p->up_eof) {
		conn_close(s->c);
		return;
	}
	if (conn_output_pending(s->c) >= POP3_PROXY_HIGH)
		bufferevent_disable(p->up, EV_READ);
	else if (!p->up_eof)
		bufferevent_enable(p->up, EV_READ);
}

/* Client -> home node, while the home node's output has room. */
static void pump_up(struct pop3_proxy *p)
{
	struct pop3_session *s = p->s;
	struct evbuffer *in = conn_input(s->c), *out = bufferevent_get_output(p->up);
	size_t have;

	if (!in || p->up_eof)
		return;
	while ((have = evbuffer_get_length(in)) > 0 && evbuffer_get_length(out) < POP3_PROXY_HIGH) {
		size_t room = POP3_PROXY_HIGH - evbuffer_get_length(out);
		if (evbuffer_remove_buffer(in, out, have < room ? have : room) <= 0)
			break;
		conn_progress(s->c);
	}
}

static void start_relay(struct pop3_proxy *p, const char *line)
{
	struct pop3_session *s = p->s;

	p->state = PX_RELAY;
	s->state = ST_TRANS;
	log_info("pop3[%llu] ip=%s: login user=%s account=%s proxied to node %d (%s)", s->id, s->ip, s->mailbox,
	         s->account, p->node, p->addr);
	p3_reply(s, "%s", line);
	/* a whole session's pace is the client's and the home node's now */
	bufferevent_set_timeouts(p->up, NULL, NULL);
	bufferevent_setwatermark(p->up, EV_READ, 0, POP3_PROXY_HIGH);
	bufferevent_setwatermark(p->up, EV_WRITE, POP3_PROXY_LOW, 0);
	pump_down(p);
	pump_up(p);
}

static void on_up_read(struct bufferevent *bev, void *arg)
{
	struct pop3_proxy *p = arg;
	struct pop3_session *s = p->s;
	char *line;
	size_t len;

	if (p->state == PX_RELAY) {
		pump_down(p);
		return;
	}
	if (!(line = evbuffer_readln(bufferevent_get_input(bev), &len, EVBUFFER_EOL_CRLF))) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) > POP3_LINE_MAX)
			fail(p, "a reply line too long");
		return;
	}
	if (p->state == PX_GREETING) {
		if (strncmp(line, "+OK", 3) != 0) {
			free(line);
			fail(p, "no +OK greeting");
			return;
		}
		free(line);
		p->state = PX_LOGIN;
		evbuffer_add_printf(bufferevent_get_output(bev), "XLOGIN %s %s\r\n", s->mailbox, s->ip);
		return;
	}
	/* PX_LOGIN: the home node's answer to the login is the client's */
	if (strncmp(line, "+OK", 3) == 0) {
		start_relay(p, line);
	} else {
		char safe[200];
		log_safe(line, len, safe, sizeof safe);
		log_info("pop3[%llu] ip=%s: login for %s refused by node %d: %s", s->id, s->ip, s->mailbox,
		         p->node, safe);
		s->proxy = NULL;
		s->mailbox[0] = '\0';
		pop3_proxy_free(p);
		p3_reply(s, "%s", strncmp(line, "-ERR", 4) == 0 ? line : "-ERR [SYS/TEMP] try again later");
		p3_input_again(s);
	}
	free(line);
}

static void on_up_write(struct bufferevent *bev, void *arg)
{
	struct pop3_proxy *p = arg;

	(void)bev;
	if (p->state == PX_RELAY)
		pump_up(p);
}

static void on_up_event(struct bufferevent *bev, short what, void *arg)
{
	struct pop3_proxy *p = arg;
	struct pop3_session *s = p->s;
	char why[300];

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (p->state != PX_RELAY) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		if (what & BEV_EVENT_TIMEOUT)
			snprintf(why, sizeof why, "no answer within %d seconds", POP3_PROXY_TIMEOUT);
		else if (e)
			ERR_error_string_n(e, why, sizeof why);
		else if (what & BEV_EVENT_EOF)
			snprintf(why, sizeof why, "connection closed");
		else
			snprintf(why, sizeof why, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		fail(p, why);
		return;
	}
	/* the home node ended the session (QUIT, its timeout, an error) */
	log_info("pop3[%llu] ip=%s: node %d ended the proxied session", s->id, s->ip, p->node);
	p->up_eof = 1;
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	pump_down(p);
}

void pop3_proxy_start(struct pop3_session *s, const struct login *l, const struct p3_home *h)
{
	struct pop3_proxy *p = calloc(1, sizeof *p);
	struct sockaddr_storage ss;
	socklen_t sl;
	struct timeval tv = { POP3_PROXY_TIMEOUT, 0 };
	char err[300];
	SSL *ssl = NULL;

	snprintf(s->mailbox, sizeof s->mailbox, "%s", l->mailbox);
	snprintf(s->account, sizeof s->account, "%s", l->account);
	if (!p) {
		p3_reply(s, "-ERR [SYS/TEMP] out of memory, try again later");
		return;
	}
	p->s = s;
	p->node = h->node;
	snprintf(p->addr, sizeof p->addr, "%s", h->addr);
	s->proxy = p;
	if (h->unknown) {
		fail(p, "the node is not in the nodes table (hostmailctl node add)");
		return;
	}
	if (parse_addr(h->addr, &ss, &sl) < 0) {
		fail(p, "its pop3 address is not a numeric HOST:PORT");
		return;
	}
	if (!(ssl = pop3_cluster_client_ssl(s->cfg, err, sizeof err))) {
		fail(p, err);
		return;
	}
	if (!(p->up = bufferevent_openssl_socket_new(s->srv->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
		SSL_free(ssl);
		fail(p, "out of memory");
		return;
	}
	bufferevent_setcb(p->up, on_up_read, on_up_write, on_up_event, p);
	bufferevent_set_timeouts(p->up, &tv, &tv);
	bufferevent_enable(p->up, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->up, (struct sockaddr *)&ss, (int)sl) < 0)
		fail(p, "cannot connect");
}

void pop3_proxy_input(struct pop3_proxy *p)
{
	if (p->state == PX_RELAY)
		pump_up(p);
	/* before: what the client pipelined waits for the home node's answer */
}

void pop3_proxy_drained(struct pop3_proxy *p)
{
	if (p->state == PX_RELAY)
		pump_down(p);
}
