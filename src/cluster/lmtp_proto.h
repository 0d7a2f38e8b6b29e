/*
 * lmtp_proto: the pure parts of internal delivery between the nodes of a
 * fleet (LMTP, RFC 2033): the hop header, reply lines, the dedup key.
 * No I/O, no clock: unit-tested (tests/unit/test_lmtp_proto.c) and fuzzed
 * (tests/fuzz/fuzz_lmtp_hop.c).
 *
 * The hop header. The node that hands a message to its home node puts
 *   X-Hostmail-Hop: from=11 to=13 id=11.QUEUEID
 * on top of it. The home node refuses (554 5.4.6) a message carrying two
 * or more: it has made an internal hop before, so something routes in a
 * loop (an account's home that two nodes disagree about, a node that
 * queued what it received over LMTP). id names the accepting node's queue
 * entry: with the recipient it is the key the home node remembers a
 * delivery by, so a message handed over twice (the accepting node crashed
 * between the home node's 250 and recording it) is stored once.
 */
#ifndef HM_LMTP_PROTO_H
#define HM_LMTP_PROTO_H
#include <stddef.h>

#define LMTP_HOP_NAME "X-Hostmail-Hop"
#define LMTP_HOP_ID_MAX 64
#define LMTP_HEADER_SCAN_MAX 65536    /* bytes of the header section looked at */

/* The header line, CRLF-terminated, into out: its length, or -1 if it does
 * not fit or queue_id is not [A-Za-z0-9]+. */
int lmtp_hop_format(char *out, size_t outlen, int from, int to, const char *queue_id);

struct lmtp_hop {
	int count;                        /* hop headers in the header section */
	char id[LMTP_HOP_ID_MAX];         /* id= of the first one, "" if none or malformed */
};

/* Scan the header section of msg (len bytes, CRLF or LF line ends; up to
 * the first empty line or len). */
void lmtp_hop_scan(const char *msg, size_t len, struct lmtp_hop *out);

/* One reply line "250-text" / "250 text" / "250": 0 with *code (200-599),
 * *last (no '-' after the code) and *text (after the separator, "" if
 * none), or -1 if it is not a reply line. */
int lmtp_reply_line(const char *line, int *code, int *last, const char **text);

/* The dedup key of (hop id, recipient): 64 hex digits and a NUL into out
 * (65 bytes). */
void lmtp_dedup_key(const char *hop_id, const char *rcpt, char out[65]);

#endif
