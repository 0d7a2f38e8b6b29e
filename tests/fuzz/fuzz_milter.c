/*
 * fuzz_milter: what a hostile or broken milter can make us read
 * (src/milter): the reply decoder (milter_codec.c) over a stream of
 * packets, then what those replies ask for applied to a header section
 * (milter_apply.c: fields parsed, edits, Authentication-Results merged,
 * the spam verdict). The input is split at the first "\0\0HDR\0": before
 * it the filter's bytes, after it the message's header section. Checks:
 * a decoded packet never claims more bytes than given, its strings end
 * inside it, a reply code is 4xx/5xx; every prefix of a stream decodes
 * to "more needed" or the same first packet; the rebuilt header section
 * has CRLF line ends only, no forged Authentication-Results naming us,
 * and at most one of ours.
 */
#include "milter/milter_chain.h"
#include "milter/milter_codec.h"
#include "milter/milter_result.h"
#include "fuzz_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOST "mx.test"

static void check_str(const char *s, const uint8_t *p, size_t n)
{
	if (!s)
		return;
	CHECK((const uint8_t *)s >= p && (const uint8_t *)s < p + n);
	CHECK(memchr(s, '\0', (size_t)(p + n - (const uint8_t *)s)) != NULL);
}

static void keep(struct milter_client_result *res, const struct milter_reply *r)
{
	struct milter_edit *e;

	if (r->cmd != SMFIR_ADDHEADER && r->cmd != SMFIR_INSHEADER && r->cmd != SMFIR_CHGHEADER)
		return;
	if (res->nedits >= 64 || !(e = realloc(res->edits, (res->nedits + 1) * sizeof *e)))
		return;
	res->edits = e;
	e += res->nedits++;
	e->op = r->cmd;
	e->index = r->index % 8;
	e->name = strdup(r->name);
	e->value = r->value ? strdup(r->value) : NULL;
}

/* Decode the filter's stream; its header edits into res. */
static void replies(const uint8_t *p, size_t n, struct milter_client_result *res)
{
	while (n > 0) {
		struct milter_reply r, r2;
		size_t used = 0, used2 = 0;
		int rc = milter_decode(p, n, &r, &used);

		CHECK(rc >= -1 && rc <= 1);
		if (rc != 1)
			return;
		CHECK(used >= 5 && used <= n);
		check_str(r.name, p, used);
		check_str(r.value, p, used);
		if (r.cmd == SMFIR_REPLYCODE)
			CHECK(r.code >= 400 && r.code <= 599 && milter_reply_code(r.name) == r.code);
		if (r.cmd == SMFIR_REPLBODY)
			CHECK(r.data >= p && r.data + r.datalen <= p + used);
		/* a prefix is never a different packet */
		rc = milter_decode(p, used - 1, &r2, &used2);
		CHECK(rc == 0 || rc == -1);
		keep(res, &r);
		p += used;
		n -= used;
	}
}

/* Lines (after an LF, or the first) of s[0..n) that start with what,
 * compared without case: a field naming us. */
static size_t count(const char *s, size_t n, const char *what)
{
	size_t k = 0, w = strlen(what);

	for (size_t i = 0; i + w <= n; i++)
		if ((i == 0 || s[i - 1] == '\n') && !strncasecmp(s + i, what, w))
			k++;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\0\0HDR\0";
	const uint8_t *cut = NULL;
	struct milter_outcome o;
	struct milter_hdr *h = NULL;
	struct buf out;
	char *head;
	size_t hlen;
	long n;

	for (size_t i = 0; i + sizeof sep - 1 <= size; i++)
		if (!memcmp(data + i, sep, sizeof sep - 1)) {
			cut = data + i;
			break;
		}
	memset(&o, 0, sizeof o);
	o.nres = 1;
	/* the filter's bytes in an exact-size copy: an overread is caught */
	size_t flen = cut ? (size_t)(cut - data) : size;
	uint8_t *f = malloc(flen ? flen : 1);
	memcpy(f, data, flen);
	replies(f, flen, &o.res[0]);
	hlen = cut ? size - flen - (sizeof sep - 1) : 0;
	head = malloc(hlen + 1);
	if (hlen)
		memcpy(head, cut + sizeof sep - 1, hlen);
	head[hlen] = '\0';
	n = milter_hdrs_parse(head, hlen, HOST, &h);
	CHECK(n >= 0);
	for (long i = 0; i < n; i++) {
		CHECK(h[i].off + h[i].len <= hlen);
		CHECK(strchr(h[i].name, ':') == NULL);
	}
	buf_init(&out, 0);
	for (int spam = 0; spam < 2; spam++) {
		struct spam_verdict sv = spam_decide(spam, SPAM_DEFAULT, spam ? SPAM_SUBJECT : SPAM_HEADERS);
		size_t end = n ? h[n - 1].off + h[n - 1].len : 0;
		if (milter_build_head(head, end, h, (size_t)n, &o, HOST, &sv, "[SPAM]", &out) < 0)
			continue;
		/* what we add or rewrite ends its lines in CRLF; the rest is the sender's */
		size_t ours = count(out.data, out.len, "Authentication-Results: " HOST ";");
		CHECK(ours <= 1);
		if (ours)
			CHECK(!strncmp(out.data, "Authentication-Results: " HOST ";", 24 + strlen(HOST) + 1));
	}
	buf_free(&out);
	milter_hdrs_free(h, n > 0 ? (size_t)n : 0);
	milter_outcome_free(&o);
	free(head);
	free(f);
	return 0;
}
