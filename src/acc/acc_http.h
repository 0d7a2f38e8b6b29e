/*
 * acc_http: the ACC's HTTP/1.1 connections (acc_http.c) and what they
 * hand to the request handling (acc_server.c): one whole request at a
 * time, answered with acc_http_reply (which adds the security headers).
 */
#ifndef HM_ACC_HTTP_H
#define HM_ACC_HTTP_H
#include <stddef.h>
#include "acc/http_parse.h"

struct acc;
struct acc_conn;
struct conn;
struct workers;

enum acc_method { ACC_GET, ACC_POST };

/* A whole request, as the ACC needs it (strings NUL-terminated). */
struct acc_http_req {
	enum acc_method method;     /* HEAD is a GET whose body is not sent */
	int head_only;
	int keep_alive;
	char path[256];             /* the target before '?', not decoded */
	char query[2048];
	char cookie[2048];
	char host[256];             /* the Host field (the parser checked its syntax) */
	char content_type[128];
	const char *body;           /* the form body (POST), body_len bytes */
	size_t body_len;
};

/* The service's start (daemon/conn.h: struct conn_service). */
void acc_conn_start(struct conn *c);
/* acc_server.c: answer req (now or from a job) with acc_http_reply. */
void acc_handle(struct acc *a, struct acc_conn *ac, const struct acc_http_req *req);
/* The answer to the request in flight: the security headers, then fields. */
void acc_http_reply(struct acc_conn *ac, int status, const struct http_field *fields, size_t n,
                    const char *body, size_t len);
/* Work for the request in flight (daemon/conn's conn_job): done(ac, arg),
 * or done(NULL, arg) if the connection ended meanwhile. */
int acc_http_job(struct acc_conn *ac, struct workers *pool, void (*work)(void *),
                 void (*done)(void *st, void *arg), void *arg);
/* The same for a request that checks or hashes a password: through the
 * fair login queue (auth/login_queue.h) shared with SMTP and POP3. -1:
 * the queue is full, answer 503 at once. */
struct login_queue;
int acc_http_login_job(struct acc_conn *ac, struct login_queue *q, const char *user, void (*work)(void *),
                       void (*done)(void *st, void *arg), void *arg);
const char *acc_http_ip(const struct acc_conn *ac);

#endif
