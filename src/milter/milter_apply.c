/*
 * milter_apply: the header section as the filters left it
 * (milter_chain.h): parse it into fields, apply their header edits, merge
 * their Authentication-Results, apply the spam verdict. Pure: the spool
 * is rewritten by the caller (smtp_milter.c) with what this builds.
 */
#include "milter/milter_chain.h"
#include "milter/milter_codec.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AR "Authentication-Results"

void milter_hdrs_free(struct milter_hdr *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* The value as a filter is sent it: blanks after the colon skipped, line
 * ends of folds as "\n", the last line end gone. */
static char *filter_value(const char *p, size_t n)
{
	char *v = malloc(n + 1), *o = v;

	if (!v)
		return NULL;
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' || i + 1 >= n || p[i + 1] != '\n')
			*o++ = p[i];
	*o = '\0';
	return v;
}

/* The length of the line at p (with its LF), within n bytes. */
static size_t line_len(const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);

	return lf ? (size_t)(lf - p) + 1 : n;
}

long milter_hdrs_parse(const char *head, size_t len, const char *authserv, struct milter_hdr **out)
{
	struct milter_hdr *h = NULL;
	size_t n = 0, cap = 0, at = 0;

	*out = NULL;
	while (at < len) {
		const char *p = head + at, *colon;
		size_t l = line_len(p, len - at), flen = l;

		if (p[0] == '\r' || p[0] == '\n' || p[0] == ' ' || p[0] == '\t')
			break;                 /* the blank line (or a stray continuation) */
		colon = memchr(p, ':', l);
		if (!colon)
			break;                 /* not a field: the body starts here */
		while (at + flen < len && (head[at + flen] == ' ' || head[at + flen] == '\t'))
			flen += line_len(head + at + flen, len - at - flen);
		if (n == cap) {
			struct milter_hdr *nh = realloc(h, (cap = cap ? 2 * cap : 32) * sizeof *nh);
			if (!nh)
				goto fail;
			h = nh;
		}
		size_t nl = (size_t)(colon - p);
		while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
			nl--;
		memset(&h[n], 0, sizeof h[n]);
		h[n].off = at;
		h[n].len = flen;
		h[n].name = strndup(p, nl);
		h[n].value = filter_value(colon + 1, (size_t)(p + flen - colon - 1));
		n++;
		if (!h[n - 1].name || !h[n - 1].value)
			goto fail;
		h[n - 1].hidden = !strcasecmp(h[n - 1].name, AR) && ar_claims(h[n - 1].value, authserv);
		at += flen;
	}
	*out = h;
	return (long)n;
fail:
	milter_hdrs_free(h, n);
	return -1;
}

static int is_subject(const char *name)
{
	return name && !strcasecmp(name, "Subject");
}

static int edits_header(const struct milter_edit *e)
{
	return e->op == SMFIR_ADDHEADER || e->op == SMFIR_INSHEADER || e->op == SMFIR_CHGHEADER;
}

int milter_outcome_spam(const struct milter_outcome *o)
{
	for (int i = 0; i < o->nres; i++)
		for (size_t k = 0; o->res[i].verdict != MILTER_FAILED && k < o->res[i].nedits; k++) {
			const struct milter_edit *e = &o->res[i].edits[k];
			if (edits_header(e) && (spam_header(e->name, e->value) ||
			                        (e->op == SMFIR_CHGHEADER && is_subject(e->name))))
				return 1;
		}
	return 0;
}

/* "Name: value" with CRLF line ends (a filter may fold with LF alone).
 * A line break in the value always stays a fold: an empty line (the end
 * of the header section) or a line that would start a field of its own
 * is never made, whatever the filter sent. */
static int put_field(struct buf *out, const char *name, const char *value)
{
	if (buf_puts(out, name) < 0 || buf_puts(out, value[0] == ' ' || value[0] == '\t' ? ":" : ": ") < 0)
		return -1;
	for (const char *v = value; *v; v++) {
		if (*v == '\r')
			continue;
		if (*v != '\n') {
			if (buf_append(out, v, 1) < 0)
				return -1;
			continue;
		}
		const char *next = v + 1;
		while (*next == '\r')
			next++;
		if (*next == '\n' || *next == '\0')
			continue;                     /* an empty line: dropped */
		if (buf_append(out, "\r\n", 2) < 0 || (*next != ' ' && *next != '\t' && buf_append(out, "\t", 1) < 0))
			return -1;
	}
	return buf_append(out, "\r\n", 2);
}

/* A field name as RFC 5322 3.6.8 has it: printable ASCII but the colon. */
static int valid_name(const char *n)
{
	if (!n || !*n)
		return 0;
	for (; *n; n++)
		if ((unsigned char)*n < 33 || (unsigned char)*n > 126 || *n == ':')
			return 0;
	return 1;
}

struct hedit {
	const char *value;       /* a changed value */
	int deleted;
};

struct plan {
	struct hedit *vis;       /* per visible field */
	size_t *map;             /* visible index -> field index */
	size_t nvis;
	const struct milter_edit **ins, **add;
	size_t nins, nadd;
	const char **ar;
	size_t nar;
	int changed;
};

/* The visible field that is the index-th (1-based) named name, or -1. */
static long find_field(const struct plan *pl, const struct milter_hdr *hdrs, const char *name, uint32_t index)
{
	uint32_t seen = 0;

	for (size_t i = 0; i < pl->nvis; i++)
		if (!strcasecmp(hdrs[pl->map[i]].name, name) && ++seen == (index ? index : 1))
			return (long)i;
	return -1;
}

