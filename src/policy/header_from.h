/*
 * header_from: the domains of the addresses in a message's From: header
 * fields (RFC 5322 3.6.2, 3.4), for the sender-affiliation check of
 * authorized senders. Handles folding, display names, quoted strings,
 * comments, groups and several mailboxes. Pure: no I/O.
 */
#ifndef HM_HEADER_FROM_H
#define HM_HEADER_FROM_H
#include <stddef.h>

#define HDR_FROM_MAX 16

/*
 * hdr is the message's header section (as received, CRLF or LF line
 * ends; it may stop early). Fills up to max lower-cased domains. Returns
 * the number found, 0 if there is no From: field, or -1 if a From: field
 * holds something that is not an address (no '@', unbalanced <>, too many).
 */
int header_from_domains(const char *hdr, size_t len, char domains[][256], int max);

#endif
