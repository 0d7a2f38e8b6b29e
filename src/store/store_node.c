/*
 * store_node: the public face of the nodes calls (store_node.h): checks
 * the input once for both backends, then dispatches.
 */
#include "store/store_node.h"
#include "store/store.h"
#include "store/store_backend.h"
#include "store/store_valid.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *node_state_name(enum node_state s)
{
	return s == NODE_DRAINING ? "draining" : "active";
}

static int host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == '_';
}

int node_addr_parse(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = s, *he;
	char *end;
	long p;

	if (!s || !*s || strlen(s) >= NODE_ADDR_MAX)
		return -1;
	if (*s == '[') {
		if (!(he = strchr(s, ']')) || he[1] != ':')
			return -1;
		h = s + 1;
		colon = he + 1;
		for (const char *q = h; q < he; q++)
			if (!(host_char(*q) || *q == ':') || *q == '_')
				return -1;
	} else {
		if (!(colon = strrchr(s, ':')) || colon == s)
			return -1;
		he = colon;
		for (const char *q = h; q < he; q++)
			if (!host_char(*q))
				return -1;
	}
	if (he == h || !colon[1])
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535 || colon[1] == '+' || colon[1] == '-')
		return -1;
	if (host && snprintf(host, hostlen, "%.*s", (int)(he - h), h) >= (int)hostlen)
		return -1;
	if (port)
		*port = (int)p;
	return 0;
}

int store_node_add(struct store *st, const struct node *n, char *err, size_t errlen)
{
	if (n->number < 1 || n->number > NODE_NUMBER_MAX) {
		store_seterr(err, errlen, "invalid node number: must be 1 to %d", NODE_NUMBER_MAX);
		return STORE_EINVAL;
	}
	if (node_addr_parse(n->lmtp, NULL, 0, NULL) < 0) {
		store_seterr(err, errlen, "invalid LMTP address \"%s\": HOST:PORT", n->lmtp);
		return STORE_EINVAL;
	}
	if (node_addr_parse(n->pop3, NULL, 0, NULL) < 0) {
		store_seterr(err, errlen, "invalid POP3 address \"%s\": HOST:PORT", n->pop3);
		return STORE_EINVAL;
	}
	if (n->imap[0] && node_addr_parse(n->imap, NULL, 0, NULL) < 0) {
		store_seterr(err, errlen, "invalid IMAP address \"%s\": HOST:PORT", n->imap);
		return STORE_EINVAL;
	}
	return st->ops->node_add(st, n, err, errlen);
}

int store_node_get(struct store *st, int number, struct node *out)
{
	memset(out, 0, sizeof *out);
	if (number < 1 || number > NODE_NUMBER_MAX)
		return STORE_ENOTFOUND;
	return st->ops->node_get(st, number, out);
}

int store_node_list(struct store *st, int (*cb)(const struct node *, void *), void *arg)
{
	return st->ops->node_list(st, cb, arg);
}

int store_node_set_state(struct store *st, int number, enum node_state state, char *err, size_t errlen)
{
	if (state != NODE_ACTIVE && state != NODE_DRAINING) {
		store_seterr(err, errlen, "invalid node state");
		return STORE_EINVAL;
	}
	return st->ops->node_set_state(st, number, state, err, errlen);
}

int store_node_set_imap(struct store *st, int number, const char *imap, char *err, size_t errlen)
{
	if (*imap && node_addr_parse(imap, NULL, 0, NULL) < 0) {
		store_seterr(err, errlen, "the IMAP address must be HOST:PORT");
		return STORE_EINVAL;
	}
	return st->ops->node_set_imap(st, number, imap, err, errlen);
}

int store_node_remove(struct store *st, int number, char *err, size_t errlen)
{
	return st->ops->node_remove(st, number, err, errlen);
}

static int count_one(const struct node *n, void *arg)
{
	(void)n;
	++*(int *)arg;
	return 0;
}

int store_node_count(struct store *st, int *n)
{
	*n = 0;
	return st->ops->node_list(st, count_one, n);
}

int store_node_pick(struct store *st, int *number)
{
	*number = 0;
	return st->ops->node_pick(st, number);
}

int store_mailbox_home(struct store *st, const char *local, const char *domain, int *number, int *exists)
{
	char d[256], addr[320];
	size_t i, n;

	*number = 0;
	*exists = 0;
	if (valid_domain(domain, d, sizeof d, NULL, 0) < 0)
		return STORE_ENOTFOUND;
	n = (size_t)snprintf(addr, sizeof addr, "%s@%s", local, d);
	if (n >= sizeof addr)
		n = 0, addr[0] = '\0';
	for (i = 0; i < n; i++)
		addr[i] = (addr[i] >= 'A' && addr[i] <= 'Z') ? (char)(addr[i] - 'A' + 'a') : addr[i];
	return st->ops->mailbox_home(st, d, addr, number, exists);
}
