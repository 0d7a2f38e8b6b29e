/* http_conn: reading HTTP requests on a connection (see http_conn.h). */
#include "acc/http_conn.h"
#include "daemon/conn.h"
#include "util/config.h"
#include <event2/buffer.h>

void http_conn_init(struct http_conn *h, struct conn *c, const struct http_conn_ops *ops, void *owner,
                    size_t body_max)
{
	h->c = c;
	h->ops = ops;
	h->owner = owner;
	h->in_request = h->handling = 0;
	http_parser_init(&h->p, 0, body_max);
}

void http_conn_answered(struct http_conn *h)
{
	h->in_request = h->handling = 0;
}

/* One parser step on the buffered input; 0 when it needs more input. */
static int step(struct http_conn *h)
{
	struct evbuffer *in = conn_input(h->c);
	struct evbuffer_iovec v = { NULL, 0 };
	struct http_event ev;
	size_t used;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		v.iov_len = 0;
	if (v.iov_len > 0 && !h->in_request) {      /* the request's clock starts */
		h->in_request = 1;
		conn_set_deadline(h->c, conn_cfg(h->c)->acc_request_timeout);
	}
	used = http_parse(&h->p, v.iov_base, v.iov_len, &ev);
	switch (ev.type) {
	case HTTP_EV_NEED_MORE:
		break;
	case HTTP_EV_HEADERS:
		h->ops->head(h->owner, ev.req);
		break;
	case HTTP_EV_BODY:             /* ev.data points into the input: before the drain */
		h->ops->body(h->owner, ev.data, ev.len);
		break;
	case HTTP_EV_DONE:
		h->handling = 1;
		conn_set_deadline(h->c, 0);
		conn_progress(h->c);
		h->ops->done(h->owner);
		break;
	case HTTP_EV_ERROR:
		h->ops->refuse(h->owner, ev.status, ev.reason);
		break;
	}
	if (in == conn_input(h->c))    /* not freed by an abort meanwhile */
		evbuffer_drain(in, used);
	return ev.type == HTTP_EV_NEED_MORE ? used > 0 : ev.type != HTTP_EV_ERROR;
}

void http_conn_input(struct http_conn *h)
{
	while (conn_ready(h->c) && !h->handling && step(h))
		;
}

/* The request's deadline (408, then close) or the keep-alive idle time (close). */
void http_conn_timeout(struct http_conn *h)
{
	if (h->in_request && !h->handling)
		h->ops->refuse(h->owner, 408, "not complete within [acc] request_timeout");
	else
		conn_close(h->c);
}
