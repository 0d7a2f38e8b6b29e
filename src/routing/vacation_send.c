/*
 * vacation_send: decide and queue an autoresponder's reply after a local
 * delivery (vacation_send.h). The queued file is written, signed and
 * committed like a submission's (write, DKIM, spool_commit: the commit
 * point), so the reply is durable once this returns 1.
 */
#define _GNU_SOURCE
#include "routing/vacation_send.h"
#include "routing/vacation.h"
#include "queue/queue.h"
#include "smtp/smtp_dkim.h"
#include "store/store.h"
#include "store/store_vacation.h"
#include "util/fsutil.h"
#include "util/log.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR_CAP 65536

/* Write, sign and commit the reply r to d->sender. 0 with new_id, or -1. */
static int queue_reply(struct store *st, const char *queue_dir, const struct vacation_delivery *d,
                       struct vacation_reply *r, char *new_id, size_t idlen)
{
	char msgid[QUEUE_ID_LEN + 300], sel[256] = "", err[200] = "";
	struct env_rcpt rcpt;
	struct envelope env;
	struct spool *sp;
	struct buf b;
	int local, rc = -1;

	if ((local = store_addr_hosted(st, d->sender)) < 0 || !(sp = spool_begin(queue_dir)))
		return -1;
	buf_init(&b, VACATION_TEXT_MAX * 2 + 16384);
	snprintf(msgid, sizeof msgid, "%s.vacation@%s", spool_id(sp), d->hostname);
	r->message_id = msgid;
	if (vacation_format(&b, r) < 0 || spool_write(sp, b.data, b.len) < 0)
		goto abort;
	if (d->dkim_sign &&
	    smtp_dkim_sign_spool(st, sp, strrchr(d->mailbox, '@') + 1, sel, sizeof sel, err, sizeof err) ==
	        SMTP_DKIM_ESTORE) {
		log_warn("%s: vacation reply to <%s> not sent: DKIM keys unavailable: %s", d->queue_id, d->sender, err);
		goto abort;
	}
	memset(&env, 0, sizeof env);
	memset(&rcpt, 0, sizeof rcpt);
	snprintf(rcpt.addr, sizeof rcpt.addr, "%s", d->sender);
	rcpt.local = local;
	snprintf(env.client_ip, sizeof env.client_ip, "127.0.0.1");
	snprintf(env.helo, sizeof env.helo, "%s", d->hostname);
	env.nrcpt = 1;
	env.rcpt = &rcpt;
	env.arrival = d->now;
	rc = spool_commit(sp, &env);   /* frees sp either way */
	if (rc == 0)
		snprintf(new_id, idlen, "%s", env.id);
	buf_free(&b);
	return rc;
abort:
	spool_abort(sp);
	buf_free(&b);
	return -1;
}

int vacation_after_delivery(struct store *st, const char *queue_dir, const struct vacation_delivery *d,
                            char *new_id, size_t idlen)
{
	struct vacation *v = malloc(sizeof *v);
	struct vacation_orig orig;
	struct vacation_reply r;
	enum vacation_verdict verdict;
	char *hdr = NULL, to[LOG_VALUE_MAX(320)];
	size_t hlen;
	int rc = 0;

	if (!v)
		return -1;
	if (store_vacation_get(st, d->mailbox, v) != 0 || !vacation_in_force(v, d->now))
		goto out;
	log_addr(d->sender, to, sizeof to);
	if (!(hdr = malloc(HDR_CAP))) {
		rc = -1;
		goto out;
	}
	hlen = read_header_section(d->msg_path, d->offset, d->size < HDR_CAP ? (size_t)d->size : HDR_CAP, hdr);
	verdict = vacation_decide(hdr, hlen, d->sender, d->mailbox, &orig);
	if (verdict != VACATION_REPLY) {
		log_info("%s: to=<%s>: vacation: no reply to %s: %s", d->queue_id, d->mailbox, to,
		         vacation_verdict_name(verdict));
		goto out;
	}
	rc = store_vacation_note(st, d->mailbox, d->sender, d->now, d->period);
	if (rc == 0) {
		log_info("%s: to=<%s>: vacation: no reply to %s: answered within the period", d->queue_id,
		         d->mailbox, to);
		goto out;
	}
	if (rc < 0) {
		log_warn("%s: to=<%s>: vacation: store unavailable, no reply to %s", d->queue_id, d->mailbox, to);
		rc = -1;
		goto out;
	}
	memset(&r, 0, sizeof r);
	r.from = d->mailbox;
	r.to = d->sender;
	r.subject = v->subject;
	r.text = v->text;
	r.now = d->now;
	r.orig = &orig;
	if (queue_reply(st, queue_dir, d, &r, new_id, idlen) < 0) {
		log_warn("%s: to=<%s>: vacation: cannot queue the reply to %s: %s", d->queue_id, d->mailbox, to,
		         strerror(errno));
		rc = -1;
		goto out;
	}
	log_info("%s: to=<%s>: vacation: reply to %s queued as %s", d->queue_id, d->mailbox, to, new_id);
	rc = 1;
out:
	free(hdr);
	free(v);
	return rc;
}
