/*
 * bounce: RFC 3464 delivery status notifications (see bounce.h). The
 * report is plain 7-bit text: every value that came from elsewhere (a
 * remote reply, an address) is reduced to printable ASCII first. When an
 * address or the original header is UTF-8, it is an RFC 6533 global
 * report instead: addresses as they are (valid UTF-8 only), of type
 * utf-8, in message/global-delivery-status, headers as
 * message/global-headers.
 */
#define _GNU_SOURCE
#include "delivery/bounce.h"
#include "queue/queue.h"
#include "store/store.h"
#include "util/fsutil.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Is s an enhanced status code "c.sss.ddd" followed by a space or the end? */
static size_t enh_len(const char *s)
{
	size_t i = 0;
	int dots = 0, digits = 0;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	for (i = 1; s[i] && s[i] != ' '; i++) {
		if (s[i] == '.') {
			if (digits == 0 && i > 1)
				return 0;
			dots++;
			digits = 0;
		} else if (isdigit((unsigned char)s[i]) && digits < 3) {
			digits++;
		} else {
			return 0;
		}
	}
	return dots == 2 && digits > 0 ? i : 0;
}

void dsn_reason_parse(const char *reason, char *status, size_t slen, char *remote, size_t rlen,
                      char *diag, size_t dlen)
{
	size_t n = enh_len(reason);
	const char *rest = reason + n, *host, *said;

	if (n > 0)
		snprintf(status, slen, "%.*s", (int)n, reason);
	else
		snprintf(status, slen, "%s", reason[0] == '4' ? "4.0.0" : "5.0.0");
	while (*rest == ' ')
		rest++;
	remote[0] = '\0';
	if ((host = strstr(rest, "host ")) && (said = strstr(host, " said: "))) {
		const char *end = host + 5;
		while (end < said && *end != '[')
			end++;
		snprintf(remote, rlen, "%.*s", (int)(end - host - 5), host + 5);
		rest = said + 7;
	}
	snprintf(diag, dlen, "%s", rest);
}

/* Append s as printable ASCII (anything else becomes '?'). */
static int put_clean(struct buf *b, const char *s)
{
	for (; *s; s++) {
		char c = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
		if (buf_append(b, &c, 1) < 0)
			return -1;
	}
	return 0;
}

static int is_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1 for ASCII), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
	         : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* An address in a global report (RFC 6533 3, utf-8-addr-unitext): UTF-8
 * as it is; '\\', '+', '=' and controls as \x{HH}; invalid bytes '?'. */
static int put_utf8_addr(struct buf *b, const char *s)
{
	while (*s) {
		const unsigned char *u = (const unsigned char *)s;
		size_t n = utf8_len(u);
		int r;

		if (n == 0)
			r = buf_append(b, "?", 1), n = 1;
		else if (n == 1 && (u[0] < 0x21 || u[0] == 0x7f || u[0] == '\\' || u[0] == '+' || u[0] == '='))
			r = buf_printf(b, "\\x{%02X}", u[0]);
		else
			r = buf_append(b, s, n);
		if (r < 0)
			return -1;
		s += n;
	}
	return 0;
}

/* An address in the human part or a header: UTF-8 kept in a global report. */
static int put_addr(struct buf *b, const struct dsn *d, const char *s)
{
	if (!d->global)
		return put_clean(b, s);
	for (; *s;) {
		size_t n = utf8_len((const unsigned char *)s);
		char c = n == 1 && (*s < 0x20 || *s == 0x7f) ? '?' : *s;
		if (n <= 1) {
			if (buf_append(b, n ? &c : "?", 1) < 0)
				return -1;
			s++;
		} else {
			if (buf_append(b, s, n) < 0)
				return -1;
			s += n;
		}
	}
	return 0;
}

static void rfc5322_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static int human_part(struct buf *b, const struct dsn *d)
{
	int r = 0;

	r |= buf_printf(b, "--%s\r\nContent-Description: Notification\r\n"
	                "Content-Type: text/plain; charset=%s\r\n%s\r\n", d->boundary,
	                d->global ? "utf-8" : "us-ascii", d->global ? "Content-Transfer-Encoding: 8bit\r\n" : "");
	r |= buf_printf(b, "This is the mail system at host %s.\r\n\r\n", d->reporting_mta);
	if (d->delayed)
		r |= buf_puts(b, "Your message could not be delivered yet to the recipients below.\r\n"
		                 "It is still in the queue and will be tried again; you do not\r\n"
		                 "need to send it again.\r\n\r\n");
	else
		r |= buf_puts(b, "I'm sorry to have to inform you that your message could not\r\n"
		                 "be delivered to one or more recipients. The reasons are below.\r\n\r\n");
	for (size_t i = 0; i < d->nrcpt; i++) {
		r |= buf_puts(b, "<");
		r |= put_addr(b, d, d->rcpts[i].addr);
		r |= buf_puts(b, ">: ");
		r |= put_clean(b, d->rcpts[i].reason);
		r |= buf_puts(b, "\r\n");
	}
	return r |= buf_puts(b, "\r\n");
}

