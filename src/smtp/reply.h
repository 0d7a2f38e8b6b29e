/*
 * reply: formatting SMTP replies (RFC 5321 4.2, RFC 2034 enhanced codes).
 * Pure: appends to a buf.
 */
#ifndef HM_REPLY_H
#define HM_REPLY_H
#include "util/buf.h"

/*
 * Append a reply with code and enhanced status enh (NULL for none, e.g. the
 * 220 greeting). The formatted text may hold several lines separated by
 * '\n': they become "250-..." continuation lines and a last "250 ...".
 * CR and other control bytes in the text are replaced with '?', so peer
 * data echoed in a reply can never split it. Returns 0 or -1 (buf bound).
 */
int smtp_reply(struct buf *out, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
