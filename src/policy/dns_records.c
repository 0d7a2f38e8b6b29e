/*
 * dns_records: building, printing and checking a hosted domain's records
 * (dns_records.h). A DKIM record is right when its p= is the key's (tags
 * in any order, spaces anywhere, as RFC 6376 3.6.1 allows); the SPF and
 * DMARC ones are suggestions, so any record of that kind that keeps what
 * matters passes: SPF must still name every host ours names, DMARC only
 * has to exist (the policy is the customer's choice); the MX must point
 * at our host, whatever its preference.
 */
#define _GNU_SOURCE    /* strcasestr */
#include "policy/dns_records.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int add(struct dns_record *out, size_t max, size_t *n, enum dns_rr type, const char *what,
               const char *name, const char *value, int suggestion)
{
	struct dns_record *r;

	if (*n >= max)
		return -1;
	r = &out[(*n)++];
	memset(r, 0, sizeof *r);
	r->type = type;
	r->suggestion = suggestion;
	snprintf(r->what, sizeof r->what, "%s", what);
	snprintf(r->name, sizeof r->name, "%s", name);
	snprintf(r->value, sizeof r->value, "%s", value);
	return 0;
}

int dns_records_build(const struct dns_records_in *in, struct dns_record *out, size_t max)
{
	char name[320], value[1024], what[96];
	size_t n = 0;

	snprintf(value, sizeof value, "10 %s", in->mx);
	if (add(out, max, &n, DNS_RR_MX, "MX", in->domain, value, 0) < 0)
		return -1;
	for (size_t i = 0; i < in->nkeys; i++) {
		const struct dkim_key *k = &in->keys[i];
		if (k->state == DKIM_RETIRED)
			continue;
		snprintf(name, sizeof name, "%s._domainkey.%s", k->selector, in->domain);
		snprintf(value, sizeof value, "v=DKIM1; k=%s; p=%s", k->alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa",
		         k->public_key);
		snprintf(what, sizeof what, "DKIM %s (%s)", k->selector, dkim_state_name(k->state));
		if (add(out, max, &n, DNS_RR_TXT, what, name, value, 0) < 0)
			return -1;
	}
	if (add(out, max, &n, DNS_RR_TXT, "SPF", in->domain, in->spf, 1) < 0)
		return -1;
	snprintf(name, sizeof name, "_dmarc.%s", in->domain);
	if (add(out, max, &n, DNS_RR_TXT, "DMARC", name, in->dmarc, 1) < 0)
		return -1;
	return (int)n;
}

int dns_record_zone_line(const struct dns_record *r, struct buf *out)
{
	size_t len = strlen(r->value);

	if (r->type == DNS_RR_MX)
		return buf_printf(out, "%s. %d IN MX %s.\n", r->name, DNS_RECORDS_TTL, r->value);
	if (buf_printf(out, "%s. %d IN TXT", r->name, DNS_RECORDS_TTL) < 0)
		return -1;
	for (size_t off = 0; off < len || off == 0; off += DNS_TXT_CHUNK) {
		size_t k = len - off < DNS_TXT_CHUNK ? len - off : DNS_TXT_CHUNK;
		if (buf_puts(out, " \"") < 0)
			return -1;
		for (size_t i = 0; i < k; i++) {
			char c = r->value[off + i];
			if ((c == '"' || c == '\\') && buf_append(out, "\\", 1) < 0)
				return -1;
			if (buf_append(out, &c, 1) < 0)
				return -1;
		}
		if (buf_puts(out, "\"") < 0)
			return -1;
		if (len == 0)
			break;
	}
	return buf_puts(out, "\n");
}

/* The value of tag t in a tag list "a=1; t=v; ..." with every space
 * removed, into out; 0 if found. */
static int tag_value(const char *rec, const char *t, char *out, size_t outlen)
{
	size_t tl = strlen(t), o = 0;
	const char *p = rec;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (!strncasecmp(p, t, tl)) {
			const char *q = p + tl;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=') {
				for (q++; *q && *q != ';'; q++)
					if (!isspace((unsigned char)*q) && o + 1 < outlen)
						out[o++] = *q;
				out[o] = '\0';
				return 0;
			}
		}
		while (*p && *p != ';')
			p++;
	}
	return -1;
}

static int starts_with_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	while (*s == ' ')
		s++;
	return !strncasecmp(s, w, n) && (s[n] == '\0' || s[n] == ' ' || s[n] == ';');
}

/* Every term of want's SPF (but the "all" one) is in have's. */
static int spf_covers(const char *have, const char *want)
{
	char w[1024], *save, *term;

	snprintf(w, sizeof w, "%s", want);
	for (term = strtok_r(w, " ", &save); term; term = strtok_r(NULL, " ", &save)) {
		const char *p = have;
		size_t tl = strlen(term);
		int found = 0;
		if (strstr(term, "all") && strlen(term) <= 4)
			continue;
		while ((p = strcasestr(p, term)) != NULL) {
			if ((p == have || p[-1] == ' ') && (p[tl] == ' ' || p[tl] == '\0')) {
				found = 1;
				break;
			}
			p += tl;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* "10 host." or "10 host" against "10 host": the host matters. */
static int same_mx(const char *have, const char *want)
{
	const char *h = strchr(have, ' '), *w = strchr(want, ' ');
	size_t hl, wl;

	h = h ? h + 1 : have;
	w = w ? w + 1 : want;
	hl = strlen(h);
	wl = strlen(w);
	if (hl && h[hl - 1] == '.')
		hl--;
	if (wl && w[wl - 1] == '.')
		wl--;
	return hl == wl && !strncasecmp(h, w, hl);
}

enum dns_check dns_record_check(const struct dns_record *r, const char *const *found, size_t n)
{
	char want[1024], have[1024];
	int kind_seen = 0;

	for (size_t i = 0; i < n; i++) {
		const char *f = found[i];
		if (r->type == DNS_RR_MX) {
			kind_seen = 1;
			if (same_mx(f, r->value))
				return DNS_CHECK_OK;
		} else if (!strcmp(r->what, "SPF")) {
			if (!starts_with_word(f, "v=spf1"))
				continue;
			kind_seen = 1;
			if (spf_covers(f, r->value))
				return DNS_CHECK_OK;
		} else if (!strcmp(r->what, "DMARC")) {
			if (starts_with_word(f, "v=DMARC1"))
				return DNS_CHECK_OK;
			kind_seen = 1;
		} else {
			kind_seen = 1;
			if (tag_value(r->value, "p", want, sizeof want) == 0 &&
			    tag_value(f, "p", have, sizeof have) == 0 && !strcmp(want, have))
				return DNS_CHECK_OK;
		}
	}
	return kind_seen ? DNS_CHECK_WRONG : DNS_CHECK_MISSING;
}

const char *dns_check_name(enum dns_check c)
{
	return c == DNS_CHECK_OK ? "ok" : c == DNS_CHECK_WRONG ? "wrong" : "missing";
}
