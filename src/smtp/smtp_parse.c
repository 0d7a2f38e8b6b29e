/*
 * smtp_parse: SMTP command lines and MAIL/RCPT/HELO/BDAT arguments (see
 * smtp_parse.h). Verbs come from a table; paths go to addr.c; ESMTP
 * parameters follow RFC 5321 4.1.2 esmtp-param syntax. Pure: no I/O.
 */
#include "smtp/smtp_parse.h"
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{ "HELO", SMTP_VERB_HELO }, { "EHLO", SMTP_VERB_EHLO },
	{ "MAIL", SMTP_VERB_MAIL }, { "RCPT", SMTP_VERB_RCPT },
	{ "DATA", SMTP_VERB_DATA }, { "BDAT", SMTP_VERB_BDAT },
	{ "RSET", SMTP_VERB_RSET }, { "NOOP", SMTP_VERB_NOOP },
	{ "QUIT", SMTP_VERB_QUIT }, { "VRFY", SMTP_VERB_VRFY },
	{ "EXPN", SMTP_VERB_EXPN }, { "HELP", SMTP_VERB_HELP },
	{ "STARTTLS", SMTP_VERB_STARTTLS }, { "AUTH", SMTP_VERB_AUTH },
};

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int smtp_parse_cmd(char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t i = 0, k;

	line[len] = '\0';
	cmd->verb = SMTP_VERB_UNKNOWN;
	cmd->verb_text = "";
	cmd->arg = "";
	if (memchr(line, '\0', len) != NULL)
		return -1;
	for (i = 0; i < len && line[i] != ' '; i++)
		if (is_ctl((unsigned char)line[i]))
			return -1;
	for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++) {
		if (strlen(verbs[k].name) == i &&
		    strncasecmp(line, verbs[k].name, i) == 0) {
			cmd->verb = verbs[k].verb;
			cmd->verb_text = verbs[k].name;
			break;
		}
	}
	while (i < len && line[i] == ' ')
		i++;
	cmd->arg = line + i;
	return 0;
}

/* Decimal uint64 of 1..20 digits; -1 on empty, junk or overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return -1;
		d = (unsigned)(s[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

/* RFC 3461 xtext: xchar = 33..126 except '+' '='; hexchar = '+' 2 upper HEXDIG. */
static int valid_xtext(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			size_t k;

			for (k = 1; k <= 2; k++) {
				char h = i + k < n ? s[i + k] : 0;

				if (!is_digit(h) && !(h >= 'A' && h <= 'F'))
					return 0;
			}
			i += 2;
		} else if (s[i] < 33 || s[i] > 126 || s[i] == '=') {
			return 0;
		}
	}
	return 1;
}

struct param {
	const char *kw, *val; /* val NULL when no "=" */
	size_t kwlen, vallen;
};

#define PERR(c, e, w) do { *code = (c); *enh = (e); *why = (w); return -1; } while (0)

