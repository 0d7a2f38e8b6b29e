/*
 * store_node: the nodes of a fleet (docs/cluster.md), in the store (table
 * nodes, schema version 7) so that every node and hostmailctl see the
 * same list. A node is a hostmaild numbered like the legacy mail<NNN>
 * names; each hosting account's home is the node whose number is its
 * server number, and that node holds its mailboxes' Maildirs. A node
 * says where other nodes reach it: its LMTP listener (internal delivery,
 * mutual TLS), its POP3 listener (the POP3 proxy) and, optionally, its
 * IMAP listener. A draining node keeps its accounts but gets no new ones.
 * Blocking: from hostmaild call these on a worker.
 */
#ifndef HM_STORE_NODE_H
#define HM_STORE_NODE_H
#include <stddef.h>

#define NODE_ADDR_MAX 300            /* HOST:PORT */
#define NODE_NUMBER_MAX 99999         /* the server numbers accounts may have */

struct store;

enum node_state { NODE_ACTIVE = 0, NODE_DRAINING = 1 };

struct node {
	int number;
	char lmtp[NODE_ADDR_MAX];        /* HOST:PORT of its [listen] lmtp */
	char pop3[NODE_ADDR_MAX];        /* HOST:PORT of its POP3 listener */
	char imap[NODE_ADDR_MAX];        /* HOST:PORT of its IMAP (Dovecot), "" = none */
	enum node_state state;
	/* store_node_list only: the accounts and mailboxes homed there */
	int accounts, mailboxes;
};

/* "active" / "draining". */
const char *node_state_name(enum node_state s);
/* HOST:PORT with a host name or address (IPv6 in brackets) and a port
 * 1-65535: 0, or -1. Host into host, port into *port (either may be NULL). */
int node_addr_parse(const char *s, char *host, size_t hostlen, int *port);

/* Add a node (state active). 0, STORE_EEXIST, STORE_EINVAL, STORE_EFAIL. */
int store_node_add(struct store *st, const struct node *n, char *err, size_t errlen);
/* 0 with *out, STORE_ENOTFOUND or STORE_EFAIL. */
int store_node_get(struct store *st, int number, struct node *out);
/* Every node in number order, with its counts. 0 or STORE_EFAIL. */
int store_node_list(struct store *st, int (*cb)(const struct node *, void *), void *arg);
/* Active or draining. 0, STORE_ENOTFOUND, STORE_EFAIL. */
int store_node_set_state(struct store *st, int number, enum node_state state, char *err, size_t errlen);
/* A node's IMAP address (HOST:PORT, or "" for none): 0, STORE_EINVAL,
 * STORE_ENOTFOUND, STORE_EFAIL. */
int store_node_set_imap(struct store *st, int number, const char *imap, char *err, size_t errlen);
/* Remove a node that is home to no account: 0, STORE_ENOTFOUND, STORE_EEXIST
 * (accounts still live there), STORE_EFAIL. */
int store_node_remove(struct store *st, int number, char *err, size_t errlen);
/* Is there any node? 0 with *n the number of nodes, or STORE_EFAIL. */
int store_node_count(struct store *st, int *n);
/* The home for a new account: the active node with the fewest mailboxes
 * (then the lowest number). 0 with *number, STORE_ENOTFOUND (no active
 * node), STORE_EFAIL. */
int store_node_pick(struct store *st, int *number);
/* The home node (server number) of address local@domain: the server
 * number of the account owning domain, whether the mailbox exists or not.
 * 0 with *number and *exists (the mailbox exists), STORE_ENOTFOUND (the
 * domain is not hosted) or STORE_EFAIL. */
int store_mailbox_home(struct store *st, const char *local, const char *domain, int *number, int *exists);

#endif
