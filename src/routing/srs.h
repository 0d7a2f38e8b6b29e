/*
 * srs: the Sender Rewriting Scheme, SRS0 and SRS1 in the exact format of
 * postsrsd (libsrs2's "guarded" scheme with its defaults), so that a
 * provider moving from Postfix + postsrsd keeps its secret file and the
 * bounces to addresses made there still verify here:
 *
 *   SRS0=HHHH=TT=orig.domain=orig.local@srs.domain
 *   SRS1=HHHH=first.hop.domain==HHHH=TT=orig.domain=orig.local@srs.domain
 *
 * HHHH: the first 4 characters of base64 (alphabet A-Za-z0-9-_, no padding)
 * of HMAC-SHA1(secret, lower-case(TT + orig.domain + orig.local)) (SRS1:
 * of first.hop.domain + "=HHHH=TT=..."); TT: days since the epoch mod 1024
 * in two base32 characters (A-Z2-7). On checking, the tag, the timestamp
 * and the hash are case-insensitive ('+' and '/' count as '-' and '_'), a
 * longer hash is compared on its first 4 characters, every secret is
 * tried, and a timestamp more than max_age days old (or in the future,
 * which reads as about 1024 days old) is refused. Pure: no I/O, the clock
 * is a parameter.
 */
#ifndef HM_SRS_H
#define HM_SRS_H
#include <stddef.h>
#include <time.h>

#define SRS_MAX_SECRETS 8
#define SRS_SECRET_MAX  256
#define SRS_ADDR_MAX    512

enum srs_rc {
	SRS_OK = 0,
	SRS_NOT_SRS = 1,      /* not an SRS address: nothing to reverse */
	SRS_UNCHANGED = 2,    /* forward: the sender is already in the SRS domain */
	SRS_ESYNTAX = -1,     /* looks like SRS but is malformed */
	SRS_EHASH = -2,       /* the hash does not verify: forged or another secret */
	SRS_EEXPIRED = -3,    /* the timestamp is older than max_age */
	SRS_ETOOLONG = -4,    /* the result does not fit */
	SRS_ENOSECRET = -5,
};

struct srs {
	char secrets[SRS_MAX_SECRETS][SRS_SECRET_MAX];  /* [0] signs; all verify */
	int nsecrets;
	int max_age_days;                                /* postsrsd: 21 */
	char domain[256];                                /* the SRS domain */
};

/* The rewritten sender of a forwarded message into out: SRS0 for a plain
 * address, SRS1 for an SRS0 or SRS1 one (from another forwarder); the
 * sender itself (SRS_UNCHANGED) when its domain is srs->domain. */
enum srs_rc srs_forward(const struct srs *srs, const char *sender, time_t now, char *out, size_t outlen);
/* The address an SRS address stands for (its domain part is ignored, as
 * postsrsd does): SRS0 -> the original sender, after checking the hash
 * and the age; SRS1 -> the SRS0 address of the first hop (hash checked).
 * SRS_NOT_SRS for any other address. */
enum srs_rc srs_reverse(const struct srs *srs, const char *addr, time_t now, char *out, size_t outlen);
/* 1 if the local part (or address) starts like SRS0/SRS1 (a tag and one
 * of "=+-"), else 0. */
int srs_is_srs(const char *addr);
/* A line for the log / an SMTP reply about rc. */
const char *srs_strerror(enum srs_rc rc);
/* Parse the text of a postsrsd secrets file (one secret a line, blank
 * lines skipped; the first signs). Count of secrets, or -1 when none. */
int srs_parse_secrets(struct srs *srs, const char *text, size_t len);

#endif