/* Next esmtp-param at *p (leading spaces skipped); 1 found, 0 end, -1 bad. */
static int next_param(const char **p, struct param *pm)
{
	const char *s = *p;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	pm->kw = s;
	if (!is_digit(*s) && !((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
		return -1;
	while (*s == '-' || is_digit(*s) || ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
		s++;
	pm->kwlen = (size_t)(s - pm->kw);
	pm->val = NULL;
	pm->vallen = 0;
	if (*s == '=') {
		pm->val = ++s;
		while (*s > 32 && *s < 127 && *s != '=')
			s++;
		pm->vallen = (size_t)(s - pm->val);
		if (pm->vallen == 0)
			return -1;
	}
	if (*s != ' ' && *s != '\0')
		return -1;
	*p = s;
	return 1;
}

static int kw_is(const struct param *pm, const char *name)
{
	return pm->kwlen == strlen(name) && strncasecmp(pm->kw, name, pm->kwlen) == 0;
}

static int val_is(const struct param *pm, const char *name)
{
	return pm->vallen == strlen(name) && strncasecmp(pm->val, name, pm->vallen) == 0;
}

/* One MAIL parameter into out; seen tracks duplicates by bit. */
static int mail_param(const struct param *pm, struct smtp_mail_args *out,
                      unsigned *seen, int *code, const char **enh, const char **why)
{
	unsigned bit;

	if (kw_is(pm, "SIZE"))
		bit = 1;
	else if (kw_is(pm, "BODY"))
		bit = 2;
	else if (kw_is(pm, "SMTPUTF8"))
		bit = 4;
	else if (kw_is(pm, "AUTH"))
		bit = 8;
	else
		PERR(555, "5.5.4", "unsupported MAIL parameter");
	if (*seen & bit)
		PERR(501, "5.5.4", "duplicate MAIL parameter");
	*seen |= bit;
	if ((bit == 4) != (pm->val == NULL))
		PERR(501, "5.5.4", bit == 4 ? "SMTPUTF8 takes no value" :
		     "MAIL parameter needs a value");
	switch (bit) {
	case 1:
		if (parse_u64(pm->val, pm->vallen, &out->size) < 0)
			PERR(501, "5.5.4", "invalid SIZE value");
		out->has_size = 1;
		break;
	case 2:
		if (val_is(pm, "7BIT"))
			out->body = SMTP_BODY_7BIT;
		else if (val_is(pm, "8BITMIME"))
			out->body = SMTP_BODY_8BITMIME;
		else if (val_is(pm, "BINARYMIME"))
			out->body = SMTP_BODY_BINARYMIME;
		else
			PERR(501, "5.5.4", "invalid BODY value");
		break;
	case 4:
		out->smtputf8 = 1;
		break;
	default:
		if (!valid_xtext(pm->val, pm->vallen))
			PERR(501, "5.5.4", "invalid AUTH value");
		out->has_auth = 1;
		break;
	}
	return 0;
}

/* "KEYWORD:" then optional spaces; returns the text after, or NULL. */
static const char *after_keyword(const char *arg, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(arg, kw, n) != 0)
		return NULL;
	arg += n;
	while (*arg == ' ')
		arg++;
	return arg;
}

int smtp_parse_mail(const char *arg, struct smtp_mail_args *out,
                    int *code, const char **enh, const char **why)
{
	const char *p, *reason;
	struct param pm;
	unsigned seen = 0;
	int n, r;

	memset(out, 0, sizeof(*out));
	if ((p = after_keyword(arg, "FROM:")) == NULL)
		PERR(501, "5.5.4", "syntax: MAIL FROM:<address>");
	/* UTF-8 is checked against SMTPUTF8 after the parameters are read. */
	n = addr_parse_path(p, strlen(p), &out->from, 1, 1, &reason);
	if (n < 0)
		PERR(501, "5.1.7", reason);
	p += n;
	if (*p != ' ' && *p != '\0')
		PERR(501, "5.5.4", "syntax error after address");
	while ((r = next_param(&p, &pm)) > 0)
		if (mail_param(&pm, out, &seen, code, enh, why) < 0)
			return -1;
	if (r < 0)
		PERR(501, "5.5.4", "syntax error in MAIL parameters");
	if (out->from.utf8 && !out->smtputf8)
		PERR(553, "5.6.7", "non-ASCII address needs SMTPUTF8");
	return 0;
}

int smtp_parse_rcpt(const char *arg, struct smtp_rcpt_args *out,
                    int *code, const char **enh, const char **why)
{
	const char *p, *reason;
	struct param pm;
	int n, r;

	memset(out, 0, sizeof(*out));
	if ((p = after_keyword(arg, "TO:")) == NULL)
		PERR(501, "5.5.4", "syntax: RCPT TO:<address>");
	if (strncasecmp(p, "<postmaster>", 12) == 0) {
		/* RFC 5321 4.5.1: domain-less, case-insensitive; stored canonical. */
		memcpy(out->to.local, "postmaster", sizeof("postmaster"));
		n = 12;
	} else if ((n = addr_parse_path(p, strlen(p), &out->to, 0, 1, &reason)) < 0) {
		PERR(501, "5.1.3", reason);
	}
	p += n;
	if (*p != ' ' && *p != '\0')
		PERR(501, "5.5.4", "syntax error after address");
	r = next_param(&p, &pm);
	if (r < 0)
		PERR(501, "5.5.4", "syntax error in RCPT parameters");
	if (r > 0)
		PERR(555, "5.5.4", "unsupported RCPT parameter");
	return 0;
}

int smtp_parse_helo(const char *arg, char *out, size_t outlen)
{
	size_t n = strlen(arg), i;
	char tmp[ADDR_DOMAIN_MAX + 3];
	struct mail_addr a;
	const char *why;

	while (n > 0 && arg[n - 1] == ' ')
		n--;
	if (n == 0 || n > ADDR_DOMAIN_MAX || n + 1 > outlen)
		return -1;
	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)arg[i]) || arg[i] == ' ')
			return -1;
	/* Reuse the mailbox grammar's Domain / address-literal check. */
	tmp[0] = 'x';
	tmp[1] = '@';
	memcpy(tmp + 2, arg, n);
	tmp[n + 2] = '\0';
	if (addr_parse_mailbox(tmp, &a, 0, &why) < 0)
		return -1;
	memcpy(out, arg, n);
	out[n] = '\0';
	return 0;
}

int smtp_parse_bdat(const char *arg, uint64_t *size, int *last)
{
	size_t n = 0;

	*last = 0;
	while (is_digit(arg[n]))
		n++;
	if (parse_u64(arg, n, size) < 0)
		return -1;
	arg += n;
	if (*arg != ' ' && *arg != '\0')
		return -1;
	while (*arg == ' ')
		arg++;
	if (strncasecmp(arg, "LAST", 4) == 0) {
		*last = 1;
		arg += 4;
		while (*arg == ' ')
			arg++;
	}
	if (*arg != '\0')
		return -1;
	return 0;
}
