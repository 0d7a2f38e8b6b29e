/*
 * admin_route: the admin API's route table and its matcher (admin_route.h).
 */
#include "admin/admin_route.h"
#include <string.h>

static const struct admin_route routes[] = {
	{ HTTP_GET, "/api/openapi.json", OP_OPENAPI, 0, 0 },
	{ HTTP_GET, "/api/accounts", OP_ACCOUNT_LIST, 0, 1 },
	{ HTTP_POST, "/api/accounts", OP_ACCOUNT_ADD, 1, 1 },
	{ HTTP_GET, "/api/accounts/{}", OP_ACCOUNT_SHOW, 0, 1 },
	{ HTTP_DELETE, "/api/accounts/{}", OP_ACCOUNT_REMOVE, 1, 1 },
	{ HTTP_PUT, "/api/accounts/{}/limits", OP_ACCOUNT_LIMITS, 1, 1 },
	{ HTTP_POST, "/api/accounts/{}/suspend", OP_ACCOUNT_SUSPEND, 1, 1 },
	{ HTTP_POST, "/api/accounts/{}/resume", OP_ACCOUNT_RESUME, 1, 1 },
	{ HTTP_PUT, "/api/accounts/{}/password", OP_ACCOUNT_PASSWORD, 1, 1 },
	{ HTTP_POST, "/api/accounts/{}/logout", OP_ACCOUNT_LOGOUT, 1, 1 },
	{ HTTP_GET, "/api/domains", OP_DOMAIN_LIST, 0, 1 },
	{ HTTP_POST, "/api/domains", OP_DOMAIN_ADD, 1, 1 },
	{ HTTP_DELETE, "/api/domains/{}", OP_DOMAIN_REMOVE, 1, 1 },
	{ HTTP_GET, "/api/domains/{}/dkim", OP_DKIM_SHOW, 0, 1 },
	{ HTTP_POST, "/api/domains/{}/dkim/rotate", OP_DKIM_ROTATE, 1, 1 },
	{ HTTP_POST, "/api/domains/{}/dkim/activate", OP_DKIM_ACTIVATE, 1, 1 },
	{ HTTP_GET, "/api/domains/{}/dns", OP_DNS_SHOW, 0, 1 },
	{ HTTP_GET, "/api/domains/{}/spam", OP_SPAM_SHOW, 0, 1 },
	{ HTTP_PUT, "/api/domains/{}/spam", OP_SPAM_SET, 1, 1 },
	{ HTTP_GET, "/api/mailboxes", OP_MAILBOX_LIST, 0, 1 },
	{ HTTP_POST, "/api/mailboxes", OP_MAILBOX_ADD, 1, 1 },
	{ HTTP_GET, "/api/mailboxes/{}", OP_MAILBOX_SHOW, 0, 1 },
	{ HTTP_DELETE, "/api/mailboxes/{}", OP_MAILBOX_REMOVE, 1, 1 },
	{ HTTP_PUT, "/api/mailboxes/{}/password", OP_MAILBOX_PASSWORD, 1, 1 },
	{ HTTP_GET, "/api/relay", OP_RELAY_LIST, 0, 1 },
	{ HTTP_DELETE, "/api/relay/{}", OP_RELAY_REVOKE, 1, 1 },
	{ HTTP_GET, "/api/queue", OP_QUEUE_LIST, 0, 1 },
	{ HTTP_POST, "/api/queue/flush", OP_QUEUE_FLUSH_ALL, 1, 1 },
	{ HTTP_GET, "/api/queue/{}", OP_QUEUE_SHOW, 0, 1 },
	{ HTTP_DELETE, "/api/queue/{}", OP_QUEUE_DELETE, 1, 1 },
	{ HTTP_POST, "/api/queue/{}/flush", OP_QUEUE_FLUSH, 1, 1 },
	{ HTTP_POST, "/api/queue/{}/bounce", OP_QUEUE_BOUNCE, 1, 1 },
	{ HTTP_GET, "/api/aliases", OP_ALIAS_LIST, 0, 1 },
	{ HTTP_GET, "/api/aliases/{}", OP_ALIAS_SHOW, 0, 1 },
	{ HTTP_PUT, "/api/aliases/{}", OP_ALIAS_SET, 1, 1 },
	{ HTTP_DELETE, "/api/aliases/{}", OP_ALIAS_REMOVE, 1, 1 },
	{ HTTP_GET, "/api/domains/{}/catchall", OP_CATCHALL_SHOW, 0, 1 },
	{ HTTP_PUT, "/api/domains/{}/catchall", OP_CATCHALL_SET, 1, 1 },
	{ HTTP_GET, "/api/accounts/{}/contact", OP_CONTACT_SHOW, 0, 1 },
	{ HTTP_PUT, "/api/accounts/{}/contact", OP_CONTACT_SET, 1, 1 },
	{ HTTP_POST, "/api/queue/{}/hold", OP_QUEUE_HOLD, 1, 1 },
	{ HTTP_POST, "/api/queue/{}/release", OP_QUEUE_RELEASE, 1, 1 },
	{ HTTP_PUT, "/api/mailboxes/{}/quota", OP_QUOTA_SET, 1, 1 },
	{ HTTP_GET, "/api/mailboxes/{}/vacation", OP_VACATION_SHOW, 0, 1 },
	{ HTTP_PUT, "/api/mailboxes/{}/vacation", OP_VACATION_SET, 1, 1 },
	{ HTTP_DELETE, "/api/mailboxes/{}/vacation", OP_VACATION_OFF, 1, 1 },
	{ HTTP_GET, "/api/nodes", OP_NODE_LIST, 0, 1 },
	{ HTTP_POST, "/api/nodes", OP_NODE_ADD, 1, 1 },
	{ HTTP_POST, "/api/nodes/{}/drain", OP_NODE_DRAIN, 1, 1 },
	{ HTTP_POST, "/api/nodes/{}/activate", OP_NODE_ACTIVATE, 1, 1 },
	{ HTTP_DELETE, "/api/nodes/{}", OP_NODE_REMOVE, 1, 1 },
	{ HTTP_GET, "/api/moves", OP_MOVE_LIST, 0, 1 },
};

