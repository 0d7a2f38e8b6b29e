/*
 * quota_deliver: local delivery under the mailbox's quota (quota.h). The
 * check and the delivery are not one atomic step: two deliveries at the
 * same moment may both fit and together go a little over, as with
 * courier's and Dovecot's Maildir++ quota (a soft limit; the next one is
 * refused). The warning is a short message delivered into the Maildir
 * itself, past the quota check: it must arrive even at 100 %.
 */
#include "delivery/quota.h"
#include "delivery/maildir.h"
#include "store/store.h"
#include "store/store_quota.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Write the warning (CRLF) to a file in tmp/ and deliver it from there. */
static int deliver_warning(const struct quota_delivery *d, const char *md, const struct quota_limit *q,
                           const struct quota_usage *u, uint64_t *stored)
{
	char path[PATH_MAX], text[2048], date[64], used[32], lim[32];
	struct timespec ts;
	struct tm tm;
	int fd, n, r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	quota_human(u->bytes, used, sizeof used);
	if (q->bytes > 0)
		quota_human(q->bytes, lim, sizeof lim);
	else
		snprintf(lim, sizeof lim, "no limit");
	n = snprintf(text, sizeof text,
	             "From: Mail System <postmaster@%s>\r\nTo: <%s@%s>\r\n"
	             "Subject: Your mailbox is %d%% full\r\nDate: %s\r\n"
	             "Message-ID: <quota.%lld.%ld.%ld@%s>\r\nAuto-Submitted: auto-generated\r\n"
	             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	             "Your mailbox %s@%s uses %d%% of its quota: %s of %s, %lld message(s)%s.\r\n\r\n"
	             "When it is full, new mail is refused. Delete messages you no longer\r\n"
	             "need, or ask your provider for a larger quota.\r\n",
	             d->hostname, d->local, d->domain, quota_percent(q, u), date, (long long)ts.tv_sec,
	             (long)(ts.tv_nsec / 1000), (long)getpid(), d->hostname, d->local, d->domain,
	             quota_percent(q, u), used, lim, (long long)u->messages,
	             q->messages > 0 ? " (of a limit on the count)" : "");
	if (n < 0 || (size_t)n >= sizeof text ||
	    snprintf(path, sizeof path, "%s/tmp/quota-warning.%ld.%ld", md, (long)getpid(), (long)ts.tv_nsec) >=
	        (int)sizeof path)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -1;
	r = write(fd, text, (size_t)n) == n ? 0 : -1;
	if (close(fd) < 0)
		r = -1;
	if (r == 0)
		r = maildir_deliver_sized(d->data_dir, d->local, d->domain, "", path, 0, (uint64_t)n, stored);
	unlink(path);
	return r;
}

enum quota_result quota_deliver(struct store *st, const struct quota_delivery *d)
{
	char addr[330], md[PATH_MAX];
	struct store_quota sq;
	struct quota_limit q;
	struct quota_usage before, after;
	uint64_t stored = 0, wsize = 0;
	int rc;

	snprintf(addr, sizeof addr, "%s@%s", d->local, d->domain);
	rc = store_quota_get(st, addr, &sq);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		errno = EAGAIN;
		return QUOTA_ERROR;
	}
	q.bytes = rc == 0 ? sq.bytes : 0;
	q.messages = rc == 0 ? sq.messages : 0;
	if (!quota_limited(&q))
		return maildir_deliver(d->data_dir, d->local, d->domain, d->sender, d->msg_path, d->offset, d->size) == 0
		           ? QUOTA_FITS : QUOTA_ERROR;
	if (maildir_create(d->data_dir, d->local, d->domain, md, sizeof md) < 0 ||
	    quota_maildir_usage(md, &q, &before) < 0)
		return QUOTA_ERROR;
	if (quota_would_exceed(&q, &before, d->size))
		return QUOTA_FULL;
	if (maildir_deliver_sized(d->data_dir, d->local, d->domain, d->sender, d->msg_path, d->offset, d->size,
	                          &stored) < 0)
		return QUOTA_ERROR;
	quota_maildir_add(md, (int64_t)stored, 1);
	after.bytes = before.bytes + (int64_t)stored;
	after.messages = before.messages + 1;
	if (quota_warn_crossed(&q, &before, &after, d->warning) && deliver_warning(d, md, &q, &after, &wsize) == 0)
		quota_maildir_add(md, (int64_t)wsize, 1);
	return QUOTA_FITS;
}
