/*
 * cluster: the node's identity and its two TLS contexts (cluster.h).
 * TLS 1.2 at least (1.3 between hostmail nodes in practice), no
 * compression, no renegotiation, no tickets; the CA file is the only
 * trust anchor (the system's CAs are not loaded: a certificate from a
 * public CA proves nothing about membership in the fleet).
 */
#include "cluster/cluster.h"
#include "util/config.h"
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	char e[256];

	ERR_error_string_n(ERR_get_error(), e, sizeof e);
	snprintf(err, errlen, "[cluster] %s %s: %s", what, path, e);
	ERR_clear_error();
}

static SSL_CTX *make_ctx(const struct config *cfg, int server, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "hostmail-lmtp";
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "[cluster]: cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cluster_certificate) != 1) {
		ssl_err(err, errlen, "certificate", cfg->cluster_certificate);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->cluster_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "key", cfg->cluster_key);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, cfg->cluster_ca, NULL) != 1) {
		ssl_err(err, errlen, "ca", cfg->cluster_ca);
		goto fail;
	}
	if (server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->cluster_ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct cluster *cluster_load(const struct config *cfg, char *err, size_t errlen)
{
	struct cluster *cl = calloc(1, sizeof *cl);

	if (!cl) {
		snprintf(err, errlen, "[cluster]: out of memory");
		return NULL;
	}
	cl->node = cfg->cluster_node;
	if (!(cl->server = make_ctx(cfg, 1, err, errlen)) || !(cl->client = make_ctx(cfg, 0, err, errlen))) {
		cluster_free(cl);
		return NULL;
	}
	return cl;
}

void cluster_free(struct cluster *cl)
{
	if (!cl)
		return;
	SSL_CTX_free(cl->server);
	SSL_CTX_free(cl->client);
	free(cl);
}
