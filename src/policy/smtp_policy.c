/* smtp_policy: the MAIL, RCPT and From: decisions (see smtp_policy.h). */
#include "policy/smtp_policy.h"
#include "util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int verdict(struct policy_verdict *v, int code, const char *enh, int client_error, int warn,
                   const char *text, ...) __attribute__((format(printf, 6, 7)));

/* Fill v with a refusal (text formatted); the log reason is set apart. */
static int verdict(struct policy_verdict *v, int code, const char *enh, int client_error, int warn,
                   const char *text, ...)
{
	va_list ap;

	v->code = code;
	v->enh = enh;
	v->client_error = client_error;
	v->warn = warn;
	va_start(ap, text);
	vsnprintf(v->text, sizeof v->text, text, ap);
	va_end(ap);
	return code;
}

static void why(struct policy_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void why(struct policy_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->log, sizeof v->log, fmt, ap);
	va_end(ap);
}

/* A client's address for a log line: a1 or a2 in the caller (util/log.h). */
#define ADDR_LOG_MAX LOG_VALUE_MAX(SMTP_ADDR_LOG_IN)
#define SMTP_ADDR_LOG_IN 520
#define A(buf, addr) log_addr((addr), (buf), sizeof(buf))

static void clear(struct policy_verdict *v)
{
	memset(v, 0, sizeof *v);
}

int policy_owns_domain(const struct policy_client *cl, const char *domain)
{
	for (int i = 0; i < cl->ndomains; i++)
		if (strcasecmp(cl->domains[i], domain) == 0)
			return 1;
	return 0;
}

int policy_mail(const struct policy_client *cl, const struct policy_mail *m, int *relay,
                struct policy_verdict *v)
{
	char a1[ADDR_LOG_MAX];
	uint64_t need = m->disk_min_free + m->declared_size;

	if (need < m->disk_min_free)
		need = UINT64_MAX;                         /* SIZE= near 2^64: no wrap to "fits" */
	clear(v);
	*relay = 0;
	if (cl->submission && cl->auth == POLICY_ANON) {
		why(v, "reject MAIL: 530 5.7.0 authentication required on submission port");
		return verdict(v, 530, "5.7.0", 1, 0, "Authentication required");
	}
	/* The fixed limit before the free space (RFC 1870 6.1): a message that
	 * can never be taken gets the permanent 552, not a 452 to retry. */
	if (m->declared_size > m->size_limit) {
		why(v, "reject MAIL: 552 5.3.4 SIZE=%llu over limit", (unsigned long long)m->declared_size);
		return verdict(v, 552, "5.3.4", 0, 0, "Message size exceeds fixed limit of %llu bytes",
		               (unsigned long long)m->size_limit);
	}
	if (m->disk_known && m->disk_avail < need) {
		why(v, "reject MAIL: 452 4.3.1 %llu bytes free in the queue, need %llu",
		    (unsigned long long)m->disk_avail, (unsigned long long)need);
		return verdict(v, 452, "4.3.1", 0, 1, "Insufficient system storage");
	}
	if (cl->auth == POLICY_ANON)
		return 0;                                  /* the MX role: RCPT decides */
	if (m->sender[0] && policy_owns_domain(cl, m->domain)) {
		*relay = 1;
		return 0;
	}
	if (cl->auth == POLICY_POP_GRANT && !cl->submission) {
		/* A POP-before-SMTP grant authorizes an IP, which other senders
		 * may share (NAT, a mail server beside the customer): their mail
		 * to hosted mailboxes is ordinary MX traffic. Only relaying needs
		 * the account's own sender (refused at RCPT). */
		why(v, "sender %s not owned by account %s: POP-before-SMTP authorization not used for "
		    "this transaction", A(a1, m->sender), cl->account);
		return 0;
	}
	why(v, "reject MAIL: 553 5.7.1 sender %s not owned by account %s user=%s", A(a1, m->sender), cl->account,
	    cl->user);
	return verdict(v, 553, "5.7.1", 1, 1, "Sender address <%s> not owned by your account %s", m->sender,
	               cl->account);
}

int policy_rcpt_count(const struct policy_client *cl, int relay, size_t nrcpt, struct policy_verdict *v)
{
	int max = relay ? cl->lim.max_recipients : cl->max_recipients;

	clear(v);
	if (nrcpt < (size_t)max)
		return 0;
	why(v, "reject RCPT: 452 4.5.3 too many recipients (%zu) account=%s", nrcpt, relay ? cl->account : "-");
	return verdict(v, 452, "4.5.3", 0, 0, "Error: too many recipients (at most %d per message)", max);
}

