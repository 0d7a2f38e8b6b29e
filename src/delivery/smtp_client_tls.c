/*
 * smtp_client_tls: the outbound client's TLS (see smtp_client_int.h):
 * opportunistic STARTTLS (RFC 3207) over an OpenSSL filter bufferevent,
 * with a write watermark on the socket beneath it so memory stays bounded,
 * and a close_notify at the end (RFC 8446 6.1).
 */
#include "delivery/smtp_client_int.h"
#include "tls/tls.h"
#include "util/config.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/x509.h>
#include <sys/socket.h>

/* After the 221, end TLS the way RFC 8446 6.1 asks: a close_notify.
 * Freeing the filter would only drop the connection, and the socket
 * bufferevent's output is frozen at this point (no evbuffer_write or
 * copyout), so the record SSL_shutdown put there (a few dozen bytes into
 * an idle socket) is sent straight to the socket, best effort. */
void smtpc_tls_close_notify(struct smtpc *s)
{
	struct bufferevent *sock;
	struct evbuffer_iovec v[2];
	struct evbuffer *o;
	SSL *ssl;
	int n;

	if (!s->tls_on || !(ssl = bufferevent_openssl_get_ssl(s->bev)) ||
	    !(sock = bufferevent_get_underlying(s->bev)))
		return;
	o = bufferevent_get_output(sock);
	if (evbuffer_get_length(o) > 0)
		return;                   /* bytes unsent before it: not a clean end */
	SSL_shutdown(ssl);
	n = evbuffer_peek(o, -1, NULL, v, 2);
	for (int i = 0; i < n && i < 2; i++)
		if (send(bufferevent_getfd(sock), v[i].iov_base, v[i].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;
}

int smtpc_start_tls(struct smtpc *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t junk = evbuffer_get_length(in);
	struct bufferevent *tb;
	SSL *ssl;

	if (junk > 0) {
		/* a server (or a man in the middle) talking ahead of the handshake */
		log_warn("%s: %s: discarded %zu byte(s) sent after the STARTTLS reply",
		         s->p.queue_id, s->label, junk);
		evbuffer_drain(in, junk);
	}
	if (!(ssl = SSL_new(s->p.tls))) {
		smtpc_fail(s, "cannot set up TLS with");
		return 1;
	}
	SSL_set_tlsext_host_name(ssl, s->p.host);
	SSL_set1_host(ssl, s->p.host);
	tb = bufferevent_openssl_filter_new(bufferevent_get_base(s->bev), s->bev, ssl,
	                                    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (!tb) {
		SSL_free(ssl);
		smtpc_fail(s, "cannot set up TLS with");
		return 1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, TLS_SOCK_HIGH);
	s->bev = tb;
	bufferevent_setcb(tb, smtpc_on_read, smtpc_on_write, smtpc_on_event, s);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	s->st = S_TLS;
	smtpc_arm(s, s->p.cfg->delivery_greeting_timeout);
	return 0;
}

void smtpc_tls_up(struct smtpc *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	char desc[200];
	long v = SSL_get_verify_result(ssl);

	tls_describe(ssl, desc, sizeof desc);
	log_info("%s: TLS with %s: %s, certificate %s%s", s->p.queue_id, s->label, desc,
	         v == X509_V_OK ? "verified" : "not verified: ",
	         v == X509_V_OK ? "" : X509_verify_cert_error_string(v));
	s->tls_on = 1;
	smtpc_send_ehlo(s);
}

SSL_CTX *smtpc_tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	/* opportunistic TLS (RFC 3207 4.1): the result is logged, not enforced */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_verify_paths(ctx);
	return ctx;
}
