/*
 * lmtp_client: internal delivery's sending side. The queue runner (on a
 * worker thread: this blocks) hands the queued recipients of one message
 * whose mailboxes are homed on one other node, in one LMTP transaction, to that node's LMTP listener over TLS, presenting
 * this node's certificate and verifying the home node's: signed by
 * [cluster] ca and naming the host of the node's LMTP address (an IP
 * address SAN for an address, a DNS name otherwise). docs/cluster.md.
 */
#ifndef HM_LMTP_CLIENT_H
#define HM_LMTP_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#define LMTP_CONNECT_TIMEOUT 30      /* seconds */
#define LMTP_IO_TIMEOUT 300          /* seconds for each reply (the last: Maildir writes and fsyncs) */

enum lmtp_result { LMTP_DELIVERED = 0, LMTP_TEMPFAIL = 1, LMTP_PERMFAIL = 2 };

struct lmtp_send {
	SSL_CTX *ctx;                    /* the cluster's client context */
	const char *lmtp;                /* HOST:PORT of the home node */
	int node;                        /* its number, for the reasons */
	const char *helo;                /* our host name */
	const char *hop;                 /* the hop header line, CRLF-terminated */
	const char *sender;              /* "" for <> */
	const char *const *rcpts;        /* nrcpt addresses */
	size_t nrcpt;
	const char *msg_path;            /* the queued message: CRLF line ends */
	uint64_t offset, size;
};

#define LMTP_REASON_MAX 600

/* One recipient's outcome: with an enhanced status code and text in
 * reason ("4.4.1 node 13 (127.0.0.13:24): Connection refused", or the
 * home node's own reply to its RCPT or to the data). */
struct lmtp_outcome {
	enum lmtp_result result;
	char reason[LMTP_REASON_MAX];
};

/* Deliver to m->nrcpt recipients: out[i] for m->rcpts[i]. A failure of the
 * session (connection, TLS, a reply missing) is every open recipient's
 * temporary failure. */
void lmtp_send(const struct lmtp_send *m, struct lmtp_outcome *out);

#endif
