/*
 * maildirsize: the Maildir++ quota file (courier's maildirquota, Dovecot's
 * quota = maildir). The file in the Maildir's root holds the quota on its
 * first line ("10485760S,1000C": bytes with S, messages with C, either may
 * be missing; an empty line is no quota), then one "BYTES COUNT" line per
 * change (deliveries add, deletions subtract; a recalculation writes one
 * line with the totals). Usage is the sum of those lines. The file is
 * recalculated from the Maildir when it is longer than MAILDIRSIZE_MAX
 * bytes, cannot be parsed or states another quota than the current one.
 * This file is pure: it parses and formats bytes; delivery/quota_maildir.c
 * reads and writes the file.
 */
#ifndef HM_MAILDIRSIZE_H
#define HM_MAILDIRSIZE_H
#include <stddef.h>
#include <stdint.h>

/* The Maildir++ bound: past it, recalculate (and one line stays well under it). */
#define MAILDIRSIZE_MAX 5120
#define MAILDIRSIZE_LINE_MAX 64

struct maildirsize {
	int64_t quota_bytes;       /* 0 = no byte limit */
	int64_t quota_messages;    /* 0 = no message limit */
	int64_t bytes;             /* the sum of the usage lines (may be < 0 if damaged) */
	int64_t messages;
	size_t lines;              /* usage lines */
};

/* Parse the file's content (len bytes, NUL not needed). 0, or -1 when it
 * is not a maildirsize file (recalculate it). Pure. */
int maildirsize_parse(const char *data, size_t len, struct maildirsize *out);
/* The quota line, without its newline, into out ("" for no quota): 0 or -1. */
int maildirsize_quota_line(int64_t bytes, int64_t messages, char *out, size_t outlen);
/* One usage line "BYTES COUNT\n" into out: its length, or -1. */
int maildirsize_usage_line(int64_t bytes, int64_t messages, char *out, size_t outlen);

#endif
