/*
 * vacation: the RFC 3834 decision and the reply's text (vacation.h).
 * Header fields are read unfolded and bounded; nothing here touches the
 * store, the clock or the disk.
 */
#include "routing/vacation.h"
#include "store/store_vacation.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FIELD_MAX 4096

/* One header field at a time: name and unfolded value (cut at FIELD_MAX). */
struct field_iter {
	const char *p, *end;
	char name[80];
	char value[FIELD_MAX];
};

/* The end of the line at p (its terminator excluded) and the next line. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;

	*next = nl ? nl + 1 : end;
	if (e > p && e[-1] == '\r')
		e--;
	return e;
}

static void append(char *dst, size_t cap, size_t *len, const char *p, size_t n)
{
	if (*len + 1 >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(dst + *len, p, n);
	*len += n;
	dst[*len] = '\0';
}

/* 1 with the next field, 0 at the end of the header section. */
static int next_field(struct field_iter *it)
{
	const char *next, *e, *colon;
	size_t vlen = 0, nlen;

	for (;;) {
		if (it->p >= it->end)
			return 0;
		e = line_end(it->p, it->end, &next);
		if (e == it->p)              /* the empty line: the body follows */
			return 0;
		colon = memchr(it->p, ':', (size_t)(e - it->p));
		if (colon && !(*it->p == ' ' || *it->p == '\t'))
			break;
		it->p = next;               /* a stray line: skip it */
	}
	nlen = (size_t)(colon - it->p);
	while (nlen > 0 && (it->p[nlen - 1] == ' ' || it->p[nlen - 1] == '\t'))
		nlen--;
	snprintf(it->name, sizeof it->name, "%.*s", (int)(nlen < sizeof it->name ? nlen : sizeof it->name - 1),
	         it->p);
	it->value[0] = '\0';
	append(it->value, sizeof it->value, &vlen, colon + 1, (size_t)(e - colon - 1));
	it->p = next;
	while (it->p < it->end && (*it->p == ' ' || *it->p == '\t')) {   /* folded */
		e = line_end(it->p, it->end, &next);
		append(it->value, sizeof it->value, &vlen, it->p, (size_t)(e - it->p));
		it->p = next;
	}
	return 1;
}

/* value without leading and trailing blanks into out. */
static void trim_into(const char *v, char *out, size_t outlen)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	for (char *p = out; *p; p++)   /* it goes into the reply's header: no control bytes */
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* The first word of a value, lower-cased (up to ';', '(' or a blank). */
static void first_word(const char *v, char *out, size_t outlen)
{
	size_t o = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v && *v != ';' && *v != '(' && *v != ' ' && *v != '\t' && o + 1 < outlen; v++)
		out[o++] = (char)tolower((unsigned char)*v);
	out[o] = '\0';
}

static int addr_char(char c)
{
	return c != '\0' && (isalnum((unsigned char)c) || strchr("!#$%&'*+-/=?^_`{|}~.@", c) != NULL ||
	                      (unsigned char)c >= 0x80);
}

/* Does the address list value name addr (case-insensitive, as a whole address)? */
static int names_address(const char *value, const char *addr)
{
	size_t n = strlen(addr);

	if (n == 0)
		return 0;
	for (const char *p = value; *p; p++) {
		if (strncasecmp(p, addr, n) != 0)
			continue;
		if ((p == value || !addr_char(p[-1])) && !addr_char(p[n]))
			return 1;
	}
	return 0;
}

/* Local parts that are programs, not people (RFC 3834 2, and the
 * usual mailing-list manager names). */
static int robot_sender(const char *sender)
{
	static const char *const exact[] = { "mailer-daemon", "mailer", "postmaster", "listserv", "majordomo",
	                                     "noreply", "no-reply", "do-not-reply", "donotreply", "bounce",
	                                     "bounces" };
	const char *at = strrchr(sender, '@');
	size_t n = at ? (size_t)(at - sender) : strlen(sender);

	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strlen(exact[i]) == n && strncasecmp(sender, exact[i], n) == 0)
			return 1;
	if (n >= 6 && strncasecmp(sender, "owner-", 6) == 0)
		return 1;
	if (n >= 8 && strncasecmp(sender + n - 8, "-request", 8) == 0)
		return 1;
	if (n >= 6 && strncasecmp(sender + n - 6, "-owner", 6) == 0)
		return 1;
	return 0;
}

/* One field's say: a verdict, or VACATION_REPLY to go on. */
static enum vacation_verdict judge_field(const struct field_iter *it, const char *mailbox, int *addressed,
                                         struct vacation_orig *o)
{
	char w[32];

	if (!strcasecmp(it->name, "Auto-Submitted")) {
		first_word(it->value, w, sizeof w);
		if (strcmp(w, "no") != 0)
			return VACATION_AUTO_SUBMITTED;
	} else if (!strcasecmp(it->name, "Precedence")) {
		first_word(it->value, w, sizeof w);
		if (!strcmp(w, "bulk") || !strcmp(w, "list") || !strcmp(w, "junk"))
			return VACATION_PRECEDENCE;
	} else if (!strncasecmp(it->name, "List-", 5)) {
		return VACATION_LIST;    /* List-Id, List-Unsubscribe, List-Post ... */
	} else if (!strcasecmp(it->name, "X-Auto-Response-Suppress") || !strcasecmp(it->name, "X-Autoreply") ||
	           !strcasecmp(it->name, "X-Autorespond")) {
		return VACATION_AUTO_SUBMITTED;   /* what other autoresponders mark */
	} else if (!strcasecmp(it->name, "To") || !strcasecmp(it->name, "Cc")) {
		if (names_address(it->value, mailbox))
			*addressed = 1;
	} else if (o && !strcasecmp(it->name, "Subject")) {
		trim_into(it->value, o->subject, sizeof o->subject);
	} else if (o && !strcasecmp(it->name, "Message-ID")) {
		trim_into(it->value, o->message_id, sizeof o->message_id);
	} else if (o && !strcasecmp(it->name, "References")) {
		trim_into(it->value, o->references, sizeof o->references);
	}
	return VACATION_REPLY;
}

