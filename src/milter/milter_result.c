/*
 * milter_result: Authentication-Results and spam decisions
 * (milter_result.h). Pure functions over strings.
 */
#include "milter/milter_result.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Skip folding white space and (nested) comments. */
static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		for (; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/* The authserv-id at p: its start and length; p after it. */
static const char *authserv_id(const char *p, size_t *len)
{
	const char *s = skip_cfws(p), *e = s;

	while (*e && *e != ';' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n' && *e != '(')
		e++;
	*len = (size_t)(e - s);
	return s;
}

int ar_claims(const char *value, const char *authserv)
{
	size_t len;
	const char *id = authserv_id(value ? value : "", &len);

	return len && len == strlen(authserv) && !strncasecmp(id, authserv, len);
}

/* Append resinfo r[0..n) with white space runs (and folds) made one
 * space and ends trimmed; nothing if it is empty or "none". */
static int add_resinfo(struct buf *out, const char *r, size_t n, int *count)
{
	while (n && isspace((unsigned char)*r))
		r++, n--;
	while (n && isspace((unsigned char)r[n - 1]))
		n--;
	if (!n || (n == 4 && !strncasecmp(r, "none", 4)))
		return 0;
	if (buf_puts(out, ";\r\n\t") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)r[i])) {
			while (i + 1 < n && isspace((unsigned char)r[i + 1]))
				i++;
			if (buf_append(out, " ", 1) < 0)
				return -1;
		} else if (buf_append(out, r + i, 1) < 0)
			return -1;
	}
	(*count)++;
	return 0;
}

/* The results of one value (after its authserv-id and version). */
static int merge_one(struct buf *out, const char *v, int *count)
{
	size_t len;
	const char *p = authserv_id(v, &len) + len;
	const char *start;
	int depth = 0, quoted = 0;

	p = skip_cfws(p);
	while (isdigit((unsigned char)*p))   /* a version after the authserv-id */
		p++;
	p = skip_cfws(p);
	if (*p != ';')
		return 0;                          /* "none" or nothing usable */
	start = ++p;
	for (;; p++) {
		if (*p == '\\' && p[1] && (depth || quoted)) {
			p++;
			continue;
		}
		if (!*p || (*p == ';' && !depth && !quoted)) {
			if (add_resinfo(out, start, (size_t)(p - start), count) < 0)
				return -1;
			if (!*p)
				return 0;
			start = p + 1;
		} else if (*p == '"' && !depth)
			quoted = !quoted;
		else if (*p == '(' && !quoted)
			depth++;
		else if (*p == ')' && depth && !quoted)
			depth--;
	}
}

int ar_merge(const char *authserv, const char *const *values, size_t n, struct buf *out)
{
	int count = 0;

	buf_reset(out);
	if (buf_puts(out, authserv) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (merge_one(out, values[i] ? values[i] : "", &count) < 0)
			return -1;
	if (!count && buf_puts(out, "; none") < 0)
		return -1;
	return count;
}

static const char *const spam_names[] = { "", "headers", "subject", "refuse" };

int spam_action_parse(const char *s, int allow_default, enum spam_action *out)
{
	for (int i = allow_default ? 0 : 1; i < 4; i++)
		if (!strcasecmp(s, spam_names[i])) {
			*out = (enum spam_action)i;
			return 0;
		}
	return -1;
}

const char *spam_action_name(enum spam_action a)
{
	return (unsigned)a < 4 ? spam_names[a] : "";
}

/* v starts with word (no case), followed by the end or a non-letter. */
static int starts_word(const char *v, const char *word)
{
	size_t n = strlen(word);

	v = skip_cfws(v);
	return !strncasecmp(v, word, n) && !isalpha((unsigned char)v[n]);
}

int spam_header(const char *name, const char *value)
{
	if (!strcasecmp(name, "X-Spam") || !strcasecmp(name, "X-Spam-Flag") || !strcasecmp(name, "X-Spam-Status"))
		return starts_word(value ? value : "", "yes");
	return 0;
}

struct spam_verdict spam_decide(int spam, enum spam_action domain_action, enum spam_action provider_action)
{
	struct spam_verdict v = { 0, 0, 0 };
	enum spam_action a = domain_action != SPAM_DEFAULT ? domain_action : provider_action;

	if (!spam) {
		v.keep_filter_subject = 1;   /* not spam: whatever the filter did stays */
		return v;
	}
	v.refuse = a == SPAM_REFUSE;
	v.tag_subject = a == SPAM_SUBJECT;
	return v;                      /* headers: the subject as the sender wrote it */
}

int spam_subject(const char *value, const char *tag, struct buf *out)
{
	const char *v = value ? value : "";

	buf_reset(out);
	while (*v == ' ' || *v == '\t')
		v++;
	if (*tag && !strncmp(v, tag, strlen(tag)))
		return buf_puts(out, v);
	return buf_printf(out, "%s%s%s", tag, *tag && *v ? " " : "", v);
}
