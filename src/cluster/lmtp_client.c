/*
 * lmtp_client: one recipient handed to its home node (lmtp_client.h).
 * Blocking sockets with timeouts (SO_RCVTIMEO/SO_SNDTIMEO; the connect
 * polled), on a queue runner worker. The message is streamed from the
 * queue file with the hop header on top and dot-stuffed on the way.
 * Any failure before the home node's answer to the final dot is
 * temporary: the recipient stays queued and the normal retry schedule
 * (and, at [queue] max_age, the bounce) applies.
 */
#include "cluster/lmtp_client.h"
#include "cluster/lmtp_proto.h"
#include "store/store_node.h"
#include "util/fsutil.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct lc {
	const struct lmtp_send *m;
	int fd;
	SSL *ssl;
	char in[4096];
	size_t inlen;
	char *reason;
	size_t reasonlen;
};

static enum lmtp_result fail(struct lc *c, enum lmtp_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum lmtp_result fail(struct lc *c, enum lmtp_result r, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(c->reason, c->reasonlen, "%s node %d (%s): %s", r == LMTP_PERMFAIL ? "5.0.0" : "4.4.1",
	         c->m->node, c->m->lmtp, what);
	return r;
}

static int connect_to(const char *host, int port, int *err)
{
	struct addrinfo hints = { 0 }, *res = NULL, *a;
	char ports[8];
	int fd = -1;

	snprintf(ports, sizeof ports, "%d", port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, ports, &hints, &res) != 0) {
		*err = EHOSTUNREACH;
		return -1;
	}
	for (a = res; a; a = a->ai_next) {
		struct pollfd p;
		socklen_t l = sizeof *err;
		struct timeval tv = { LMTP_IO_TIMEOUT, 0 };

		if ((fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
			*err = errno;
			continue;
		}
		*err = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			*err = errno;
			if (errno == EINPROGRESS) {
				p.fd = fd;
				p.events = POLLOUT;
				if (poll(&p, 1, LMTP_CONNECT_TIMEOUT * 1000) != 1)
					*err = ETIMEDOUT;
				else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &l) < 0)
					*err = errno;
			}
		}
		if (*err == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int send_all(struct lc *c, const char *p, size_t n)
{
	while (n > 0) {
		int w = SSL_write(c->ssl, p, n > 65536 ? 65536 : (int)n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line (CRLF removed) into out: 0, or -1 (closed, timeout, too long). */
static int read_line(struct lc *c, char *out, size_t outlen)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->inlen);
		int r;

		if (nl) {
			size_t n = (size_t)(nl - c->in), k = n;
			if (k > 0 && c->in[k - 1] == '\r')
				k--;
			if (k >= outlen)
				k = outlen - 1;
			memcpy(out, c->in, k);
			out[k] = '\0';
			memmove(c->in, nl + 1, c->inlen - n - 1);
			c->inlen -= n + 1;
			return 0;
		}
		if (c->inlen == sizeof c->in)
			return -1;
		r = SSL_read(c->ssl, c->in + c->inlen, (int)(sizeof c->in - c->inlen));
		if (r <= 0)
			return -1;
		c->inlen += (size_t)r;
	}
}

/* A whole (multi-line) reply: its code, the text of its last line in
 * text; -1 if none came. */
static int read_reply(struct lc *c, char *text, size_t textlen)
{
	char line[1024];
	const char *t;
	int code, last;

	do {
		if (read_line(c, line, sizeof line) < 0 || lmtp_reply_line(line, &code, &last, &t) < 0)
			return -1;
	} while (!last);
	snprintf(text, textlen, "%s", t);
	return code;
}

/* A command and its reply: the code (-1: the connection failed). */
static int command(struct lc *c, char *text, size_t textlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int command(struct lc *c, char *text, size_t textlen, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2)
		return -1;
	memcpy(line + n, "\r\n", 2);
	if (send_all(c, line, (size_t)n + 2) < 0)
		return -1;
	return read_reply(c, text, textlen);
}

/* The message from the queue file, dot-stuffed, ending with CRLF. */
static int send_body(struct lc *c)
{
	const struct lmtp_send *m = c->m;
	char in[32768], out[2 * sizeof in + 2];
	uint64_t left = m->size;
	int fd = open_read_at(m->msg_path, (off_t)m->offset), bol = 1, rc = 0;
	char prev = '\n', prev2 = '\r';

	if (fd < 0)
		return -2;
	while (left > 0 && rc == 0) {
		ssize_t n = read(fd, in, left < sizeof in ? (size_t)left : sizeof in);
		size_t o = 0;
		if (n <= 0) {
			rc = -2;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (bol && in[i] == '.')
				out[o++] = '.';
			out[o++] = in[i];
			bol = in[i] == '\n';
		}
		prev2 = n >= 2 ? in[n - 2] : prev;
		prev = in[n - 1];
		left -= (uint64_t)n;
		if (send_all(c, out, o) < 0)
			rc = -1;
	}
	close(fd);
	if (rc == 0 && !(prev2 == '\r' && prev == '\n') && send_all(c, "\r\n", 2) < 0)
		rc = -1;
	return rc;
}

static int tls_start(struct lc *c, const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	int ip = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;

	if (!(c->ssl = SSL_new(c->m->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	if (ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1)
			return -1;
	} else if (SSL_set_tlsext_host_name(c->ssl, host) != 1 || SSL_set1_host(c->ssl, host) != 1) {
		return -1;
	}
	return SSL_connect(c->ssl) == 1 ? 0 : -1;
}

static enum lmtp_result result_of(struct lc *c, int code, const char *text)
{
	snprintf(c->reason, c->reasonlen, "%s (node %d said %d)", text, c->m->node, code);
	return code >= 200 && code < 300 ? LMTP_DELIVERED : code >= 500 ? LMTP_PERMFAIL : LMTP_TEMPFAIL;
}

static enum lmtp_result session(struct lc *c)
{
	const struct lmtp_send *m = c->m;
	char text[600];
	int code, b;

	if ((code = read_reply(c, text, sizeof text)) < 0)
		return fail(c, LMTP_TEMPFAIL, "no greeting");
	if (code != 220)
		return fail(c, LMTP_TEMPFAIL, "greeting %d %s", code, text);
	if ((code = command(c, text, sizeof text, "LHLO %s", m->helo)) != 250)
		return code < 0 ? fail(c, LMTP_TEMPFAIL, "connection lost at LHLO") : result_of(c, code / 100 == 5 ? 451 : code, text);
	if ((code = command(c, text, sizeof text, "MAIL FROM:<%s>", m->sender)) != 250)
		return code < 0 ? fail(c, LMTP_TEMPFAIL, "connection lost at MAIL") : result_of(c, code, text);
	if ((code = command(c, text, sizeof text, "RCPT TO:<%s>", m->rcpt)) / 100 != 2)
		return code < 0 ? fail(c, LMTP_TEMPFAIL, "connection lost at RCPT") : result_of(c, code, text);
	if ((code = command(c, text, sizeof text, "DATA")) != 354)
		return code < 0 ? fail(c, LMTP_TEMPFAIL, "connection lost at DATA") : result_of(c, code, text);
	if (send_all(c, m->hop, strlen(m->hop)) < 0 || (b = send_body(c)) == -1 || send_all(c, ".\r\n", 3) < 0)
		return fail(c, LMTP_TEMPFAIL, "connection lost sending the message");
	if (b == -2)
		return fail(c, LMTP_TEMPFAIL, "cannot read the queued message: %s", strerror(errno));
	if ((code = read_reply(c, text, sizeof text)) < 0)
		return fail(c, LMTP_TEMPFAIL, "no answer after the message");
	result_of(c, code, text);
	command(c, text, sizeof text, "QUIT");
	return code / 100 == 2 ? LMTP_DELIVERED : code / 100 == 5 ? LMTP_PERMFAIL : LMTP_TEMPFAIL;
}

enum lmtp_result lmtp_send(const struct lmtp_send *m, char *reason, size_t reasonlen)
{
	struct lc c = { .m = m, .fd = -1, .reason = reason, .reasonlen = reasonlen };
	char host[NODE_ADDR_MAX], e[256];
	enum lmtp_result r;
	int port, err = 0;

	if (node_addr_parse(m->lmtp, host, sizeof host, &port) < 0)
		return fail(&c, LMTP_TEMPFAIL, "not a HOST:PORT");
	if ((c.fd = connect_to(host, port, &err)) < 0)
		return fail(&c, LMTP_TEMPFAIL, "%s", strerror(err));
	if (tls_start(&c, host) < 0) {
		long v = c.ssl ? SSL_get_verify_result(c.ssl) : X509_V_OK;
		ERR_error_string_n(ERR_get_error(), e, sizeof e);
		r = fail(&c, LMTP_TEMPFAIL, "TLS failed: %s", v != X509_V_OK ? X509_verify_cert_error_string(v) : e);
		ERR_clear_error();
	} else {
		r = session(&c);
	}
	if (c.ssl) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	ERR_clear_error();
	close(c.fd);
	return r;
}
