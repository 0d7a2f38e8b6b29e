/*
 * http_conn: HTTP/1.1 on a daemon/conn connection, one request at a time,
 * for every listener that speaks it (the ACC, the admin API, the metrics).
 * Requests are read with the strict parser (http_parse.h); a request's
 * head and body must arrive within [acc] request_timeout of its first
 * byte, however slowly they trickle; a pipelined request waits in the
 * input until the previous one is answered. The owner says what to keep
 * of a request and answers it; this file owns the reading and the clocks.
 */
#ifndef HM_HTTP_CONN_H
#define HM_HTTP_CONN_H
#include <stddef.h>
#include "acc/http_parse.h"

struct conn;

struct http_conn_ops {
	/* The head has come: keep what is needed, or refuse (which answers). */
	void (*head)(void *owner, const struct http_request *hr);
	/* A piece of the body (it points into the input: copy it now). */
	void (*body)(void *owner, const char *p, size_t n);
	/* The request is whole: answer it, now or from a job's done. */
	void (*done)(void *owner);
	/* Answer status (a short page, the connection closed after it) and
	 * log why: unreadable requests and the request deadline's 408. */
	void (*refuse)(void *owner, int status, const char *why);
};

struct http_conn {
	struct conn *c;
	const struct http_conn_ops *ops;
	void *owner;
	int in_request;            /* a request's first byte has come */
	int handling;              /* a whole request is being answered */
	struct http_parser p;      /* last: about 12 KB */
};

/* body_max: the largest body a request may have (0: none). */
void http_conn_init(struct http_conn *h, struct conn *c, const struct http_conn_ops *ops, void *owner,
                    size_t body_max);
/* The owner's conn_proto input and timeout call these. */
void http_conn_input(struct http_conn *h);
void http_conn_timeout(struct http_conn *h);
/* The request has been answered: the next one may be read. */
void http_conn_answered(struct http_conn *h);

#endif