const char *admin_method_name(enum http_method m)
{
	static const char *names[] = { "GET", "HEAD", "POST", "PUT", "DELETE" };

	return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out (len bytes); plus_space for queries.
 * -1 on a bad escape, a NUL, a '/' or no room. */
static int decode(const char *s, size_t n, char *out, size_t len, int plus_space)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return -1;
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || c == '/' || k + 1 >= len)
			return -1;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return 0;
}

/* Does path fit pattern? 1 yes (arg filled), 0 no, -1 a bad segment. */
static int fits(const char *pattern, const char *path, char *arg, size_t arglen)
{
	arg[0] = '\0';
	while (*pattern && *path) {
		if (!strncmp(pattern, "{}", 2)) {
			size_t n = strcspn(path, "/");

			if (n == 0)
				return 0;
			if (decode(path, n, arg, arglen, 0) < 0)
				return -1;
			pattern += 2;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

enum admin_route_result admin_route(enum http_method method, const char *path, struct admin_match *m)
{
	enum admin_route_result res = ROUTE_NOT_FOUND;
	enum http_method want = method == HTTP_HEAD ? HTTP_GET : method;

	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		int f = fits(routes[i].pattern, path, m->arg, sizeof m->arg);

		if (f < 0)
			res = ROUTE_BAD_PATH;
		else if (f && routes[i].method != want && res == ROUTE_NOT_FOUND)
			res = ROUTE_BAD_METHOD;
		else if (f && routes[i].method == want) {
			m->route = &routes[i];
			return ROUTE_OK;
		}
	}
	m->arg[0] = '\0';
	return res;
}

int admin_query_get(const char *query, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	while (*query) {
		size_t n = strcspn(query, "&");

		if (n > kl && !strncmp(query, key, kl) && query[kl] == '=')
			return decode(query + kl + 1, n - kl - 1, out, len, 1) < 0 ? -1 : 1;
		query += n;
		if (*query == '&')
			query++;
	}
	return 0;
}
