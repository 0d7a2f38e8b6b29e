/*
 * quota: mailbox quotas (docs/quotas.md). The limits come from the store
 * (store/store_quota.h: the mailbox's own, else its account's default),
 * the usage from the Maildir++ maildirsize file (delivery/maildirsize.h),
 * so Dovecot and other Maildir tools count the same. The decisions here
 * are pure; quota_maildir.c reads and keeps the file, quota_check.c joins
 * both for the SMTP server (RCPT, after DATA) and the queue runner.
 */
#ifndef HM_QUOTA_H
#define HM_QUOTA_H
#include <stddef.h>
#include <stdint.h>

struct store;

struct quota_limit {
	int64_t bytes;         /* 0 = no limit */
	int64_t messages;      /* 0 = no limit */
};

struct quota_usage {
	int64_t bytes;
	int64_t messages;
};

/* Does the mailbox have a limit at all? */
int quota_limited(const struct quota_limit *q);
/* Would one more message of size bytes go over the limit? (A mailbox at
 * its limit takes nothing more: size 0 counts as 1.) Pure. */
int quota_would_exceed(const struct quota_limit *q, const struct quota_usage *u, uint64_t size);
/* Usage in percent of the limit (the higher of bytes and messages), 0..;
 * 0 without a limit. Pure. */
int quota_percent(const struct quota_limit *q, const struct quota_usage *u);
/* Did a delivery take the usage from below pct % to pct % or more? Then
 * the mailbox is warned (once: the next crossing needs usage to fall
 * below first). pct 0 = never. Pure. */
int quota_warn_crossed(const struct quota_limit *q, const struct quota_usage *before,
                       const struct quota_usage *after, int pct);
/* "10 MB"-style text for people: out. */
void quota_human(int64_t bytes, char *out, size_t outlen);
/* Parse a size for the command line: "0"/"none" (no limit), "123",
 * "10K", "50M", "2G" (powers of 1024). 0 with *out, or -1. Pure. */
int quota_parse_size(const char *s, int64_t *out);

/* ---- quota_maildir.c: the maildirsize file (blocking) ---- */

/* data_dir/mail/<domain>/<local> of address local@domain into out: 0 or -1. */
int quota_maildir_path(const char *data_dir, const char *address, char *out, size_t outlen);
/* The usage of the Maildir at md under limit q from its maildirsize,
 * recalculated (and rewritten) when missing, too long, damaged or for
 * another quota. A Maildir that does not exist yet is empty. 0 or -1 errno. */
int quota_maildir_usage(const char *md, const struct quota_limit *q, struct quota_usage *u);
/* Count the Maildir's messages (new/ and cur/; S= of the name, else the
 * file's size) without touching maildirsize. 0 or -1. */
int quota_maildir_scan(const char *md, struct quota_usage *u);
/* Add one change line (a delivery +size +1, a deletion -size -n) to an
 * existing maildirsize (none: nothing to do, it is made when needed).
 * 0 or -1 (then the file is removed, to be recalculated). */
int quota_maildir_add(const char *md, int64_t bytes, int64_t messages);

/* ---- quota_check.c: the store and the file together (blocking) ---- */

enum quota_result {
	QUOTA_FITS = 0,        /* or no limit */
	QUOTA_FULL = 1,        /* refuse: 552 5.2.2 (or 452 4.2.2) */
	QUOTA_ERROR = -1       /* store or disk trouble: a temporary failure */
};

/* Would a message of size bytes for address (lower-case local@domain, an
 * existing mailbox) go over its quota? */
enum quota_result quota_check(struct store *st, const char *data_dir, const char *address, uint64_t size);

/* ---- quota_deliver.c: local delivery under the quota (blocking) ---- */

struct quota_delivery {
	const char *data_dir;
	const char *local, *domain;   /* lower case, the mailbox */
	const char *sender;           /* the envelope sender, for Return-Path */
	const char *msg_path;         /* the queued message: size bytes at offset */
	uint64_t offset, size;
	int warning;                  /* [limits] quota_warning, percent (0 = none) */
	const char *hostname;         /* the warning's From: and Message-ID */
};

/* Deliver into the Maildir unless the quota forbids: QUOTA_FITS
 * (delivered; maildirsize updated, the warning delivered if this message
 * took the mailbox past the warning level), QUOTA_FULL (nothing done) or
 * QUOTA_ERROR (errno; nothing in new/: try again later). */
enum quota_result quota_deliver(struct store *st, const struct quota_delivery *d);

#endif
