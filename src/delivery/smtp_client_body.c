/*
 * smtp_client_body: the message, streamed from the queue file after the
 * 354 (see smtp_client_int.h): chunk by chunk, dot-stuffed, converted to
 * quoted-printable first when the session's wire plan says so; the
 * output is refilled below OUT_LOW, so a message of any size holds a few
 * chunks of memory.
 */
#include "delivery/smtp_client_int.h"
#include "util/config.h"
#include "util/fsutil.h"
#include "util/log.h"
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A chunk of the message onto s->out: dot-stuffed, and first converted
 * to quoted-printable when the plan says so. */
static int stuff_chunk(struct smtpc *s, const char *chunk, size_t n)
{
	if (!s->plan.convert)
		return smtpc_stuff(&s->stuffer, chunk, n, &s->out);
	buf_reset(&s->qpbuf);
	if (qp_encode(&s->qp, chunk, n, &s->qpbuf) < 0)
		return -1;
	return smtpc_stuff(&s->stuffer, s->qpbuf.data, s->qpbuf.len, &s->out);
}

/* Top up the output with the next chunks of the message; after the last,
 * the final ".". 1 if the session ended (read error). */
int smtpc_refill(struct smtpc *s)
{
	struct evbuffer *o = bufferevent_get_output(s->bev);
	char chunk[8192];

	while (s->st == S_BODY && evbuffer_get_length(o) < CHUNK) {
		ssize_t got = s->left == 0 ? 0
		            : read(s->fd, chunk, s->left < sizeof chunk ? (size_t)s->left : sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			log_warn("%s: reading %s: %s", s->p.queue_id, s->p.msg_path, strerror(errno));
			smtpc_fail(s, "local read error while sending to"); /* no "." sent: nothing delivered */
			return 1;
		}
		buf_reset(&s->out);
		s->left -= (uint64_t)got;
		if (got == 0) {
			if (s->plan.convert && (buf_reset(&s->qpbuf), qp_finish(&s->qp, &s->qpbuf) < 0 ||
			                        smtpc_stuff(&s->stuffer, s->qpbuf.data, s->qpbuf.len, &s->out) < 0)) {
				smtpc_fail(s, "out of memory while sending to");
				return 1;
			}
			smtpc_stuff_end(&s->stuffer, &s->out);
			close(s->fd);
			s->fd = -1;
			s->st = S_DOT;
			bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
			smtpc_arm(s, s->p.cfg->delivery_data_done_timeout);
		} else if (stuff_chunk(s, chunk, (size_t)got) < 0) {
			smtpc_fail(s, "out of memory while sending to");
			return 1;
		}
		evbuffer_add(o, s->out.data, s->out.len);
	}
	if (s->st == S_BODY)
		smtpc_arm(s, s->p.cfg->delivery_data_block_timeout);
	return 0;
}

/* Open the queue file and start streaming (the 354 arrived). */
int smtpc_begin_body(struct smtpc *s)
{
	uint64_t from = s->plan.convert ? s->plan.body_off : s->p.msg_offset;

	if ((s->fd = open_read_at(s->p.msg_path, (off_t)from)) < 0) {
		char reason[512];
		snprintf(reason, sizeof reason, "4.3.0 cannot read the queued message: %s", strerror(errno));
		log_warn("%s: %s", s->p.queue_id, reason);
		/* a connection closed without "." aborts the transaction */
		for (size_t i = 0; i < s->p.nrcpt; i++)
			if (s->p.rcpts[i].result == SMTPC_RCPT_OK || s->p.rcpts[i].result == SMTPC_RCPT_NONE) {
				s->p.rcpts[i].result = SMTPC_RCPT_TEMP;
				snprintf(s->p.rcpts[i].reason, sizeof s->p.rcpts[i].reason, "%s", reason);
			}
		smtpc_finish(s, SMTPC_FINISHED, NULL);
		return 1;
	}
	smtpc_stuff_init(&s->stuffer);
	s->left = s->p.msg_size - (from - s->p.msg_offset);
	if (s->plan.convert) {
		/* the rewritten header first, then the body as quoted-printable */
		qp_init(&s->qp);
		buf_reset(&s->out);
		if (smtpc_stuff(&s->stuffer, s->plan.head.data, s->plan.head.len, &s->out) < 0) {
			smtpc_fail(s, "out of memory while sending to");
			return 1;
		}
		evbuffer_add(bufferevent_get_output(s->bev), s->out.data, s->out.len);
	}
	s->st = S_BODY;
	bufferevent_setwatermark(s->bev, EV_WRITE, OUT_LOW, 0);
	return smtpc_refill(s);
}
