/*
 * lmtp_client: recipients handed to their home node (lmtp_client.h).
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
	struct lmtp_outcome *out;
	int *open;                       /* recipient i still waits for its outcome */
};

/* The session failed: every recipient without an outcome fails temporarily. */
static void fail(struct lc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct lc *c, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < c->m->nrcpt; i++) {
		if (!c->open[i])
			continue;
		c->out[i].result = LMTP_TEMPFAIL;
		snprintf(c->out[i].reason, sizeof c->out[i].reason, "4.4.1 node %d (%s): %s", c->m->node, c->m->lmtp,
		         what);
		c->open[i] = 0;
	}
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

/* The message from the queue file, dot-stuffed, ending with CRLF. A dot
 * is doubled only at the start of a line after CRLF: where the receiving
 * side's decoder (smtp/data_decode.h) takes one away. -1: the connection
 * failed; -2: the file could not be read (errno). */
static int send_body(struct lc *c)
{
	const struct lmtp_send *m = c->m;
	char in[32768], out[2 * sizeof in];
	uint64_t left = m->size;
	int fd = open_read_at(m->msg_path, (off_t)m->offset), rc = 0, saved = 0;
	char p1 = '\n', p2 = '\r';     /* the last two bytes sent: a line starts */

	if (fd < 0)
		return -2;
	while (left > 0 && rc == 0) {
		ssize_t n = read(fd, in, left < sizeof in ? (size_t)left : sizeof in);
		size_t o = 0;
		if (n <= 0) {
			saved = n < 0 ? errno : EIO;   /* 0: the file is shorter than its envelope says */
			rc = -2;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (in[i] == '.' && p1 == '\n' && p2 == '\r')
				out[o++] = '.';
			out[o++] = in[i];
			p2 = p1;
			p1 = in[i];
		}
		left -= (uint64_t)n;
		if (send_all(c, out, o) < 0)
			rc = -1;
	}
	close(fd);
	if (rc == -2)
		errno = saved;
	if (rc == 0 && !(p2 == '\r' && p1 == '\n') && send_all(c, "\r\n", 2) < 0)
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

/* Recipient i's outcome from the home node's reply. */
static void outcome(struct lc *c, size_t i, int code, const char *text)
{
	c->out[i].result = code / 100 == 2 ? LMTP_DELIVERED : code / 100 == 5 ? LMTP_PERMFAIL : LMTP_TEMPFAIL;
	snprintf(c->out[i].reason, sizeof c->out[i].reason, "%s (node %d said %d)", text, c->m->node, code);
	c->open[i] = 0;
}

/* A reply to the whole transaction (LHLO, MAIL, DATA) that is not the
 * expected one: every open recipient's outcome; a 5xx to LHLO is a
 * configuration matter between nodes, retried. */
static void all(struct lc *c, int code, const char *text, const char *stage)
{
	if (code < 0) {
		fail(c, "connection lost at %s", stage);
		return;
	}
	for (size_t i = 0; i < c->m->nrcpt; i++)
		if (c->open[i])
			outcome(c, i, code, text);
}

static void session(struct lc *c)
{
	const struct lmtp_send *m = c->m;
	size_t i, accepted = 0;
	char text[600];
	int code, b;

	if ((code = read_reply(c, text, sizeof text)) != 220) {
		if (code < 0)
			fail(c, "no greeting");
		else
			fail(c, "greeting %d %s", code, text);
		return;
	}
	if ((code = command(c, text, sizeof text, "LHLO %s", m->helo)) != 250) {
		all(c, code / 100 == 5 ? 451 : code, text, "LHLO");
		return;
	}
	if ((code = command(c, text, sizeof text, "MAIL FROM:<%s>", m->sender)) != 250) {
		all(c, code, text, "MAIL");
		return;
	}
	for (i = 0; i < m->nrcpt; i++) {
		if ((code = command(c, text, sizeof text, "RCPT TO:<%s>", m->rcpts[i])) < 0) {
			fail(c, "connection lost at RCPT");
			return;
		}
		if (code / 100 == 2)
			accepted++;
		else
			outcome(c, i, code, text);
	}
	if (accepted == 0) {
		command(c, text, sizeof text, "QUIT");
		return;
	}
	if ((code = command(c, text, sizeof text, "DATA")) != 354) {
		all(c, code, text, "DATA");
		return;
	}
	if (send_all(c, m->hop, strlen(m->hop)) < 0 || (b = send_body(c)) == -1) {
		fail(c, "connection lost sending the message");
		return;
	}
	if (b == -2) {
		/* never the final dot after part of a message: closing here
		 * makes the home node throw away what it got */
		fail(c, "cannot read the queued message: %s", strerror(errno));
		return;
	}
	if (send_all(c, ".\r\n", 3) < 0) {
		fail(c, "connection lost sending the message");
		return;
	}
	/* RFC 2033 4.2: one reply per accepted recipient, in order */
	for (i = 0; i < m->nrcpt; i++) {
		if (!c->open[i])
			continue;
		if ((code = read_reply(c, text, sizeof text)) < 0) {
			fail(c, "no answer after the message");
			return;
		}
		outcome(c, i, code, text);
	}
	command(c, text, sizeof text, "QUIT");
}

void lmtp_send(const struct lmtp_send *m, struct lmtp_outcome *out)
{
	struct lc c = { .m = m, .fd = -1, .out = out };
	char host[NODE_ADDR_MAX], e[256];
	int port, err = 0;

	if (!(c.open = calloc(m->nrcpt ? m->nrcpt : 1, sizeof *c.open))) {
		for (size_t i = 0; i < m->nrcpt; i++) {
			out[i].result = LMTP_TEMPFAIL;
			snprintf(out[i].reason, sizeof out[i].reason, "4.3.0 out of memory");
		}
		return;
	}
	for (size_t i = 0; i < m->nrcpt; i++)
		c.open[i] = 1;
	if (node_addr_parse(m->lmtp, host, sizeof host, &port) < 0) {
		fail(&c, "not a HOST:PORT");
	} else if ((c.fd = connect_to(host, port, &err)) < 0) {
		fail(&c, "%s", strerror(err));
	} else if (tls_start(&c, host) < 0) {
		long v = c.ssl ? SSL_get_verify_result(c.ssl) : X509_V_OK;
		ERR_error_string_n(ERR_get_error(), e, sizeof e);
		fail(&c, "TLS failed: %s", v != X509_V_OK ? X509_verify_cert_error_string(v) : e);
	} else {
		session(&c);
	}
	if (c.ssl) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	ERR_clear_error();
	if (c.fd >= 0)
		close(c.fd);
	free(c.open);
}