static void plan_edit(struct plan *pl, const struct milter_hdr *hdrs, const struct milter_edit *e,
                      const struct spam_verdict *sv)
{
	long f;

	if (!edits_header(e) || !valid_name(e->name) || (is_subject(e->name) && !sv->keep_filter_subject))
		return;
	pl->changed = 1;
	if (e->op != SMFIR_CHGHEADER && !strcasecmp(e->name, AR))
		pl->ar[pl->nar++] = e->value;
	else if (e->op == SMFIR_INSHEADER)
		pl->ins[pl->nins++] = e;
	else if (e->op == SMFIR_ADDHEADER)
		pl->add[pl->nadd++] = e;
	else if ((f = find_field(pl, hdrs, e->name, e->index)) >= 0) {
		pl->vis[f].deleted = !e->value || !e->value[0];
		pl->vis[f].value = e->value;
	} else if (e->value && e->value[0])
		pl->add[pl->nadd++] = e;   /* changing a field that is not there adds it */
}

static int plan_make(struct plan *pl, const struct milter_hdr *hdrs, size_t nhdrs, const struct milter_outcome *o,
                     const struct spam_verdict *sv)
{
	size_t nedits = 0;

	memset(pl, 0, sizeof *pl);
	for (int i = 0; i < o->nres; i++)
		nedits += o->res[i].nedits;
	pl->vis = calloc(nhdrs + 1, sizeof *pl->vis);
	pl->map = calloc(nhdrs + 1, sizeof *pl->map);
	pl->ins = calloc(nedits + 1, sizeof *pl->ins);
	pl->add = calloc(nedits + 1, sizeof *pl->add);
	pl->ar = calloc(nedits + 1, sizeof *pl->ar);
	if (!pl->vis || !pl->map || !pl->ins || !pl->add || !pl->ar)
		return -1;
	for (size_t i = 0; i < nhdrs; i++) {
		if (hdrs[i].hidden)
			pl->changed = 1;
		else
			pl->map[pl->nvis++] = i;
	}
	for (int i = 0; i < o->nres; i++)
		for (size_t k = 0; o->res[i].verdict != MILTER_FAILED && k < o->res[i].nedits; k++)
			plan_edit(pl, hdrs, &o->res[i].edits[k], sv);
	return 0;
}

static void plan_free(struct plan *pl)
{
	free(pl->vis);
	free(pl->map);
	free(pl->ins);
	free(pl->add);
	free(pl->ar);
}

/* The first Subject: tagged (or one added): the spam verdict's mark. */
static int tag_subject(struct plan *pl, const struct milter_hdr *hdrs, const char *tag, struct buf *tagged)
{
	long f = find_field(pl, hdrs, "Subject", 1);

	if (spam_subject(f >= 0 ? hdrs[pl->map[f]].value : "", tag, tagged) < 0)
		return -1;
	pl->changed = 1;
	if (f >= 0)
		pl->vis[f].value = tagged->data;
	return f >= 0 ? 0 : 1;
}

static int emit(struct buf *out, const struct plan *pl, const char *head, size_t len, const struct milter_hdr *hdrs,
                size_t nhdrs, const struct buf *merged, const char *added_subject)
{
	size_t end = nhdrs ? hdrs[nhdrs - 1].off + hdrs[nhdrs - 1].len : 0;

	if (pl->nar && put_field(out, AR, merged->data) < 0)
		return -1;
	for (size_t p = 0; p <= pl->nvis; p++) {
		for (size_t k = 0; k < pl->nins; k++)
			if ((pl->ins[k]->index < pl->nvis ? pl->ins[k]->index : pl->nvis) == p &&
			    put_field(out, pl->ins[k]->name, pl->ins[k]->value) < 0)
				return -1;
		if (p == pl->nvis)
			break;
		const struct milter_hdr *h = &hdrs[pl->map[p]];
		if (pl->vis[p].deleted)
			continue;
		if (pl->vis[p].value ? put_field(out, h->name, pl->vis[p].value) < 0
		                     : buf_append(out, head + h->off, h->len) < 0)
			return -1;
	}
	for (size_t k = 0; k < pl->nadd; k++)
		if (put_field(out, pl->add[k]->name, pl->add[k]->value) < 0)
			return -1;
	if (added_subject && put_field(out, "Subject", added_subject) < 0)
		return -1;
	return buf_append(out, head + end, len - end);
}

int milter_build_head(const char *head, size_t len, const struct milter_hdr *hdrs, size_t nhdrs,
                      const struct milter_outcome *o, const char *authserv, const struct spam_verdict *sv,
                      const char *tag, struct buf *out)
{
	struct plan pl;
	struct buf merged, tagged;
	int rc = -1, add_subject = 0;

	buf_init(&merged, 0);
	buf_init(&tagged, 0);
	buf_reset(out);
	if (plan_make(&pl, hdrs, nhdrs, o, sv) < 0)
		goto done;
	if (pl.nar && ar_merge(authserv, pl.ar, pl.nar, &merged) < 0)
		goto done;
	if (sv->tag_subject && (add_subject = tag_subject(&pl, hdrs, tag, &tagged)) < 0)
		goto done;
	if (emit(out, &pl, head, len, hdrs, nhdrs, &merged, add_subject ? tagged.data : NULL) < 0)
		goto done;
	rc = pl.changed;
done:
	plan_free(&pl);
	buf_free(&merged);
	buf_free(&tagged);
	return rc;
}
