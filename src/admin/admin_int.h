/*
 * admin_int: what the admin API's files share (not a public interface).
 * One struct admin_req per request: filled on the event loop from the
 * HTTP request (admin_http.c), handed whole to a worker for the token
 * check, the store and the JSON (admin_api.c), and back on the loop to
 * be answered, logged and freed. A worker touches only its admin_req
 * and the thread-safe store.
 */
#ifndef HM_ADMIN_INT_H
#define HM_ADMIN_INT_H
#include <stddef.h>
#include "acc/http_parse.h"
#include "admin/admin_route.h"
#include "admin/admin_token.h"
#include "util/buf.h"

#define ADMIN_BODY_MAX (64 * 1024)       /* a request's JSON */
#define ADMIN_OUT_MAX (64 * 1024 * 1024) /* an answer (a long queue listing) */

struct config;
struct store;

struct admin_req {
	const struct config *cfg;            /* held: a SIGHUP may publish another */
	struct store *store;
	enum http_method method;
	char path[256];
	char query[1024];
	char authorization[ADMIN_TOKEN_MAX + 16];
	int auth_too_long;
	char content_type[128];
	struct buf body;
	char ip[64];

	/* the worker's findings */
	int authenticated;                   /* a valid token */
	char token[ADMIN_TOKEN_NAME_MAX + 1];  /* its name; or the name tried, "" = unknown */
	int auth_failed;                     /* a token was given and is no token of ours */
	struct admin_match m;
	char what[512];                      /* the change, for the log ("" = none) */

	/* the answer */
	int status;
	struct buf out;                      /* JSON */
	int www_authenticate;                /* 401 */
};

/* admin_api.c, on a worker: authenticate, route, do, and set the answer. */
void admin_api_run(struct admin_req *r);
/* admin_openapi.c: the OpenAPI 3.1 document. */
extern const char admin_openapi_json[];

#endif
