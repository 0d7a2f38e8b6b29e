/*
 * milter_chain: the configured filters, in order, for one message
 * (milter_client.c talks to each), and what they decided together; then,
 * on a worker, their modifications applied to the spooled message
 * (milter_apply.c). Every filter sees the message as it was received
 * (less forged Authentication-Results): their edits are applied once,
 * together, after the last one.
 *
 * The first REJECT, TEMPFAIL or DISCARD ends the chain. A filter that
 * failed (down, garbage, closed, timed out) is logged with its name and
 * decided by [milter] default_action: tempfail ends the chain with 451
 * 4.7.1, accept goes on without that filter's edits.
 */
#ifndef HM_MILTER_CHAIN_H
#define HM_MILTER_CHAIN_H
#include "milter/milter_client.h"
#include "milter/milter_result.h"
#include "milter/milter_spec.h"

struct milter_outcome {
	enum milter_verdict verdict;  /* CONTINUE (deliver, with the edits), REJECT, TEMPFAIL, DISCARD */
	char reply[512];              /* REJECT/TEMPFAIL: "550 5.7.1 text" as the client gets it */
	char filter[160];             /* the filter that decided, for the log */
	int nres;
	struct milter_client_result res[MILTER_MAX_FILTERS];   /* the edits of each filter that ran */
};

struct event_base;
struct milter_chain;

/* Run specs[0..n) (n >= 1) over m; done(arg) from the loop when out is
 * filled (m and out must live until then). log_id names the message in
 * log lines; each filter's result is counted in metrics (NULL: not). NULL: no memory (nothing will be called). */
struct metrics;
struct milter_chain *milter_chain_run(struct event_base *base, struct metrics *metrics,
                                      const struct milter_spec *specs, int n,
                                      int timeout, int default_accept, const char *log_id,
                                      const struct milter_msg *m, struct milter_outcome *out,
                                      void (*done)(void *arg), void *arg);
void milter_chain_free(struct milter_chain *ch);
void milter_outcome_free(struct milter_outcome *o);

/* ---- milter_apply.c ---- */

/* Split a header section (up to and including its blank line, or the
 * whole message if none) into fields: *out (free with milter_hdrs_free).
 * Authentication-Results fields naming authserv are marked hidden. Count
 * or -1 (no memory). */
long milter_hdrs_parse(const char *head, size_t len, const char *authserv, struct milter_hdr **out);
void milter_hdrs_free(struct milter_hdr *h, size_t n);

/* 1 if a filter's edits in o mark the message as spam. */
int milter_outcome_spam(const struct milter_outcome *o);

/* The new header section from the original head[0..len) (its fields
 * hdrs) and the filters' edits, as the message will be queued: every
 * Authentication-Results the filters added merged into one naming
 * authserv (at the top), forged ones gone, the spam verdict sv applied to
 * the subject (tag). Into out (replaced). 1 if it differs from the
 * original, 0 if not, -1 (no memory). Pure. */
int milter_build_head(const char *head, size_t len, const struct milter_hdr *hdrs, size_t nhdrs,
                      const struct milter_outcome *o, const char *authserv, const struct spam_verdict *sv,
                      const char *tag, struct buf *out);

#endif