static int status_part(struct buf *b, const struct dsn *d)
{
	char date[64], status[16], remote[256], diag[600];
	int r = 0;

	r |= buf_printf(b, "--%s\r\nContent-Description: Delivery report\r\n"
	                "Content-Type: message/%sdelivery-status\r\n\r\n", d->boundary, d->global ? "global-" : "");
	rfc5322_date(d->arrival, date, sizeof date);
	r |= buf_printf(b, "Reporting-MTA: dns; %s\r\nX-Hostmail-Queue-ID: %s\r\nArrival-Date: %s\r\n",
	                d->reporting_mta, d->queue_id, date);
	rfc5322_date(d->now, date, sizeof date);
	for (size_t i = 0; i < d->nrcpt; i++) {
		dsn_reason_parse(d->rcpts[i].reason, status, sizeof status, remote, sizeof remote,
		                 diag, sizeof diag);
		if (is_8bit(d->rcpts[i].addr, strlen(d->rcpts[i].addr))) {
			r |= buf_puts(b, "\r\nFinal-Recipient: utf-8; ");   /* RFC 6533 3 */
			r |= put_utf8_addr(b, d->rcpts[i].addr);
		} else {
			r |= buf_puts(b, "\r\nFinal-Recipient: rfc822; ");
			r |= put_clean(b, d->rcpts[i].addr);
		}
		r |= buf_printf(b, "\r\nAction: %s\r\nStatus: %s\r\n", d->delayed ? "delayed" : "failed", status);
		if (remote[0]) {
			r |= buf_puts(b, "Remote-MTA: dns; ");
			r |= put_clean(b, remote);
			r |= buf_puts(b, "\r\nDiagnostic-Code: smtp; ");
		} else {
			r |= buf_puts(b, "Diagnostic-Code: X-Hostmail; ");
		}
		r |= put_clean(b, diag);
		r |= buf_printf(b, "\r\nLast-Attempt-Date: %s\r\n", date);
		if (d->delayed && d->retry_until) {
			char until[64];
			rfc5322_date(d->retry_until, until, sizeof until);
			r |= buf_printf(b, "Will-Retry-Until: %s\r\n", until);
		}
	}
	return r |= buf_puts(b, "\r\n");
}

int dsn_format(struct buf *b, const struct dsn *d, const char *headers, size_t hlen)
{
	char date[64];
	int r = 0, hdr8 = is_8bit(headers, hlen);
	struct dsn g = *d;

	/* RFC 6533: a global report when an address or the header is UTF-8 */
	g.global = hdr8 || is_8bit(d->to, strlen(d->to));
	for (size_t i = 0; i < d->nrcpt; i++)
		g.global |= is_8bit(d->rcpts[i].addr, strlen(d->rcpts[i].addr));
	d = &g;
	rfc5322_date(d->now, date, sizeof date);
	r |= buf_printf(b, "Date: %s\r\nFrom: Mail Delivery System <MAILER-DAEMON@%s>\r\nTo: <",
	                date, d->reporting_mta);
	r |= put_addr(b, d, d->to);
	r |= buf_printf(b, ">\r\nSubject: %s\r\nMessage-ID: <%s>\r\nAuto-Submitted: auto-replied\r\n"
	                "MIME-Version: 1.0\r\n"
	                "Content-Type: multipart/report; report-type=%sdelivery-status;\r\n"
	                "\tboundary=\"%s\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n",
	                d->delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender",
	                d->message_id, d->global ? "global-" : "", d->boundary);
	r |= human_part(b, d);
	r |= status_part(b, d);
	r |= buf_printf(b, "--%s\r\nContent-Description: Undelivered Message Headers\r\n"
	                "Content-Type: %s\r\n\r\n", d->boundary,
	                hdr8 ? "message/global-headers" : "text/rfc822-headers");
	r |= buf_append(b, headers, hlen);
	if (hlen >= 2 && !(headers[hlen - 2] == '\r' && headers[hlen - 1] == '\n'))
		r |= buf_puts(b, "\r\n");
	r |= buf_printf(b, "\r\n--%s--\r\n", d->boundary);
	return r ? -1 : 0;
}


int bounce_queue(const char *queue_dir, struct store *st, struct dsn *d, const char *msg_path,
                 uint64_t offset, uint64_t size, char *new_id, size_t idlen)
{
	char *hdr = malloc(DSN_MAX_HEADERS), msgid[QUEUE_ID_LEN + 300], boundary[QUEUE_ID_LEN + 40];
	struct env_rcpt rcpt;
	struct envelope env;
	struct spool *sp = NULL;
	struct buf b;
	size_t hlen;
	int local, e;

	if (!hdr)
		return -1;
	buf_init(&b, DSN_MAX_HEADERS * 2 + 65536 + d->nrcpt * 2048);
	if ((local = store_addr_hosted(st, d->to)) < 0) {
		errno = EAGAIN;
		goto fail;
	}
	if (!(sp = spool_begin(queue_dir)))
		goto fail;
	snprintf(msgid, sizeof msgid, "%s@%s", spool_id(sp), d->reporting_mta);
	snprintf(boundary, sizeof boundary, "%s/%s", spool_id(sp), d->reporting_mta);
	d->message_id = msgid;
	d->boundary = boundary;
	hlen = read_header_section(msg_path, offset, size < DSN_MAX_HEADERS ? (size_t)size : DSN_MAX_HEADERS, hdr);
	if (dsn_format(&b, d, hdr, hlen) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	if (spool_write(sp, b.data, b.len) < 0)
		goto fail;
	memset(&env, 0, sizeof env);
	memset(&rcpt, 0, sizeof rcpt);
	snprintf(rcpt.addr, sizeof rcpt.addr, "%s", d->to);
	rcpt.local = local;
	snprintf(env.client_ip, sizeof env.client_ip, "127.0.0.1");
	snprintf(env.helo, sizeof env.helo, "%s", d->reporting_mta);
	env.nrcpt = 1;
	env.rcpt = &rcpt;
	env.arrival = d->now;
	if (spool_commit(sp, &env) < 0) {
		sp = NULL; /* spool_commit freed it */
		goto fail;
	}
	snprintf(new_id, idlen, "%s", env.id);
	buf_free(&b);
	free(hdr);
	return 0;
fail:
	e = errno;
	spool_abort(sp);
	buf_free(&b);
	free(hdr);
	errno = e;
	return -1;
}
