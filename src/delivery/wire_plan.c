/*
 * wire_plan: the per-session decisions of the outbound client about
 * SMTPUTF8 and 8BITMIME (see wire_plan.h). The rules are msg_inspect's;
 * the encoding qp_convert's; this file reads the queue file and settles
 * the recipients that cannot go.
 */
#define _GNU_SOURCE
#include "delivery/wire_plan.h"
#include "delivery/msg_inspect.h"
#include "delivery/smtp_client_parse.h"
#include "util/fsutil.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCAN_CHUNK 65536

void wire_plan_init(struct wire_plan *w)
{
	memset(w, 0, sizeof *w);
	buf_init(&w->head, 0);
}

void wire_plan_free(struct wire_plan *w)
{
	buf_free(&w->head);
	memset(w, 0, sizeof *w);
}

static void settle(struct smtpc_rcpt *r, enum smtpc_rcpt_result res, const char *fmt, const char *a,
                   const char *b)
{
	if (r->result != SMTPC_RCPT_NONE)
		return;
	r->result = res;
	snprintf(r->reason, sizeof r->reason, fmt, a, b);
}

static void settle_all(const struct smtpc_params *p, enum smtpc_rcpt_result res, const char *fmt,
                       const char *a, const char *b)
{
	for (size_t i = 0; i < p->nrcpt; i++)
		settle(&p->rcpts[i], res, fmt, a, b);
}

static size_t open_count(const struct smtpc_params *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nrcpt; i++)
		n += p->rcpts[i].result == SMTPC_RCPT_NONE;
	return n;
}

/* The header section: up to and with its empty line (*complete), or the
 * first MSGI_HDR_MAX bytes. -1 on a read error. */