int policy_rcpt_needs_budget(const struct policy_client *cl, int relay, int lookup_failed, int hosted,
                             int exists)
{
	(void)cl;
	return relay && !lookup_failed && (!hosted || exists);
}

enum policy_budget policy_budget_reserved(int asked, int rc)
{
	if (!asked)
		return BUDGET_NOT_ASKED;
	switch (rc) {
	case 0: return BUDGET_RESERVED;
	case 1: return BUDGET_OVER_HOUR;
	case 2: return BUDGET_OVER_DAY;
	default: return BUDGET_FAILED;
	}
}

static int budget_refusal(const struct policy_client *cl, const struct policy_rcpt *r,
                          struct policy_verdict *v)
{
	char a1[ADDR_LOG_MAX];
	char text[200];

	if (rate_decide(r->use, cl->lim.per_hour, cl->lim.per_day, 0, text, sizeof text) == 0)
		snprintf(text, sizeof text, "%s limit reached", r->budget == BUDGET_OVER_DAY ? "daily" : "hourly");
	why(v, "reject RCPT: 450 4.7.1 account=%s user=%s to=%s: %s", cl->account, cl->user, A(a1, r->addr), text);
	return verdict(v, 450, "4.7.1", 0, 1, "<%s>: Recipient refused: account %s %s", r->addr, cl->account, text);
}

int policy_rcpt(const struct policy_client *cl, int relay, const struct policy_rcpt *r,
                struct policy_verdict *v)
{
	char a1[ADDR_LOG_MAX], a2[ADDR_LOG_MAX];
	clear(v);
	if (r->lookup_failed || r->budget == BUDGET_FAILED)
		return verdict(v, 451, "4.3.0", 0, 0, "<%s>: Temporary lookup failure", r->addr);
	if (r->budget == BUDGET_OVER_HOUR || r->budget == BUDGET_OVER_DAY)
		return budget_refusal(cl, r, v);
	if (!r->hosted && relay) {
		why(v, "relay from=%s to=%s account=%s", A(a1, r->sender), A(a2, r->addr), cl->account);
		return 0;
	}
	if (!r->hosted && cl->auth == POLICY_POP_GRANT) {
		why(v, "reject RCPT: 553 5.7.1 sender %s not owned by account %s (POP-before-SMTP) to=%s",
		    A(a1, r->sender), cl->account, A(a2, r->addr));
		return verdict(v, 553, "5.7.1", 1, 1, "<%s>: Relay refused: sender <%s> not owned by your account %s",
		               r->addr, r->sender, cl->account);
	}
	if (!r->hosted) {
		why(v, "reject RCPT: 554 5.7.1 relay access denied from=%s to=%s", A(a1, r->sender), A(a2, r->addr));
		return verdict(v, 554, "5.7.1", 1, 0, "<%s>: Relay access denied", r->addr);
	}
	if (!r->exists) {
		why(v, "reject RCPT: 550 5.1.1 no such mailbox from=%s to=%s", A(a1, r->sender), A(a2, r->addr));
		return verdict(v, 550, "5.1.1", 1, 0, "<%s>: Recipient address rejected: no such mailbox", r->addr);
	}
	return 0;
}

int policy_header_from(const struct policy_client *cl, const char (*doms)[POLICY_DOMAIN_MAX], int n,
                       int overflow, size_t header_max, struct policy_verdict *v)
{
	char a1[ADDR_LOG_MAX];
	clear(v);
	if (overflow) {
		/* a From: could hide past what is kept: refuse rather than guess */
		why(v, "reject DATA: 550 5.7.1 header section over %zu bytes account=%s user=%s", header_max,
		    cl->account, cl->user);
		return verdict(v, 550, "5.7.1", 0, 1, "Header section too large (over %zu bytes) for the sender check",
		               header_max);
	}
	if (n < 0) {
		why(v, "reject DATA: 550 5.7.1 unparsable From: header account=%s user=%s", cl->account, cl->user);
		return verdict(v, 550, "5.7.1", 0, 1, "Header From: address is not valid");
	}
	for (int i = 0; i < n; i++) {
		if (policy_owns_domain(cl, doms[i]))
			continue;
		why(v, "reject DATA: 550 5.7.1 header From domain %s not owned by account %s user=%s",
		    log_value(doms[i], strlen(doms[i]), a1, sizeof a1), cl->account, cl->user);
		return verdict(v, 550, "5.7.1", 0, 1, "Header From: address in %s not owned by your account %s",
		               doms[i], cl->account);
	}
	return 0;
}
