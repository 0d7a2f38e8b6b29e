/*
 * smtp_parse: pure parsing of SMTP command lines and MAIL/RCPT arguments
 * (RFC 5321 4.1, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8,
 * RFC 4954 AUTH=). No I/O, no clock: unit-tested and fuzzed alone.
 */
#ifndef HM_SMTP_PARSE_H
#define HM_SMTP_PARSE_H
#include <stddef.h>
#include <stdint.h>
#include "smtp/addr.h"

#define SMTP_LINE_MAX 4096 /* command line incl. CRLF we accept (RFC: >= 512) */

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO, SMTP_VERB_EHLO, SMTP_VERB_MAIL, SMTP_VERB_RCPT,
	SMTP_VERB_DATA, SMTP_VERB_BDAT, SMTP_VERB_RSET, SMTP_VERB_NOOP,
	SMTP_VERB_QUIT, SMTP_VERB_VRFY, SMTP_VERB_EXPN, SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS, SMTP_VERB_AUTH,
	SMTP_VERB_COUNT
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *verb_text; /* canonical upper-case name, "" if unknown */
	const char *arg;       /* points into the line: text after the verb and
	                          one or more spaces; "" if none */
};

/*
 * Parse one command line (without its CRLF; len bytes, need not be
 * NUL-terminated but must not contain NUL for success). Returns 0, or
 * -1 for a line that is not a command (a NUL byte, control characters in
 * the verb): reply 500 5.5.2. An unknown verb returns 0 with SMTP_VERB_UNKNOWN.
 * The line buffer must stay alive while cmd->arg is used; a NUL is written
 * at line[len], so the buffer needs len+1 bytes.
 */
int smtp_parse_cmd(char *line, size_t len, struct smtp_cmd *cmd);

enum smtp_body { SMTP_BODY_7BIT = 0, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

struct smtp_mail_args {
	struct mail_addr from;   /* from.null set for <> */
	int has_size;
	uint64_t size;
	enum smtp_body body;
	int smtputf8;
	int has_auth;            /* AUTH= given (value ignored until AUTH lands) */
};

struct smtp_rcpt_args {
	struct mail_addr to;
};

/*
 * arg is the text after "MAIL" (i.e. "FROM:<a@b> SIZE=10"). Returns 0, or
 * -1 with *code (501 or 555) and *enh ("5.5.4", "5.1.7", ...) and *why set
 * to a static human-readable reason. "FROM: <a@b>" (space after colon) is
 * accepted, as most servers do.
 */
int smtp_parse_mail(const char *arg, struct smtp_mail_args *out,
                    int *code, const char **enh, const char **why);
/* Same for "TO:<a@b>"; <postmaster> without a domain is accepted (to.domain ""). */
int smtp_parse_rcpt(const char *arg, struct smtp_rcpt_args *out,
                    int *code, const char **enh, const char **why);

/* EHLO/HELO argument: a domain or address literal. 0 ok, -1 bad. */
int smtp_parse_helo(const char *arg, char *out, size_t outlen);

/* "BDAT <size> [LAST]": 0 ok, -1 bad. */
int smtp_parse_bdat(const char *arg, uint64_t *size, int *last);

#endif
