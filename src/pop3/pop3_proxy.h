/*
 * pop3_proxy: POP3 anywhere in a fleet (docs/cluster.md, "POP3 and IMAP
 * anywhere"). A client that logs in on a node other than its mailbox's
 * home node is proxied there, as Dovecot's proxy does:
 *
 * - the password is checked here, once (the shared store has the hash);
 * - this node connects to the home node's internal POP3 endpoint (the
 *   pop3 address of the nodes table, [listen] pop3_cluster on that node)
 *   over TLS: the home node's certificate is verified against [cluster]
 *   ca and this node presents its own [cluster] certificate;
 * - it logs the user in with "XLOGIN mailbox client-ip", which the home
 *   node accepts only on that endpoint, from a peer whose certificate the
 *   cluster CA signed (a mutual-TLS trusted login: the password never
 *   leaves the node that received it);
 * - the home node answers like any login (its +OK with the message count,
 *   or -ERR [IN-USE]) and records the POP-before-SMTP grant for the
 *   client's real address, which every node shares (PostgreSQL);
 * - then bytes are relayed both ways by this node's event loop with
 *   bounded buffers (POP3_PROXY_HIGH each way): no command is parsed, so
 *   the client sees the home node's messages and UIDLs as they are.
 *
 * The home node unreachable, its TLS refused or no answer within
 * POP3_PROXY_TIMEOUT seconds: "-ERR [SYS/TEMP]" and the session stays in
 * the AUTHORIZATION state.
 */
#ifndef HM_POP3_PROXY_H
#define HM_POP3_PROXY_H
#include <stddef.h>
#include <openssl/ssl.h>

#define POP3_PROXY_HIGH (256 * 1024)  /* bytes buffered each way before reading stops */
#define POP3_PROXY_LOW (64 * 1024)
#define POP3_PROXY_TIMEOUT 30         /* seconds to connect, greet and log in */

struct pop3_session;
struct pop3_proxy;
struct login;
struct config;

/* On the login's worker after the password was right (login_proto.after):
 * the mailbox's home node, when it is another node of the fleet, and its
 * internal POP3 address, kept in l->data (struct p3_home). A store error
 * turns the login into AUTH_TEMPFAIL. */
struct p3_home {
	int node;                  /* 0: this node (or no fleet): serve it here */
	char addr[300];            /* HOST:PORT of its pop3_cluster endpoint */
	int unknown;               /* the home node is not in the nodes table */
	int moving;                /* the account is being moved (store_move.h): not now */
};
void pop3_proxy_after_login(struct login *l);

/* Proxy session s (password already checked) to home h. The client is
 * answered (the home node's reply, or an -ERR) by the proxy. */
void pop3_proxy_start(struct pop3_session *s, const struct login *l, const struct p3_home *h);
/* Client input or drained output of a proxied session. */
void pop3_proxy_input(struct pop3_proxy *p);
void pop3_proxy_drained(struct pop3_proxy *p);
void pop3_proxy_free(struct pop3_proxy *p);

/* The home node's side: "XLOGIN mailbox ip" on the internal endpoint. */
int pop3_proxy_is_xlogin(const struct pop3_session *s, const char *line, size_t len);
/* "XLOGIN mailbox client-address" (NUL-terminated): 0 with both, or -1.
 * Pure: fuzzed in tests/fuzz/fuzz_cluster_cmd.c. */
int pop3_xlogin_parse(const char *line, char mailbox[320], char ip[64]);
void pop3_proxy_xlogin(struct pop3_session *s, const char *line, size_t len);

/* TLS between nodes (pop3_proxy_tls.c). The client side, from [cluster]
 * ca, certificate and key (verifies the peer against the CA, presents
 * ours), made once per set of paths (hostmailctl uses it too); NULL with
 * err. The internal endpoint's server side is the LMTP listener's context
 * (cluster/cluster.h: a client certificate from the CA required). */
SSL *pop3_cluster_client_ssl(const struct config *cfg, char *err, size_t errlen);
struct server;
SSL *pop3_cluster_new_ssl(struct server *srv);

#endif
