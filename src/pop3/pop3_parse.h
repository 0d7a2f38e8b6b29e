/*
 * pop3_parse: the pure parts of the POP3 server (RFC 1939, 2449, 5034).
 * pop3_parse() turns one command line into a command and its checked
 * arguments; the encoder turns stored message bytes (LF line ends, as in
 * a Maildir) into the wire form of RETR and TOP: CRLF line ends, dot-
 * stuffing, the body line limit of TOP and the final ".". No I/O: both are
 * unit-tested and fuzzed alone.
 */
#ifndef HM_POP3_PARSE_H
#define HM_POP3_PARSE_H
#include <stddef.h>

#define POP3_LINE_MAX 2048   /* a command or an AUTH continuation, CRLF included */
#define POP3_ARG_MAX 512

enum pop3_cmd {
	POP3_USER, POP3_PASS, POP3_APOP, POP3_AUTH, POP3_STLS, POP3_CAPA, POP3_QUIT,
	POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE, POP3_NOOP, POP3_RSET, POP3_TOP,
	POP3_UIDL, POP3_NCMDS
};

enum pop3_parse_result {
	POP3_PARSE_OK = 0,
	POP3_PARSE_UNKNOWN = -1,  /* not a command we know */
	POP3_PARSE_SYNTAX = -2,   /* known command, bad arguments: see error */
};

struct pop3_command {
	enum pop3_cmd cmd;
	const char *name;          /* canonical upper-case keyword */
	int nargs;                 /* arguments given */
	unsigned long num[2];      /* numeric arguments (LIST, RETR, DELE, TOP, UIDL) */
	char arg[POP3_ARG_MAX];    /* USER name, PASS password, AUTH mechanism */
	char arg2[POP3_ARG_MAX];   /* AUTH initial response */
	const char *error;         /* POP3_PARSE_SYNTAX: why, for the -ERR line */
};

/* Parse one line (without its CRLF; len bytes, may contain NUL). */
enum pop3_parse_result pop3_parse(const char *line, size_t len, struct pop3_command *out);

/*
 * The message encoder. Every LF becomes CRLF (the stored size W= counts
 * every LF as two bytes, and the delivery turned every CRLF into LF, so
 * this gives back exactly what was sent), a line starting with '.' gets
 * a second '.', and with a body line limit (TOP) the output stops after
 * the header, the empty line and that many body lines.
 */
struct pop3_enc {
	int bol;          /* at the beginning of a line */
	int in_header;
	long body_lines;  /* lines still allowed in the body; -1 = all */
	int done;         /* the TOP limit was reached: ignore further input */
};

void pop3_enc_init(struct pop3_enc *e, long body_lines);
/* Encode n bytes of in into out (room for 2 * n bytes); returns the bytes
 * written. Once e->done is set, input is ignored. */
size_t pop3_enc_step(struct pop3_enc *e, const char *in, size_t n, char *out);
/* The end of a multi-line reply: CRLF if the last line had no line end,
 * then ".\r\n". out has room for 5 bytes; returns the bytes written. */
size_t pop3_enc_finish(struct pop3_enc *e, char *out);

#endif
