/*
 * smtp_policy: who may send what, from where, to whom — the decisions of
 * an SMTP transaction as pure functions, kept apart from the session code
 * as Postfix keeps smtpd_check.c apart from smtpd.c. From the session's
 * facts (its port, how it is authorized, the account's domains and
 * limits) and what the session found out (the store's answers, the free
 * disk space, the budget reservation) to a verdict: accept, or the reply
 * code, enhanced code and text, and the reason for the log. No I/O, no
 * clock, no store: the session looks things up first and passes them in.
 *
 * The promises decided here (DESIGN.md): relaying is refused unless the
 * session is authorized (SMTP AUTH or POP-before-SMTP); the submission
 * ports need authorization for any mail; an authorized sender uses only
 * its account's domains, in the envelope and in From:; a POP-before-SMTP
 * client with a foreign sender is treated as plain MX traffic (its grant
 * is for an address others may share); size, disk space, recipients per
 * message and the account's hourly and daily recipient budgets.
 */
#ifndef HM_SMTP_POLICY_H
#define HM_SMTP_POLICY_H
#include <stddef.h>
#include <stdint.h>
#include "policy/limits.h"
#include "policy/rate.h"

#define POLICY_TEXT_MAX 512
#define POLICY_DOMAIN_MAX 256

enum policy_auth {
	POLICY_ANON = 0,          /* not authorized: MX role only */
	POLICY_POP_GRANT,         /* POP-before-SMTP: the client IP logged in over POP3 */
	POLICY_SMTP_AUTH,         /* SMTP AUTH under TLS */
};

/* The session's facts. */
struct policy_client {
	int submission;                            /* 587 or 465: every message needs authorization */
	enum policy_auth auth;
	const char *account;                       /* authorized: the hosting account */
	const char *user;                          /* authorized: the mailbox */
	const char (*domains)[POLICY_DOMAIN_MAX];  /* authorized: the account's domains */
	int ndomains;
	struct account_limits lim;                 /* authorized: the account's limits */
	int max_recipients;                        /* [limits] max_recipients, for the MX role */
};

/* A decision. code 0 = accepted. */
struct policy_verdict {
	int code;
	const char *enh;
	char text[POLICY_TEXT_MAX];                /* the reply text */
	char log[4096];                            /* why, for the log ("" = nothing to log); room for quoted addresses */
	int warn;                                  /* log as a warning (abuse, misconfiguration) */
	int client_error;                          /* counts toward [smtp] max_errors */
};

/* MAIL FROM, after its syntax is checked. */
struct policy_mail {
	const char *sender;                        /* as it will be logged; "" = null sender <> */
	const char *domain;                        /* the sender's domain ("" for <>) */
	uint64_t declared_size;                    /* SIZE=, 0 = not given */
	uint64_t size_limit;                       /* [limits] message_size */
	int disk_known;                            /* disk_avail is known */
	uint64_t disk_avail, disk_min_free;        /* bytes free for the queue, [limits] min_free_space */
};

/* 0 with *relay set (may this transaction relay as the account?), or the
 * refusal in v. */
int policy_mail(const struct policy_client *cl, const struct policy_mail *m, int *relay,
                struct policy_verdict *v);

/* Before the lookup: may one more recipient be given? (452 4.5.3) */
int policy_rcpt_count(const struct policy_client *cl, int relay, size_t nrcpt, struct policy_verdict *v);

enum policy_budget {
	BUDGET_NOT_ASKED = 0,     /* no reservation was needed */
	BUDGET_RESERVED,          /* one recipient reserved against the account's budget */
	BUDGET_OVER_HOUR,         /* the hourly budget is spent */
	BUDGET_OVER_DAY,
	BUDGET_FAILED,            /* the store could not say */
};

/* The budget as rate_reserve answered for one recipient (asked: a
 * reservation was needed and tried; rc: rate_reserve's result). An account
 * the store no longer knows, or a store that failed, is a temporary
 * failure: nothing is reserved, nothing is refused for good. */
enum policy_budget policy_budget_reserved(int asked, int rc);

/* What the store said about one recipient. */
struct policy_rcpt {
	const char *addr;                          /* as given, for texts */
	const char *sender;                        /* the transaction's, for texts */
	int lookup_failed;
	int hosted;                                /* its domain is hosted here */
	int exists;                                /* the mailbox exists */
	enum policy_budget budget;
	const struct rate_use *use;                /* with BUDGET_OVER_*: the windows' resets */
};

/* Would this recipient be accepted but for the budget? Then reserve one
 * recipient of the account's budget (every recipient of a transaction
 * that relays as the account counts, hosted or not) before deciding. */
int policy_rcpt_needs_budget(const struct policy_client *cl, int relay, int lookup_failed,
                             int hosted, int exists);

/* The RCPT verdict: 0 = accepted (v->log may still have a line: a relayed
 * recipient is logged), else the refusal. */
int policy_rcpt(const struct policy_client *cl, int relay, const struct policy_rcpt *r,
                struct policy_verdict *v);

/* At the end of DATA, for a transaction that relays as the account: the
 * header From: domains (n of them; n < 0: unparsable) must all be the
 * account's; overflow: the header section was too long to check. */
int policy_header_from(const struct policy_client *cl, const char (*doms)[POLICY_DOMAIN_MAX], int n,
                       int overflow, size_t header_max, struct policy_verdict *v);

/* Is domain one of the authorized account's? (case-insensitive) */
int policy_owns_domain(const struct policy_client *cl, const char *domain);

#endif
