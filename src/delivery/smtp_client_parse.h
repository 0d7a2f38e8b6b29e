/*
 * smtp_client_parse: the pure half of the outbound SMTP client. Reply
 * lines in, replies out (RFC 5321 4.2: "250-..." continuation lines, a
 * last "250 ..." or a bare "250"); EHLO keywords (RFC 1869); the DATA
 * dot-stuffer (RFC 5321 4.5.2) that works chunk by chunk. No sockets,
 * no clock, no disk: tested alone in tests/unit/test_smtp_client_parse.c.
 */
#ifndef HM_SMTP_CLIENT_PARSE_H
#define HM_SMTP_CLIENT_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* Longest reply line accepted (RFC 5321 says 512; be lenient, but bounded). */
#define SMTPC_LINE_MAX 4096
/* Reply text kept for logs and bounces (lines joined by a space). */
#define SMTPC_TEXT_MAX 480
/* Most lines in one reply (an EHLO with many keywords stays far below). */
#define SMTPC_MAX_LINES 100

struct smtpc_reply {
	int code;                      /* 0 while no line was seen */
	int nlines;
	int done;                      /* the last line arrived */
	char text[SMTPC_TEXT_MAX + 1]; /* "250 first line second line", no CR/LF */
};

enum smtpc_feed { SMTPC_MORE = 0, SMTPC_DONE = 1, SMTPC_BAD = -1 };

void smtpc_reply_reset(struct smtpc_reply *r);
/* One line (without CR LF, len bytes; may hold any bytes). SMTPC_MORE
 * until the last line of a reply, then SMTPC_DONE; SMTPC_BAD for a line
 * that is no reply line, a code that changes inside the reply, or too
 * many lines. Control and non-ASCII bytes are kept as '?' in text. */
enum smtpc_feed smtpc_reply_feed(struct smtpc_reply *r, const char *line, size_t len);

/* The enhanced status code at the start of a reply's text ("5.1.1"),
 * copied into out; else "X.0.0" from the reply's class. */
void smtpc_reply_status(const struct smtpc_reply *r, char *out, size_t outlen);

enum {
	SMTPC_EXT_STARTTLS   = 1 << 0,
	SMTPC_EXT_PIPELINING = 1 << 1,
	SMTPC_EXT_SIZE       = 1 << 2,
	SMTPC_EXT_8BITMIME   = 1 << 3,
	SMTPC_EXT_SMTPUTF8   = 1 << 4,
};

struct smtpc_ehlo {
	unsigned ext;        /* SMTPC_EXT_* */
	uint64_t size_max;   /* SIZE parameter, 0 = none announced */
};

/* Collects EHLO keywords line by line: call smtpc_ehlo_line for every line
 * after the first of a 250 EHLO reply (the first names the server). */
void smtpc_ehlo_line(struct smtpc_ehlo *e, const char *line, size_t len);

/* Dot-stuffing for DATA. Queue files already have CRLF line ends; a line
 * that starts with '.' gets another one in front. smtpc_stuff_end adds
 * CRLF if the message did not end with one, then ".\r\n". */
struct smtpc_stuffer {
	int bol;          /* at the beginning of a line */
	char tail[2];     /* the last two bytes seen (does the data end in CRLF?) */
	uint64_t total;   /* bytes seen */
};

void smtpc_stuff_init(struct smtpc_stuffer *s);
/* Append the stuffed form of in[0..n) to out. 0 or -1 (buf bound). */
int smtpc_stuff(struct smtpc_stuffer *s, const char *in, size_t n, struct buf *out);
int smtpc_stuff_end(struct smtpc_stuffer *s, struct buf *out);

#endif
