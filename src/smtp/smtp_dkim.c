/*
 * smtp_dkim: sign a spooled message (smtp_dkim.h). The keys come from
 * the store at each message (a rotation or an activation on any node of
 * a fleet counts at once); the message is read back from the spool file
 * in 64 KiB pieces, never whole in memory; the private keys' PEM is
 * wiped from our memory as soon as the signer has parsed them.
 */
#include "smtp/smtp_dkim.h"
#include "dkim/dkim_sign.h"
#include "queue/queue.h"
#include "store/store.h"
#include "store/store_dkim.h"
#include "util/buf.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct active {
	struct dkim_key k[DKIM_SIGN_MAX_KEYS];
	size_t n;
};

static int take_active(const struct dkim_key *k, void *arg)
{
	struct active *a = arg;

	if (k->state == DKIM_ACTIVE && a->n < DKIM_SIGN_MAX_KEYS)
		a->k[a->n++] = *k;
	return 0;
}

/* Feed the spooled message to s. A message whose last line has no CRLF
 * (BDAT allows it) gets one, in the spool too, so that what is sent is
 * what was signed: sending it with DATA would add it anyway. 0 or -1 (err). */
static int feed_spool(struct dkim_signer *s, struct spool *sp, char *err, size_t errlen)
{
	char b[65536], last[2] = { 0, 0 };
	uint64_t left = spool_size(sp);
	int fd = spool_open_read(sp), rc = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read the queue file: %s", strerror(errno));
		return -1;
	}
	while (left > 0 && rc == 0) {
		ssize_t n = read(fd, b, left < sizeof b ? left : sizeof b);
		if (n <= 0) {
			snprintf(err, errlen, "cannot read the queue file: %s", n ? strerror(errno) : "short");
			rc = -1;
		} else if (dkim_signer_feed(s, b, (size_t)n) < 0) {
			snprintf(err, errlen, "header section over %d bytes", DKIM_SIGN_HEADER_MAX);
			rc = -1;
		} else {
			last[0] = n > 1 ? b[n - 2] : last[1];
			last[1] = b[n - 1];
			left -= (uint64_t)n;
		}
	}
	close(fd);
	if (rc == 0 && (last[0] != '\r' || last[1] != '\n')) {
		if (spool_write(sp, "\r\n", 2) < 0 || dkim_signer_feed(s, "\r\n", 2) < 0) {
			snprintf(err, errlen, "cannot end the message with CRLF: %s", strerror(errno));
			rc = -1;
		}
	}
	return rc;
}

static int sign(struct spool *sp, const char *domain, struct active *a, char *err, size_t errlen)
{
	struct dkim_signer *s = dkim_signer_new(domain, a->k, a->n, (int64_t)time(NULL), err, errlen);
	struct buf hdr;
	int rc = -1;

	OPENSSL_cleanse(a, sizeof *a);   /* the signer has parsed them */
	if (!s)
		return -1;
	buf_init(&hdr, 0);
	if (feed_spool(s, sp, err, errlen) == 0 && dkim_signer_finish(s, &hdr, err, errlen) == 0) {
		if (spool_prepend(sp, hdr.data, hdr.len) == 0)
			rc = 0;
		else
			snprintf(err, errlen, "cannot rewrite the queue file: %s", strerror(errno));
	}
	dkim_signer_free(s);
	buf_free(&hdr);
	return rc;
}

int smtp_dkim_sign_spool(struct store *st, struct spool *sp, const char *domain, char *selectors,
                         size_t sellen, char *err, size_t errlen)
{
	struct active a;
	int rc;

	memset(&a, 0, sizeof a);
	selectors[0] = '\0';
	if (store_dkim_list(st, domain, 1, take_active, &a) != 0) {
		OPENSSL_cleanse(&a, sizeof a);
		snprintf(err, errlen, "cannot read the DKIM keys of %s from the store", domain);
		return SMTP_DKIM_ESTORE;
	}
	if (a.n == 0) {
		snprintf(err, errlen, "%s has no active DKIM key", domain);
		return SMTP_DKIM_NOKEY;
	}
	for (size_t i = 0; i < a.n; i++)
		snprintf(selectors + strlen(selectors), sellen - strlen(selectors), "%s%s", i ? "," : "",
		         a.k[i].selector);
	rc = sign(sp, domain, &a, err, errlen);
	return rc == 0 ? SMTP_DKIM_SIGNED : SMTP_DKIM_EFAIL;
}