static ssize_t read_header(const struct smtpc_params *p, char *out, int *complete)
{
	size_t cap = p->msg_size < MSGI_HDR_MAX ? (size_t)p->msg_size : MSGI_HDR_MAX, n = 0;
	int fd = open_read_at(p->msg_path, (off_t)p->msg_offset);
	char *end;

	*complete = 0;
	if (fd < 0)
		return -1;
	while (n < cap) {
		ssize_t got = read(fd, out + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (n >= 2 && out[0] == '\r' && out[1] == '\n') {
		*complete = 1;
		return 2;
	}
	if ((end = memmem(out, n, "\r\n\r\n", 4))) {
		*complete = 1;
		return end - out + 4;
	}
	*complete = n == p->msg_size;  /* a message that is all header */
	return (ssize_t)n;
}

/* Read the body (from w->body_off): is it 8-bit, valid UTF-8, and how
 * long is it as quoted-printable? 0, or -1 on a read error. */
static int scan_body(const struct smtpc_params *p, struct wire_plan *w, int *eight, int *utf8,
                     uint64_t *qp_len)
{
	uint64_t left = p->msg_size - (w->body_off - p->msg_offset);
	int fd = open_read_at(p->msg_path, (off_t)w->body_off), r = 0;
	struct utf8_check u = { 0, 0 };
	struct qp_enc q;
	struct buf enc;
	char *chunk = malloc(SCAN_CHUNK);

	*eight = 0;
	*qp_len = 0;
	if (fd < 0 || !chunk) {
		if (fd >= 0)
			close(fd);
		free(chunk);
		return -1;
	}
	qp_init(&q);
	buf_init(&enc, 0);
	while (left > 0) {
		ssize_t got = read(fd, chunk, left < SCAN_CHUNK ? (size_t)left : SCAN_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = -1;
			break;
		}
		left -= (uint64_t)got;
		*eight |= msgi_8bit(chunk, (size_t)got);
		utf8_check_feed(&u, chunk, (size_t)got);
		buf_reset(&enc);
		if (qp_encode(&q, chunk, (size_t)got, &enc) < 0) {
			r = -1;
			break;
		}
		*qp_len += enc.len;
	}
	buf_reset(&enc);
	if (r == 0 && qp_finish(&q, &enc) == 0)
		*qp_len += enc.len;
	*utf8 = !u.bad && u.need == 0;
	buf_free(&enc);
	free(chunk);
	close(fd);
	return r;
}

/* SMTPUTF8: needed by an address or the header; offered or the recipients fail. */
static void plan_utf8(struct wire_plan *w, const struct smtpc_params *p, unsigned ext, const char *label,
                      const struct msgi_header *h)
{
	int rcpt8 = 0;

	for (size_t i = 0; i < p->nrcpt; i++)
		rcpt8 |= msgi_8bit_str(p->rcpts[i].addr);
	if (!rcpt8 && !h->eight_bit && !msgi_8bit_str(p->sender))
		return;
	if (ext & SMTPC_EXT_SMTPUTF8) {
		w->smtputf8 = 1;
		return;
	}
	if (msgi_8bit_str(p->sender))
		settle_all(p, SMTPC_RCPT_PERM, "5.6.7 the sender's address is not ASCII, and host %s does not "
		           "offer SMTPUTF8 (RFC 6531)%s", label, "");
	for (size_t i = 0; i < p->nrcpt; i++)
		if (msgi_8bit_str(p->rcpts[i].addr))
			settle(&p->rcpts[i], SMTPC_RCPT_PERM, "5.6.7 the recipient's address is not ASCII, and "
			       "host %s does not offer SMTPUTF8 (RFC 6531)%s", label, "");
	if (h->eight_bit)
		settle_all(p, SMTPC_RCPT_PERM, "5.6.9 the message has non-ASCII header fields, and host %s "
		           "does not offer SMTPUTF8 (RFC 6531)%s", label, "");
}

/* 8BITMIME: not offered, an 8-bit body goes as quoted-printable or not at all. */
static void plan_8bit(struct wire_plan *w, const struct smtpc_params *p, unsigned ext, const char *label,
                      const struct msgi_header *h, size_t hlen, int complete, const char *hdr)
{
	const char *why;
	int eight = 0, utf8 = 0;
	uint64_t qp_len = 0;

	if ((ext & SMTPC_EXT_8BITMIME) || hlen >= p->msg_size)
		return;                      /* offered, or no body to look at */
	w->body_off = p->msg_offset + hlen;
	if (scan_body(p, w, &eight, &utf8, &qp_len) < 0) {
		settle_all(p, SMTPC_RCPT_TEMP, "4.3.0 cannot read the queued message%s%s", "", "");
		return;
	}
	if (!eight)
		return;
	why = complete ? msgi_why_not_convertible(h) : "its header section is too long to inspect";
	if (why) {
		settle_all(p, SMTPC_RCPT_PERM, "5.6.3 the message has an 8-bit body and host %s does not offer "
		           "8BITMIME (RFC 6152); it cannot be converted to 7 bit: %s", label, why);
		return;
	}
	if (qp_header(hdr, hlen, h->has_mime_version, h->has_ctype, utf8, &w->head) < 0) {
		settle_all(p, SMTPC_RCPT_TEMP, "4.3.0 out of memory%s%s", "", "");
		return;
	}
	w->convert = 1;
	w->size = w->head.len + qp_len;
}

size_t wire_plan_make(struct wire_plan *w, const struct smtpc_params *p, unsigned ext, const char *label)
{
	char *hdr = malloc(MSGI_HDR_MAX);
	struct msgi_header h;
	ssize_t hlen;
	int complete;

	wire_plan_free(w);
	wire_plan_init(w);
	w->size = p->msg_size;
	if (!hdr || (hlen = read_header(p, hdr, &complete)) < 0) {
		settle_all(p, SMTPC_RCPT_TEMP, "4.3.0 cannot read the queued message%s%s", "", "");
		free(hdr);
		return open_count(p);
	}
	msgi_header(hdr, (size_t)hlen, &h);
	plan_utf8(w, p, ext, label, &h);
	if (open_count(p) > 0)
		plan_8bit(w, p, ext, label, &h, (size_t)hlen, complete, hdr);
	free(hdr);
	return open_count(p);
}