enum vacation_verdict vacation_decide(const char *hdr, size_t hlen, const char *sender, const char *mailbox,
                                      struct vacation_orig *orig)
{
	struct field_iter it;
	enum vacation_verdict v;
	int addressed = 0, fields = 0;

	if (orig)
		memset(orig, 0, sizeof *orig);
	if (!sender || !sender[0])
		return VACATION_NULL_SENDER;
	if (robot_sender(sender))
		return VACATION_ROBOT_SENDER;
	if (!strcasecmp(sender, mailbox))
		return VACATION_SELF;
	it.p = hdr;
	it.end = hdr + hlen;
	while (next_field(&it)) {
		fields++;
		if ((v = judge_field(&it, mailbox, &addressed, orig)) != VACATION_REPLY)
			return v;
	}
	if (fields == 0)
		return VACATION_BAD_HEADER;
	if (orig && (strpbrk(orig->message_id, "\r\n") || orig->message_id[0] != '<'))
		orig->message_id[0] = '\0';
	return addressed ? VACATION_REPLY : VACATION_NOT_ADDRESSED;
}

const char *vacation_verdict_name(enum vacation_verdict v)
{
	switch (v) {
	case VACATION_REPLY: return "reply";
	case VACATION_NULL_SENDER: return "null-sender";
	case VACATION_ROBOT_SENDER: return "robot-sender";
	case VACATION_AUTO_SUBMITTED: return "auto-submitted";
	case VACATION_PRECEDENCE: return "precedence";
	case VACATION_LIST: return "list";
	case VACATION_NOT_ADDRESSED: return "not-addressed";
	case VACATION_SELF: return "self";
	case VACATION_BAD_HEADER: return "no-header";
	}
	return "?";
}

int vacation_in_force(const struct vacation *v, time_t now)
{
	char today[11];
	struct tm tm;

	if (!v->enabled)
		return 0;
	if (!gmtime_r(&now, &tm))
		return 0;
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	if (v->start[0] && strcmp(today, v->start) < 0)
		return 0;
	if (v->end[0] && strcmp(today, v->end) > 0)
		return 0;
	return 1;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Subject: as an RFC 2047 encoded word when it is not ASCII. */
static int put_subject(struct buf *b, const char *subj)
{
	static const char hex[] = "0123456789ABCDEF";

	if (is_ascii(subj))
		return buf_printf(b, "Subject: %s\r\n", subj);
	if (buf_puts(b, "Subject: =?UTF-8?Q?") < 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)subj; *p; p++) {
		char e[4] = { '=', hex[*p >> 4], hex[*p & 15], 0 };
		if (*p == ' ') {
			if (buf_puts(b, "_") < 0)
				return -1;
		} else if (isalnum(*p)) {
			if (buf_append(b, p, 1) < 0)
				return -1;
		} else if (buf_puts(b, e) < 0) {
			return -1;
		}
	}
	return buf_puts(b, "?=\r\n");
}

/* The body: every line end CRLF, no bare CR. */
static int put_text(struct buf *b, const char *t)
{
	size_t col = 0;

	for (; *t; t++) {
		if (*t == '\r')
			continue;
		if (*t == '\n') {
			if (buf_puts(b, "\r\n") < 0)
				return -1;
			col = 0;
			continue;
		}
		if (buf_append(b, t, 1) < 0)
			return -1;
		col++;
	}
	return col ? buf_puts(b, "\r\n") : 0;
}

int vacation_format(struct buf *out, const struct vacation_reply *r)
{
	const struct vacation_orig *o = r->orig;
	char date[64], subj[VACATION_SUBJ_MAX + 8];
	struct tm tm;

	gmtime_r(&r->now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (r->subject && r->subject[0])
		snprintf(subj, sizeof subj, "%s", r->subject);
	else
		snprintf(subj, sizeof subj, "Auto: %s", o && o->subject[0] ? o->subject : "(no subject)");
	for (char *p = subj; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	if (buf_printf(out, "From: <%s>\r\nTo: <%s>\r\n", r->from, r->to) < 0 || put_subject(out, subj) < 0 ||
	    buf_printf(out, "Date: %s\r\nMessage-ID: <%s>\r\n", date, r->message_id) < 0)
		return -1;
	if (o && o->message_id[0]) {
		if (buf_printf(out, "In-Reply-To: %s\r\n", o->message_id) < 0)
			return -1;
		if (o->references[0] && strlen(o->references) + strlen(o->message_id) < 900) {
			if (buf_printf(out, "References: %s\r\n %s\r\n", o->references, o->message_id) < 0)
				return -1;
		} else if (buf_printf(out, "References: %s\r\n", o->message_id) < 0) {
			return -1;
		}
	}
	if (buf_puts(out, "Auto-Submitted: auto-replied\r\nPrecedence: bulk\r\nMIME-Version: 1.0\r\n"
	                  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n") < 0)
		return -1;
	return put_text(out, r->text);
}
