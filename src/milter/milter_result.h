/*
 * milter_result: the decisions taken on what the filters said, as pure
 * functions (unit-tested in tests/unit/test_milter_codec.c):
 * Authentication-Results (RFC 8601) — is a header ours, and the one
 * header made of the filters' — and what to do with spam.
 */
#ifndef HM_MILTER_RESULT_H
#define HM_MILTER_RESULT_H
#include <stddef.h>
#include "util/buf.h"

/* 1 if the Authentication-Results value names authserv (its authserv-id,
 * compared without case), else 0: such a header in a message as received
 * is a forgery (RFC 8601 5) and is removed before the filters see it. */
int ar_claims(const char *value, const char *authserv);

/* The value of one Authentication-Results header naming authserv with
 * every result (resinfo) of values[0..n) (headers the filters added,
 * whatever authserv-id they used), in order, folded one per line; a
 * filter's "none" adds nothing. Into out (replaced). Count of results,
 * or -1 (no memory). */
int ar_merge(const char *authserv, const char *const *values, size_t n, struct buf *out);

/* The provider's choice ([milter] spam_action) or a domain's. */
enum spam_action {
	SPAM_DEFAULT = 0,    /* a domain's "": the provider's */
	SPAM_HEADERS,        /* deliver with the filter's headers only */
	SPAM_SUBJECT,        /* ... and the subject marked */
	SPAM_REFUSE,         /* refuse at SMTP time (5xx) */
};
/* "headers", "subject", "refuse" ("" = SPAM_DEFAULT when allow_default). 0 or -1. */
int spam_action_parse(const char *s, int allow_default, enum spam_action *out);
const char *spam_action_name(enum spam_action a);

/* 1 if a header a filter adds or changes marks the message as spam
 * (X-Spam: Yes, X-Spam-Flag: YES, X-Spam-Status: Yes...). */
int spam_header(const char *name, const char *value);

struct spam_verdict {
	int refuse;              /* 550 5.7.1 at end of data */
	int tag_subject;         /* prefix the subject with the tag */
	int keep_filter_subject; /* a subject the filter rewrote stays */
};
/* What happens to a message: spam as the filters said, domain_action the
 * domain's own choice (SPAM_DEFAULT: none), provider_action the
 * [milter] spam_action. */
struct spam_verdict spam_decide(int spam, enum spam_action domain_action, enum spam_action provider_action);

/* The Subject: value tagged: "tag value", unless it starts with tag
 * already. Into out (replaced). 0 or -1. */
int spam_subject(const char *value, const char *tag, struct buf *out);

#endif
