/*
 * smtp_milter: the [milter] filters between the end of DATA/BDAT and the
 * reply (docs/milter.md). The message is spooled whole first; then, with
 * the client waiting (its connection held, the loop free), the filters
 * of its role (inbound: clients not authorized; outbound: authorized)
 * see it in order; their verdict is the client's reply; their edits are
 * applied to the spool file by the commit job, before DKIM signing and
 * the queue commit. A rejected message is never queued.
 */
#ifndef HM_SMTP_MILTER_H
#define HM_SMTP_MILTER_H

struct smtp_session;
struct commit_job;

/* 1 if the transaction's role has filters configured. Before tx_end. */
int smtp_milter_wanted(const struct smtp_session *s);
/* Take the commit over: the filters, then txn_commit_work/done (or the
 * filters' reply). 0; -1 if it could not start (c untouched: the caller
 * replies 451 and frees it). */
int smtp_milter_start(struct smtp_session *s, struct commit_job *c);
/* On the commit worker: the edits into the spool file (and envelope). 0,
 * or -1 with c->err set and the spool aborted. 0 at once without filters. */
int smtp_milter_apply(struct commit_job *c);

#endif
