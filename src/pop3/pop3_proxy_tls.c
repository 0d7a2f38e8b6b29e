/*
 * pop3_proxy_tls: TLS between the nodes of a fleet for the POP3 proxy.
 * Both sides load [cluster] ca, certificate and key; each verifies that
 * the other's certificate was signed by the cluster CA (that is what a
 * node is: docs/security.md), TLS 1.2 or newer. The contexts are made once
 * and made again only when the configured paths change (SIGHUP); an SSL
 * holds its own reference to the context it came from.
 */
#include "pop3/pop3_proxy.h"
#include "util/config.h"
#include "cluster/cluster.h"
#include "daemon/server.h"
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct ctx_cache {
	SSL_CTX *ctx;
	char ca[512], cert[512], key[512];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_cache client_cache;

static void ssl_err(const char *what, const char *path, char *err, size_t errlen)
{
	char e[256];

	ERR_error_string_n(ERR_get_error(), e, sizeof e);
	snprintf(err, errlen, "%s %s: %s", what, path, e);
	ERR_clear_error();
}

static SSL_CTX *make_ctx(const struct config *cfg, int server, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_load_verify_locations(ctx, cfg->cluster_ca, NULL) != 1) {
		ssl_err("cannot load [cluster] ca", cfg->cluster_ca, err, errlen);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cluster_certificate) != 1) {
		ssl_err("cannot load [cluster] certificate", cfg->cluster_certificate, err, errlen);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->cluster_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err("cannot use [cluster] key", cfg->cluster_key, err, errlen);
		goto fail;
	}
	/* a server: the client must present a certificate of the cluster CA */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	if (server)
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL *new_ssl(struct ctx_cache *cc, const struct config *cfg, int server, char *err, size_t errlen)
{
	SSL *ssl = NULL;

	if (!cfg->cluster_ca[0] || !cfg->cluster_certificate[0] || !cfg->cluster_key[0]) {
		snprintf(err, errlen, "[cluster] ca, certificate and key are needed between nodes");
		return NULL;
	}
	pthread_mutex_lock(&lock);
	if (cc->ctx && (strcmp(cc->ca, cfg->cluster_ca) || strcmp(cc->cert, cfg->cluster_certificate) ||
	                strcmp(cc->key, cfg->cluster_key))) {
		SSL_CTX_free(cc->ctx);          /* the SSLs made from it keep it alive */
		cc->ctx = NULL;
	}
	if (!cc->ctx && (cc->ctx = make_ctx(cfg, server, err, errlen))) {
		snprintf(cc->ca, sizeof cc->ca, "%s", cfg->cluster_ca);
		snprintf(cc->cert, sizeof cc->cert, "%s", cfg->cluster_certificate);
		snprintf(cc->key, sizeof cc->key, "%s", cfg->cluster_key);
	}
	if (cc->ctx && !(ssl = SSL_new(cc->ctx)))
		snprintf(err, errlen, "out of memory");
	pthread_mutex_unlock(&lock);
	return ssl;
}

SSL *pop3_cluster_client_ssl(const struct config *cfg, char *err, size_t errlen)
{
	return new_ssl(&client_cache, cfg, 0, err, errlen);
}

SSL *pop3_cluster_new_ssl(struct server *srv)
{
	/* the LMTP listener's context (cluster/cluster.h): client certificates required */
	return srv->cluster ? SSL_new(srv->cluster->server) : NULL;
}
