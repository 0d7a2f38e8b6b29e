/*
 * tls: server TLS contexts with SNI certificate selection (see tls.h).
 */
#include "tls/tls.h"
#include "util/config.h"
#include "util/log.h"
#include <openssl/err.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdatomic.h>

/* Mozilla "intermediate" (v5.7) for TLS 1.2; TLS 1.3 suites are OpenSSL's defaults. */
#define CIPHERS_TLS12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

struct sni_cert {
	char name[256];     /* lower-case; "*.parent" for a wildcard */
	SSL_CTX *ctx;
};

struct tls_server {
	atomic_int refs;
	SSL_CTX *def;
	struct sni_cert *sni;
	int nsni;
};

static void ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof buf);
	snprintf(err, errlen, "%s %s: %s", what, path, e ? buf : "failed");
	ERR_clear_error();
}

static SSL_CTX *make_ctx(const char *crt, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		ssl_err(err, errlen, "SSL_CTX_new", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_dh_auto(ctx, 1);
	if (!SSL_CTX_set_cipher_list(ctx, CIPHERS_TLS12)) {
		ssl_err(err, errlen, "cipher list", "");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1) {
		ssl_err(err, errlen, "certificate", crt);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "key does not match certificate", crt);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL_CTX *sni_find(const struct tls_server *t, const char *name)
{
	const char *dot;
	char wild[260];
	int i;

	for (i = 0; i < t->nsni; i++)
		if (strcasecmp(t->sni[i].name, name) == 0)
			return t->sni[i].ctx;
	/* A wildcard covers exactly one label: "*.mail.example.net". */
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return NULL;
	snprintf(wild, sizeof wild, "*%s", dot);
	for (i = 0; i < t->nsni; i++)
		if (strcasecmp(t->sni[i].name, wild) == 0)
			return t->sni[i].ctx;
	return NULL;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tls_server *t = arg;
	SSL_CTX *ctx;

	(void)alert;
	if (name && (ctx = sni_find(t, name)) != NULL)
		SSL_set_SSL_CTX(ssl, ctx);
	return SSL_TLSEXT_ERR_OK;
}

static void load_sni_dir(struct tls_server *t, const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char crt[1024], key[1024], name[256], err[512];
		size_t n = strlen(de->d_name);
		struct sni_cert *ns;
		SSL_CTX *ctx;

		if (n <= 4 || strcmp(de->d_name + n - 4, ".crt") != 0 || n - 4 >= sizeof name)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(n - 4), de->d_name);
		snprintf(crt, sizeof crt, "%s/%s", dir, de->d_name);
		snprintf(key, sizeof key, "%s/%s.key", dir, name);
		if (!(ctx = make_ctx(crt, key, err, sizeof err))) {
			log_warn("tls: skipping SNI certificate %s", err);
			continue;
		}
		if (!(ns = realloc(t->sni, (size_t)(t->nsni + 1) * sizeof *ns))) {
			SSL_CTX_free(ctx);
			break;
		}
		t->sni = ns;
		if (strncmp(name, "_wildcard.", 10) == 0)
			snprintf(t->sni[t->nsni].name, sizeof t->sni[0].name, "*.%s", name + 10);
		else
			snprintf(t->sni[t->nsni].name, sizeof t->sni[0].name, "%s", name);
		t->sni[t->nsni].ctx = ctx;
		t->nsni++;
	}
	closedir(d);
}

struct tls_server *tls_server_load(const struct config *cfg, char *err, size_t errlen)
{
	struct tls_server *t = calloc(1, sizeof *t);

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&t->refs, 1);
	if (!(t->def = make_ctx(cfg->tls_certificate, cfg->tls_key, err, errlen))) {
		free(t);
		return NULL;
	}
	if (cfg->tls_sni_dir[0])
		load_sni_dir(t, cfg->tls_sni_dir);
	SSL_CTX_set_tlsext_servername_callback(t->def, on_servername);
	SSL_CTX_set_tlsext_servername_arg(t->def, t);
	return t;
}

void tls_server_unref(struct tls_server *t)
{
	int i;

	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	for (i = 0; i < t->nsni; i++)
		SSL_CTX_free(t->sni[i].ctx);
	free(t->sni);
	SSL_CTX_free(t->def);
	free(t);
}

/* The SSL holds a reference so the SNI callback's arg outlives a reload. */
static void ssl_free_ref(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	tls_server_unref(ptr);
}

SSL *tls_server_new_ssl(struct tls_server *t)
{
	static int ref_index = -1;
	SSL *ssl;

	if (ref_index < 0)
		ref_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_free_ref);
	if (!(ssl = SSL_new(t->def)))
		return NULL;
	atomic_fetch_add(&t->refs, 1);
	SSL_set_ex_data(ssl, ref_index, t);
	return ssl;
}

int tls_server_sni_count(const struct tls_server *t)
{
	return t->nsni;
}

void tls_describe(const SSL *ssl, char *out, size_t outlen)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int alg = 0, bits = c ? SSL_CIPHER_get_bits(c, &alg) : 0;

	snprintf(out, outlen, "%s with cipher %s (%d/%d bits)", SSL_get_version(ssl),
	         c ? SSL_CIPHER_get_name(c) : "none", bits, alg);
}
