/*
 * addr: RFC 5321 path / mailbox parser (4.1.2, 4.5.3.1 limits), with
 * RFC 6531 UTF-8 when allowed. Pure: no I/O.
 */
#ifndef HM_ADDR_H
#define HM_ADDR_H
#include <stddef.h>

#define ADDR_LOCAL_MAX  64   /* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX 255  /* RFC 5321 4.5.3.1.2 */
#define ADDR_PATH_MAX   256  /* RFC 5321 4.5.3.1.3, incl. < > */

struct mail_addr {
	int null;                          /* the null path <> */
	char local[ADDR_LOCAL_MAX * 2 + 3];/* as written (quoted form kept, with quotes) */
	char domain[ADDR_DOMAIN_MAX + 1];  /* lower-cased ASCII; "[1.2.3.4]" for literals; "" only for <postmaster> */
	int quoted;                        /* local part was a quoted-string */
	int utf8;                          /* contains non-ASCII (needs SMTPUTF8) */
	int ip_literal;
};

/*
 * Parse a path "<...>" at s (len bytes). A source route "<@a,@b:u@d>" is
 * accepted and ignored (RFC 5321 4.1.2, C.). allow_null: accept "<>".
 * allow_utf8: accept UTF-8 local parts and domains (SMTPUTF8). Returns the
 * number of bytes consumed (through '>'), or -1 with *why set.
 * The local part must be dot-atom or quoted-string; the domain must be a
 * hostname (LDH labels, <= 63 each) or an address literal [IPv4]/[IPv6:...].
 */
int addr_parse_path(const char *s, size_t len, struct mail_addr *out,
                    int allow_null, int allow_utf8, const char **why);

/* "local@domain" into out (no brackets). Returns 0, or -1 with *why. */
int addr_parse_mailbox(const char *s, struct mail_addr *out, int allow_utf8, const char **why);

/* Format as "local@domain" (or "" for the null path) into out. */
void addr_format(const struct mail_addr *a, char *out, size_t outlen);

#endif
