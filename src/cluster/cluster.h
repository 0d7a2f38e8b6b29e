/*
 * cluster: this hostmaild as one node of a fleet (docs/cluster.md). With
 * [cluster] node set, the daemon holds the node's number and two TLS
 * contexts made from [cluster] ca, certificate and key: the LMTP
 * listener's (the peer must present a certificate signed by the CA:
 * SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) and the LMTP
 * client's (the home node's certificate must be signed by the CA and
 * name the host of its LMTP address). Both are read at start; a SIGHUP
 * does not change them. Without [cluster] node there is no struct
 * cluster and every account is local, as before fleets.
 */
#ifndef HM_CLUSTER_H
#define HM_CLUSTER_H
#include <stddef.h>
#include <openssl/ssl.h>

struct config;

struct cluster {
	int node;                 /* [cluster] node */
	SSL_CTX *server;          /* the LMTP listener's: client certificates required */
	SSL_CTX *client;          /* internal delivery's: the server's certificate verified */
};

/* NULL with err set when a certificate, key or the CA cannot be used. */
struct cluster *cluster_load(const struct config *cfg, char *err, size_t errlen);
void cluster_free(struct cluster *cl);

#endif
