/*
 * submit_fixup: what a submission server adds to a message it is given
 * (RFC 6409 8.2 and 8.3): a Date: and a Message-ID: when the client sent
 * none. Pure: the header section in, the lines to add out; smtp_txn.c
 * inserts them at the end of the header section while the message is
 * still in memory, before anything (a DKIM signer) reads the whole
 * message at the commit.
 */
#ifndef HM_SUBMIT_FIXUP_H
#define HM_SUBMIT_FIXUP_H
#include <stddef.h>
#include <time.h>
#include "util/buf.h"

/* What the added lines may take beyond the captured header section. */
#define SUBMIT_FIXUP_ROOM 512

enum { SUBMIT_NEED_DATE = 1 << 0, SUBMIT_NEED_MSGID = 1 << 1 };

/* Where the header section of msg (len bytes, CRLF line ends) ends: the
 * offset of the empty line that ends it (0 for an empty header section),
 * or -1 when no empty line is in msg[0..len). */
long submit_header_end(const char *msg, size_t len);

/* Which of Date: and Message-ID: hdr (a header section, hlen bytes) lacks:
 * SUBMIT_NEED_* bits. Field names match case-insensitively, at the start
 * of a line (not a folded continuation), with optional blanks before ':'. */
int submit_fixup_missing(const char *hdr, size_t hlen);

/* Append the missing fields, CRLF-terminated, to out: "Date: <now, RFC
 * 5322, UTC>" and "Message-ID: <YYYYMMDDhhmmss.ID@HOST>". 0 or -1. */
int submit_fixup_lines(struct buf *out, int need, time_t now, const char *id, const char *host);

#endif
