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

/* The queued message's header section (at most HDR_CAP bytes) into out: its length. */
static size_t read_header(const struct vacation_delivery *d, char *out)
{
	int fd = open_read_at(d->msg_path, (off_t)d->offset);
	size_t n = 0, cap = d->size < HDR_CAP ? (size_t)d->size : HDR_CAP;
	char *end;

	if (fd < 0)
		return 0;
	while (n < cap) {
		ssize_t got = read(fd, out + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if ((end = memmem(out, n, "\r\n\r\n", 4)) != NULL)
		return (size_t)(end - out) + 2;
	return n;
}

/* Is addr one of our mailboxes? 1, 0, or -1 (store trouble). */
static int is_local(struct store *st, const char *addr)
{
	char local[320], domain[256];
	const char *at = strrchr(addr, '@');
	int hosted = 0, exists = 0;

	if (!at || (size_t)(at - addr) >= sizeof local || strlen(at + 1) >= sizeof domain)
		return 0;
	snprintf(local, sizeof local, "%.*s", (int)(at - addr), addr);
	snprintf(domain, sizeof domain, "%s", at + 1);
	for (char *p = local; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (char *p = domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (store_rcpt_lookup(st, local, domain, &hosted, &exists) != 0)
		return -1;
	return hosted;
}

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

	if ((local = is_local(st, d->sender)) < 0 || !(sp = spool_begin(queue_dir)))
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
	verdict = vacation_decide(hdr, read_header(d, hdr), d->sender, d->mailbox, &orig);
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
