/*
 * admin_route: the admin API's resources, a table from method and path
 * pattern to an operation. Pure: a path in, the operation and the path's
 * variable segments (percent-decoded) out; unit-tested alone.
 */
#ifndef HM_ADMIN_ROUTE_H
#define HM_ADMIN_ROUTE_H
#include <stddef.h>
#include "acc/http_parse.h"

enum admin_op {
	OP_OPENAPI,
	OP_ACCOUNT_LIST, OP_ACCOUNT_ADD, OP_ACCOUNT_SHOW, OP_ACCOUNT_REMOVE, OP_ACCOUNT_LIMITS,
	OP_ACCOUNT_SUSPEND, OP_ACCOUNT_RESUME, OP_ACCOUNT_PASSWORD, OP_ACCOUNT_LOGOUT,
	OP_DOMAIN_LIST, OP_DOMAIN_ADD, OP_DOMAIN_REMOVE,
	OP_DKIM_SHOW, OP_DKIM_ROTATE, OP_DKIM_ACTIVATE, OP_DNS_SHOW,
	OP_MAILBOX_LIST, OP_MAILBOX_ADD, OP_MAILBOX_SHOW, OP_MAILBOX_PASSWORD, OP_MAILBOX_REMOVE,
	OP_RELAY_LIST, OP_RELAY_REVOKE,
	OP_QUEUE_LIST, OP_QUEUE_FLUSH_ALL, OP_QUEUE_SHOW, OP_QUEUE_DELETE, OP_QUEUE_FLUSH, OP_QUEUE_BOUNCE,
	OP_ALIAS_LIST, OP_ALIAS_SHOW, OP_ALIAS_SET, OP_ALIAS_REMOVE, OP_CATCHALL_SHOW, OP_CATCHALL_SET,
	OP_CONTACT_SHOW, OP_CONTACT_SET,
	OP_QUEUE_HOLD, OP_QUEUE_RELEASE,
	OP_SPAM_SHOW, OP_SPAM_SET,
	OP_QUOTA_SET, OP_VACATION_SHOW, OP_VACATION_SET, OP_VACATION_OFF,
	OP_NODE_LIST, OP_NODE_ADD, OP_NODE_DRAIN, OP_NODE_ACTIVATE, OP_NODE_REMOVE, OP_MOVE_LIST,
};

#define ADMIN_ARG_MAX 320      /* a mailbox address is the longest segment */

struct admin_route {
	enum http_method method;
	const char *pattern;       /* "/api/accounts/{}/limits": {} is one segment */
	enum admin_op op;
	int change;                /* changes something: not for a read-only token, logged */
	int auth;                  /* needs a token (everything but the OpenAPI document) */
};

struct admin_match {
	const struct admin_route *route;
	char arg[ADMIN_ARG_MAX + 1]; /* the {} segment, decoded ("" if none) */
};

enum admin_route_result { ROUTE_OK, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD, ROUTE_BAD_PATH };

/* Match path (no query) against the table: ROUTE_OK with m filled; a path
 * no pattern has (404), one whose method differs (405), or a segment that
 * does not decode (bad %, NUL, '/', too long: 400). HEAD matches GET. */
enum admin_route_result admin_route(enum http_method method, const char *path, struct admin_match *m);
/* "GET", "POST"... */
const char *admin_method_name(enum http_method m);
/* The value of key in a query string, decoded, into out; 1 found, 0 not, -1 bad. */
int admin_query_get(const char *query, const char *key, char *out, size_t len);

#endif
