/*
 * pop3_parse: POP3 command lines and the RETR/TOP message encoder (see
 * pop3_parse.h). Keywords are case-insensitive; arguments are separated
 * by spaces; PASS takes the rest of the line (a password may contain
 * spaces, RFC 1939 section 7).
 */
#include "pop3/pop3_parse.h"
#include <string.h>
#include <strings.h>

enum argspec {
	A_NONE,      /* no arguments */
	A_WORD,      /* exactly one word (USER) */
	A_REST,      /* the rest of the line, spaces included (PASS) */
	A_OPTNUM,    /* [number] (LIST, UIDL) */
	A_NUM,       /* number (RETR, DELE) */
	A_NUM2,      /* number number (TOP) */
	A_AUTH,      /* [mechanism [initial-response]] */
	A_ANY,       /* anything (APOP: refused by the session anyway) */
};

static const struct {
	const char *name;
	enum pop3_cmd cmd;
	enum argspec args;
	const char *syntax;
} table[] = {
	{ "USER", POP3_USER, A_WORD, "Syntax: USER name" },
	{ "PASS", POP3_PASS, A_REST, "Syntax: PASS password" },
	{ "APOP", POP3_APOP, A_ANY, "Syntax: APOP name digest" },
	{ "AUTH", POP3_AUTH, A_AUTH, "Syntax: AUTH mechanism [initial-response]" },
	{ "STLS", POP3_STLS, A_NONE, "Syntax: STLS" },
	{ "CAPA", POP3_CAPA, A_NONE, "Syntax: CAPA" },
	{ "QUIT", POP3_QUIT, A_NONE, "Syntax: QUIT" },
	{ "STAT", POP3_STAT, A_NONE, "Syntax: STAT" },
	{ "LIST", POP3_LIST, A_OPTNUM, "Syntax: LIST [msg]" },
	{ "RETR", POP3_RETR, A_NUM, "Syntax: RETR msg" },
	{ "DELE", POP3_DELE, A_NUM, "Syntax: DELE msg" },
	{ "NOOP", POP3_NOOP, A_NONE, "Syntax: NOOP" },
	{ "RSET", POP3_RSET, A_NONE, "Syntax: RSET" },
	{ "TOP", POP3_TOP, A_NUM2, "Syntax: TOP msg lines" },
	{ "UIDL", POP3_UIDL, A_OPTNUM, "Syntax: UIDL [msg]" },
};

/* A decimal number of at most 9 digits, nothing else. */
static int parse_num(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Split the argument string into at most max words (runs of spaces separate). */
static int split(const char *p, const char *end, const char **w, size_t *wl, int max)
{
	int n = 0;

	for (;;) {
		const char *s;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return n;
		if (n == max)
			return -1;
		s = p;
		while (p < end && *p != ' ')
			p++;
		w[n] = s;
		wl[n++] = (size_t)(p - s);
	}
}

static int copy_arg(char *dst, const char *s, size_t n)
{
	if (n >= POP3_ARG_MAX)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int parse_args(enum argspec spec, const char *p, const char *end, struct pop3_command *c)
{
	const char *w[2];
	size_t wl[2];
	int n, i;

	if (spec == A_REST) {
		/* exactly one space after the keyword; the rest is the argument */
		if (p == end || *p != ' ' || p + 1 == end)
			return -1;
		c->nargs = 1;
		return copy_arg(c->arg, p + 1, (size_t)(end - p - 1));
	}
	if (spec == A_ANY)
		return 0;
	if ((n = split(p, end, w, wl, 2)) < 0)
		return -1;
	c->nargs = n;
	switch (spec) {
	case A_NONE:
		return n == 0 ? 0 : -1;
	case A_WORD:
		return n == 1 ? copy_arg(c->arg, w[0], wl[0]) : -1;
	case A_OPTNUM:
		if (n > 1)
			return -1;
		return n == 0 ? 0 : parse_num(w[0], wl[0], &c->num[0]);
	case A_NUM:
		return n == 1 ? parse_num(w[0], wl[0], &c->num[0]) : -1;
	case A_NUM2:
		if (n != 2)
			return -1;
		for (i = 0; i < 2; i++)
			if (parse_num(w[i], wl[i], &c->num[i]) < 0)
				return -1;
		return 0;
	case A_AUTH:
		if (n >= 1 && copy_arg(c->arg, w[0], wl[0]) < 0)
			return -1;
		if (n == 2 && copy_arg(c->arg2, w[1], wl[1]) < 0)
			return -1;
		return 0;
	default:
		return -1;
	}
}

enum pop3_parse_result pop3_parse(const char *line, size_t len, struct pop3_command *out)
{
	const char *end = line + len, *sp;
	size_t kl, i;

	memset(out, 0, sizeof *out);
	sp = memchr(line, ' ', len);
	kl = sp ? (size_t)(sp - line) : len;
	for (i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strlen(table[i].name) == kl && strncasecmp(table[i].name, line, kl) == 0)
			break;
	if (i == sizeof table / sizeof table[0])
		return POP3_PARSE_UNKNOWN;
	out->cmd = table[i].cmd;
	out->name = table[i].name;
	if (memchr(line, '\0', len) != NULL || parse_args(table[i].args, line + kl, end, out) < 0) {
		out->error = table[i].syntax;
		return POP3_PARSE_SYNTAX;
	}
	return POP3_PARSE_OK;
}

void pop3_enc_init(struct pop3_enc *e, long body_lines)
{
	e->bol = 1;
	e->in_header = 1;
	e->body_lines = body_lines;
	e->done = 0;
}

size_t pop3_enc_step(struct pop3_enc *e, const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n && !e->done; i++) {
		char ch = in[i];

		if (e->bol && ch == '\n' && e->in_header) {
			/* the empty line that ends the header: not a body line */
			e->in_header = 0;
			out[o++] = '\r';
			out[o++] = '\n';
			continue;
		}
		if (e->bol && !e->in_header && e->body_lines == 0) {
			e->done = 1;
			break;
		}
		if (e->bol && ch == '.')
			out[o++] = '.';
		if (ch == '\n') {
			out[o++] = '\r';
			if (!e->in_header && e->body_lines > 0)
				e->body_lines--;
		}
		out[o++] = ch;
		e->bol = ch == '\n';
	}
	return o;
}

size_t pop3_enc_finish(struct pop3_enc *e, char *out)
{
	size_t o = 0;

	if (!e->bol && !e->done) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}
