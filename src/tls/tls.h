/*
 * tls: the server side of TLS (OpenSSL 3). One default certificate from
 * [tls] certificate/key, plus NAME.crt/NAME.key pairs from [tls] sni_dir
 * chosen by SNI (exact name first, then "_wildcard.PARENT" for one-label
 * wildcards); no SNI or an unknown name gets the default. TLS 1.2 and 1.3
 * only, Mozilla "intermediate" ciphers, no compression, no renegotiation.
 * tls_server_load() again on SIGHUP makes a fresh set; connections in
 * progress keep the contexts they started with.
 */
#ifndef HM_TLS_H
#define HM_TLS_H
#include <stddef.h>
#include <openssl/ssl.h>

struct config;
struct tls_server;

/* NULL with err set when the default certificate or key cannot be used. */
struct tls_server *tls_server_load(const struct config *cfg, char *err, size_t errlen);
/* Drop a reference (the daemon holds one; each SSL made holds one). */
void tls_server_unref(struct tls_server *t);
/* A new server-side SSL for one connection, or NULL. */
SSL *tls_server_new_ssl(struct tls_server *t);
/* How many SNI certificates were loaded. */
int tls_server_sni_count(const struct tls_server *t);
/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" for Received:. */
void tls_describe(const SSL *ssl, char *out, size_t outlen);

#endif
