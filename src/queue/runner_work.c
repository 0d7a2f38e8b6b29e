/*
 * runner_work: the worker-thread half of the queue runner (see
 * runner_int.h). Everything here blocks (envelope reads, fsync, Maildir,
 * SQLite); nothing here touches the event loop. Every result is appended
 * to the envelope and fsynced before anything depends on it, so a crash
 * repeats at most the delivery that was in progress.
 */
#include "queue/runner_int.h"
#include "daemon/server.h"
#include "cluster/cluster.h"
#include "cluster/lmtp_client.h"
#include "cluster/lmtp_proto.h"
#include "store/store_node.h"
#include "delivery/bounce.h"
#include "delivery/maildir.h"
#include "delivery/quota.h"
#include "routing/vacation_send.h"
#include "store/store.h"
#include "routing/route_store.h"
#include "util/log.h"
#include "metrics/metrics.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void split_addr(const char *addr, char *local, size_t ll, char *domain, size_t dl)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);
	char *p;

	snprintf(local, ll, "%.*s", (int)n, addr);
	snprintf(domain, dl, "%s", at ? at + 1 : "");
	for (p = local; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (p = domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* A recipient delivered to its Maildir (log_rcpt counts the others). */
static void count_local_delivery(struct server *srv, const struct envelope *env)
{
	metrics_inc(srv->metrics, M_DELIVERIES, "delivered", "local");
	metrics_observe(srv->metrics, M_DELIVERY_SECONDS, "local", NULL, (double)(time(NULL) - env->arrival));
}

/* One line per recipient and result: "ID: to=<ADDR>: RESULT: reason=..."
 * (the reason quoted: it may be a remote server's text), and for a
 * deferral the attempts so far and when the next one is due. */
static void log_rcpt_next(struct server *srv, const struct envelope *env, size_t i, const char *what,
                          const char *reason, time_t next)
{
	char safe[LOG_VALUE_MAX(1024)], to[LOG_VALUE_MAX(sizeof env->rcpt[i].addr)], when[32] = "";
	const char *route = env->rcpt[i].local ? "local" : "remote";
	const char *result = strcmp(what, "failed") == 0 ? "bounced" : what;
	struct tm tm;

	metrics_inc(srv->metrics, M_DELIVERIES, result, route);
	if (strcmp(result, "deferred") != 0)
		metrics_observe(srv->metrics, M_DELIVERY_SECONDS, route, NULL,
		                (double)(time(NULL) - env->arrival));
	log_value(reason, strlen(reason), safe, sizeof safe);
	log_addr(env->rcpt[i].addr, to, sizeof to);
	if (next && gmtime_r(&next, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (when[0])
		log_info("%s: to=%s: %s: reason=%s attempts=%d next=%s", env->id, to, what, safe,
		         env->rcpt[i].attempts + 1, when);
	else
		log_info("%s: to=%s: %s: reason=%s", env->id, to, what, safe);
}

static void log_rcpt(struct server *srv, const struct envelope *env, size_t i, const char *what,
                     const char *reason)
{
	log_rcpt_next(srv, env, i, what, reason, 0);
}

/* A temporary failure: try again after the schedule's wait, or give up
 * when the message has been queued for longer than max_age. */
static void defer(struct msg_job *j, const struct envelope *env, size_t i, const char *reason)
{
	const struct env_rcpt *rc = &env->rcpt[i];
	time_t now = time(NULL), since = envelope_age_base(env);
	int k = rc->attempts < j->cfg.retry_schedule_n ? rc->attempts : j->cfg.retry_schedule_n - 1;
	char why[512];

	if (now - since >= j->cfg.max_age) {
		if (snprintf(why, sizeof why, "4.4.7 message expired after %ld seconds in the queue; last error: %s",
		             (long)(now - since), reason) >= (int)sizeof why)
			memcpy(why + sizeof why - 4, "...", 4);
		log_rcpt(j->srv, env, i, "failed", why);
		if (envelope_mark_failed(j->srv->queue_dir, env->id, i, why) < 0)
			log_warn("%s: cannot record a result: %s", env->id, strerror(errno));
		return;
	}
	log_rcpt_next(j->srv, env, i, "deferred", reason, now + j->cfg.retry_schedule[k]);
	if (envelope_mark_tempfail(j->srv->queue_dir, env->id, i, now + j->cfg.retry_schedule[k], reason) < 0)
		log_warn("%s: cannot record a result: %s", env->id, strerror(errno));
}

/* Is every recipient but i delivered? Then marking i done makes the
 * message final and settle() removes it next (no report is owed). */
static int others_done(const struct envelope *env, size_t i)
{
	for (size_t k = 0; k < env->nrcpt; k++)
		if (k != i && env->rcpt[k].state != RCPT_DONE)
			return 0;
	return 1;
}

/* Record recipient i delivered; fsynced unless the message is removed next. */
static int mark_delivered(const char *queue_dir, const struct envelope *env, size_t i)
{
	return others_done(env, i) ? envelope_mark_last_done(queue_dir, env->id, i)
	                           : envelope_mark_done(queue_dir, env->id, i);
}

/* Routing (routing/route_store.h): an alias, a role address, a
 * catch-all or an SRS bounce is queued anew for its targets; 1 when that
 * (or a failure) settled recipient i, 0 when it is a plain mailbox. */
static int route_step(struct msg_job *j, const struct envelope *env, size_t i)
{
	struct route_outcome ro;

	if (j->nnew + 2 > RUNNER_NEW_MAX - 2)
		return 1;                /* this step's room is taken: the next step routes it */
	route_deliver(j->srv->store, j->srv->srs, j->srv->queue_dir, env, i, j->msg_path, j->msg_offset, j->size, &ro);
	for (int k = 0; k < ro.nids; k++)
		memcpy(j->new_ids[j->nnew++], ro.ids[k], QUEUE_ID_LEN + 1);
	if (ro.kind == ROUTE_MAILBOX)
		return 0;
	if (ro.kind == ROUTE_FORWARD) {
		if (mark_delivered(j->srv->queue_dir, env, i) < 0)
			log_warn("%s: to=<%s>: forwarded but cannot record it: %s (may be forwarded twice)", env->id,
			         env->rcpt[i].addr, strerror(errno));
		log_info("%s: to=<%s>: %s", env->id, env->rcpt[i].addr, ro.info);
	} else if (ro.kind == ROUTE_TEMP) {
		defer(j, env, i, ro.why);
	} else {
		log_rcpt(j->srv, env, i, "failed", ro.why);
		envelope_mark_failed(j->srv->queue_dir, env->id, i, ro.why);
	}
	return 1;
}

/* The Maildir delivery under the mailbox's quota (delivery/quota.h). */
static enum quota_result deliver_quota(struct msg_job *j, const struct envelope *env, const char *local,
                                       const char *domain)
{
	struct quota_delivery d = {
		.data_dir = j->cfg.data_dir, .local = local, .domain = domain, .sender = env->sender,
		.msg_path = j->msg_path, .offset = j->msg_offset, .size = j->size,
		.warning = j->cfg.quota_warning, .hostname = j->cfg.hostname,
	};

	return quota_deliver(j->srv->store, &d);
}

/* After a delivery: the mailbox's autoresponder (routing/vacation_send.h). */
static void vacation_hook(struct msg_job *j, const struct envelope *env, const char *local, const char *domain)
{
	char mailbox[600], id[QUEUE_ID_LEN + 1];
	struct vacation_delivery d = {
		.queue_id = env->id, .mailbox = mailbox, .sender = env->sender, .msg_path = j->msg_path,
		.offset = j->msg_offset, .size = j->size, .hostname = j->cfg.hostname,
		.period = j->cfg.vacation_period, .dkim_sign = j->cfg.dkim_sign, .now = time(NULL),
	};

	snprintf(mailbox, sizeof mailbox, "%s@%s", local, domain);
	if (vacation_after_delivery(j->srv->store, j->srv->queue_dir, &d, id, sizeof id) == 1 &&
	    j->nnew < RUNNER_NEW_MAX + RUNNER_REPLIES_MAX - 2)   /* room for the 2 reports */
		memcpy(j->new_ids[j->nnew++], id, sizeof id);
}

/* A fleet (cluster/cluster.h): a due recipient whose mailbox is homed on
 * another node, waiting to be handed over with the others of that node. */
struct homed {
	size_t idx;
	int home;
};

static int cmp_homed(const void *a, const void *b)
{
	const struct homed *x = a, *y = b;

	return x->home != y->home ? (x->home < y->home ? -1 : 1) : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* One outcome of a hand-over, recorded: delivered, failed (5xx) or
 * deferred (4xx, the home node down: the retry schedule). */
static void record_home(struct msg_job *j, const struct envelope *env, size_t i, int home,
                        const struct lmtp_outcome *o)
{
	struct server *srv = j->srv;

	switch (o->result) {
	case LMTP_DELIVERED:
		if (mark_delivered(srv->queue_dir, env, i) < 0)
			log_warn("%s: to=<%s>: delivered but cannot record it: %s (may be handed over again)",
			         env->id, env->rcpt[i].addr, strerror(errno));
		count_local_delivery(srv, env);
		log_info("%s: to=<%s>: delivered to node %d over LMTP: %s", env->id, env->rcpt[i].addr, home,
		         o->reason);
		break;
	case LMTP_PERMFAIL:
		log_rcpt(srv, env, i, "failed", o->reason);
		if (envelope_mark_failed(srv->queue_dir, env->id, i, o->reason) < 0)
			log_warn("%s: cannot record a result: %s", env->id, strerror(errno));
		break;
	default:
		defer(j, env, i, o->reason);
		break;
	}
}

/* Hand the n recipients h (all homed on node h[0].home) to that node in
 * one LMTP transaction; each is recorded only after the home node's
 * answer to it: a crash in between hands it over again, and the home
 * node's dedup stores it once (cluster/lmtp_server.c). */
static void deliver_home(struct msg_job *j, const struct envelope *env, const struct homed *h, size_t n)
{
	struct server *srv = j->srv;
	struct lmtp_outcome *out = calloc(n, sizeof *out);
	const char **rcpts = calloc(n, sizeof *rcpts);
	int home = h[0].home, r = out && rcpts ? 0 : STORE_EFAIL;
	struct lmtp_send m;
	struct node node;
	char hop[200], why[300];
	size_t k;

	if (r == 0)
		r = store_node_get(srv->store, home, &node);
	if (r == 0 && lmtp_hop_format(hop, sizeof hop, srv->cluster->node, home, env->id) < 0)
		r = STORE_EINVAL;
	if (r) {
		if (r == STORE_ENOTFOUND)
			snprintf(why, sizeof why, "4.3.5 the home node %d is not a node of the fleet (hostmailctl node"
			         " list)", home);
		else
			snprintf(why, sizeof why, "4.3.0 %s", r == STORE_EFAIL ? "account store unavailable"
			         : "cannot make the hop header");
		for (k = 0; k < n; k++)
			defer(j, env, h[k].idx, why);
		goto out;
	}
	for (k = 0; k < n; k++)
		rcpts[k] = env->rcpt[h[k].idx].addr;
	memset(&m, 0, sizeof m);
	m.ctx = srv->cluster->client;
	m.lmtp = node.lmtp;
	m.node = home;
	m.helo = j->cfg.hostname;
	m.hop = hop;
	m.sender = env->sender;
	m.rcpts = rcpts;
	m.nrcpt = n;
	m.msg_path = j->msg_path;
	m.offset = j->msg_offset;
	m.size = j->size;
	lmtp_send(&m, out);
	for (k = 0; k < n; k++)
		record_home(j, env, h[k].idx, home, &out[k]);
out:
	free(out);
	free(rcpts);
}

/* Every recipient collected by deliver_local, one transaction per home node. */
static void deliver_homed(struct msg_job *j, const struct envelope *env, struct homed *h, size_t n)
{
	size_t a = 0, b;

	qsort(h, n, sizeof *h, cmp_homed);
	for (; a < n; a = b) {
		for (b = a + 1; b < n && h[b].home == h[a].home; b++)
			;
		deliver_home(j, env, h + a, b - a);
	}
}

/* 0: delivered here, routed (routing/route_store.h) or its result
 * recorded; > 0: the home node of a mailbox that lives on another node
 * of the fleet (deliver_homed). Aliases are expanded on the accepting
 * node: their copies come back here as recipients of their own. */
static int deliver_local(struct msg_job *j, const struct envelope *env, size_t i)
{
	struct server *srv = j->srv;
	const struct env_rcpt *rc = &env->rcpt[i];
	char local[320], domain[256], reason[300];
	int hosted = 0, exists = 0;

	if (route_step(j, env, i))
		return 0;
	split_addr(rc->addr, local, sizeof local, domain, sizeof domain);
	if (srv->cluster) {
		int home = 0, r = store_mailbox_home(srv->store, local, domain, &home, &exists);
		if (r == STORE_EFAIL) {
			defer(j, env, i, "4.3.0 account store unavailable");
			return 0;
		}
		if (r == 0 && exists && home != srv->cluster->node)
			return home;
	}
	if (store_rcpt_lookup(srv->store, local, domain, &hosted, &exists) != 0) {
		defer(j, env, i, "4.3.0 account store unavailable");
		return 0;
	}
	if (!exists) {
		log_rcpt(srv, env, i, "failed", "5.1.1 mailbox no longer exists");
		envelope_mark_failed(srv->queue_dir, env->id, i, "5.1.1 mailbox no longer exists");
		return 0;
	}
	switch (deliver_quota(j, env, local, domain)) {
	case QUOTA_FITS:
		if (mark_delivered(srv->queue_dir, env, i) < 0)
			log_warn("%s: to=<%s>: delivered but cannot record it: %s (may be delivered twice)",
			         env->id, rc->addr, strerror(errno));
		count_local_delivery(srv, env);
		log_info("%s: to=<%s>: delivered to maildir", env->id, rc->addr);
		vacation_hook(j, env, local, domain);
		return 0;
	case QUOTA_FULL:
		if (j->cfg.quota_full_temporary) {
			defer(j, env, i, "4.2.2 mailbox full");
		} else {
			log_rcpt(srv, env, i, "failed", "5.2.2 mailbox full");
			envelope_mark_failed(srv->queue_dir, env->id, i, "5.2.2 mailbox full");
		}
		return 0;
	default:
		break;
	}
	snprintf(reason, sizeof reason, "4.3.0 maildir delivery failed: %s", strerror(errno));
	defer(j, env, i, reason);
	return 0;
}

/* Would this address break the SMTP command it goes into? */
static int bad_path(const char *a)
{
	for (; *a; a++)
		if ((unsigned char)*a <= 0x20 || *a == 0x7f || *a == '<' || *a == '>')
			return 1;
	return 0;
}

static int cmp_domain(const void *a, const void *b)
{
	const struct remote_rcpt *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* Queue one report about recipients idx[0..n) and record it was sent. */
static void report(struct msg_job *j, const struct envelope *env, const size_t *idx, size_t n, int delayed)
{
	struct dsn_rcpt *rr = calloc(n, sizeof *rr);
	struct dsn d;
	char id[QUEUE_ID_LEN + 1];

	if (!rr)
		return;
	for (size_t k = 0; k < n; k++) {
		rr[k].addr = env->rcpt[idx[k]].addr;
		rr[k].reason = env->rcpt[idx[k]].reason;
	}
	memset(&d, 0, sizeof d);
	d.reporting_mta = j->cfg.hostname;
	d.queue_id = env->id;
	d.to = env->sender;
	d.arrival = env->arrival;
	d.now = time(NULL);
	d.retry_until = envelope_age_base(env) + j->cfg.max_age;
	d.delayed = delayed;
	d.rcpts = rr;
	d.nrcpt = n;
	if (bounce_queue(j->srv->queue_dir, j->srv->store, &d, j->msg_path, j->msg_offset, j->size,
	                 id, sizeof id) < 0) {
		log_warn("%s: cannot queue a %s report for <%s>: %s (will try again)", env->id,
		         delayed ? "delay" : "failure", env->sender, strerror(errno));
	} else {
		char from[LOG_VALUE_MAX(sizeof env->sender)];

		log_info("%s: sender %s notified (%s) in %s", env->id, log_addr(env->sender, from, sizeof from),
		         delayed ? "delayed" : "failed", id);
		if (envelope_mark_notified(j->srv->queue_dir, env->id, idx, n, delayed) < 0)
			log_warn("%s: cannot record the report %s: %s (it may be sent again)", env->id, id,
			         strerror(errno));
		if (j->nnew < RUNNER_NEW_MAX + RUNNER_REPLIES_MAX)
			memcpy(j->new_ids[j->nnew++], id, sizeof id);
	}
	free(rr);
}

/* A message could not be read: gone if it is not queued any more, else
 * left for a later look (j->next stays 0). */
static void load_failed(struct msg_job *j)
{
	if (errno == ENOENT) {
		j->gone = 1;
		return;
	}
	log_warn("%s: cannot read envelope: %s", j->id, strerror(errno));
}

/* When a pending recipient makes the message due again. One whose time
 * is not after the job's start was due then and so was tried; if its
 * time did not move on, the result could not be recorded: look again
 * later, not at once (no loop on a failing disk). One whose time passed
 * while the job ran (a slow step, a short schedule) is due now. */
static time_t rcpt_due(const struct msg_job *j, const struct env_rcpt *rc, time_t now)
{
	return rc->next_attempt <= j->started ? now + RUNNER_TROUBLE_WAIT : rc->next_attempt;
}

/* After a step: send the reports that are due and remove the message once
 * every recipient is final (and its sender told). After the job's last
 * step (final), also note when the message is due again, in j->next and
 * in the file's mtime, where a restart finds it (queue.h). */
static void settle(struct msg_job *j, int final)
{
	struct envelope env;
	size_t *fail_idx, *late_idx, nf = 0, nl = 0, i;
	time_t now = time(NULL), next = 0;
	int pending = 0, unreported = 0;

	if (envelope_load(j->srv->queue_dir, j->id, &env) < 0) {
		load_failed(j);
		return;
	}
	fail_idx = calloc(env.nrcpt, sizeof *fail_idx);
	late_idx = calloc(env.nrcpt, sizeof *late_idx);
	if (!fail_idx || !late_idx)
		goto out;
	for (i = 0; i < env.nrcpt; i++) {
		const struct env_rcpt *rc = &env.rcpt[i];
		if (rc->state == RCPT_PENDING) {
			time_t due = rcpt_due(j, rc, now);
			pending = 1;
			if (next == 0 || due < next)
				next = due;
			if (j->cfg.delay_warning > 0 && now - envelope_age_base(&env) >= j->cfg.delay_warning &&
			    !rc->warned && rc->attempts > 0)
				late_idx[nl++] = i;
		} else if (rc->state == RCPT_FAILED && !rc->bounced) {
			fail_idx[nf++] = i;
		}
	}
	if (env.sender[0] == '\0') {
		if (nf > 0)
			log_info("%s: no failure report: the sender is <>", j->id);
		nf = nl = 0; /* never a report about a report: no loops */
	}
	if (nf > 0) {
		report(j, &env, fail_idx, nf, 0);
		envelope_free(&env);
		if (envelope_load(j->srv->queue_dir, j->id, &env) < 0) {
			load_failed(j);
			goto out;
		}
		for (i = 0; i < env.nrcpt; i++)
			if (env.rcpt[i].state == RCPT_FAILED && !env.rcpt[i].bounced)
				unreported = 1;
	}
	if (nl > 0)
		report(j, &env, late_idx, nl, 1);
	if (!pending && !unreported) {
		if (queue_remove(j->srv->queue_dir, j->id) == 0) {
			log_info("%s: removed", j->id);
			j->gone = 1;
			goto out;
		}
		log_warn("%s: cannot remove from queue: %s", j->id, strerror(errno));
		next = now + RUNNER_TROUBLE_WAIT;
	} else if (unreported && (next == 0 || next > now + RUNNER_TROUBLE_WAIT)) {
		next = now + RUNNER_TROUBLE_WAIT; /* a report could not be queued: try again */
	}
	if (final) {
		j->next = next;
		if (queue_set_next_attempt(j->srv->queue_dir, j->id, next) < 0 && errno != ENOENT)
			log_warn("%s: cannot note the next attempt in the file's time: %s (harmless: "
			         "after a restart it is looked at early)", j->id, strerror(errno));
	}
out:
	free(fail_idx);
	free(late_idx);
	envelope_free(&env);
}

void job_prepare(void *arg)
{
	struct msg_job *j = arg;
	struct envelope env;
	struct homed *homed;
	time_t now = time(NULL);
	size_t i, n = 0, nh = 0;

	j->started = now;
	if (envelope_load(j->srv->queue_dir, j->id, &env) < 0) {
		load_failed(j);
		return;
	}
	if (env.hold[0]) {
		/* held: no delivery, no expiry, no warning until released */
		char why[LOG_VALUE_MAX(sizeof env.hold)];

		log_value(env.hold, strlen(env.hold), why, sizeof why);
		log_info("%s: on hold, not delivered until released: reason=%s", j->id, why);
		j->held = 1;
		envelope_free(&env);
		return;
	}
	snprintf(j->sender, sizeof j->sender, "%s", env.sender);
	j->size = env.size;
	queue_msg_path(j->srv->queue_dir, &env, j->msg_path, sizeof j->msg_path);
	j->msg_offset = env.msg_offset;
	j->remote = calloc(env.nrcpt, sizeof *j->remote);
	j->res = calloc(env.nrcpt, sizeof *j->res);
	homed = env.nrcpt ? calloc(env.nrcpt, sizeof *homed) : NULL;
	for (i = 0; i < env.nrcpt; i++) {
		const struct env_rcpt *rc = &env.rcpt[i];
		char local[320];
		if (rc->state != RCPT_PENDING || (rc->next_attempt > now && !j->force))
			continue;
		if (rc->local) {
			int home = deliver_local(j, &env, i);
			if (home && homed)
				homed[nh++] = (struct homed){ i, home };
			else if (home)
				deliver_home(j, &env, &(struct homed){ i, home }, 1);
		} else if (bad_path(env.sender) || bad_path(rc->addr) || !strchr(rc->addr, '@')) {
			log_rcpt(j->srv, &env, i, "failed", "5.1.3 bad address syntax");
			envelope_mark_failed(j->srv->queue_dir, env.id, i, "5.1.3 bad address syntax");
		} else if (j->remote && j->res) {
			struct remote_rcpt *rr = &j->remote[n++];
			rr->idx = i;
			snprintf(rr->addr, sizeof rr->addr, "%s", rc->addr);
			split_addr(rc->addr, local, sizeof local, rr->domain, sizeof rr->domain);
		}
	}
	if (nh)
		deliver_homed(j, &env, homed, nh);
	free(homed);
	envelope_free(&env);
	j->nremote = n;
	if (n > 1)
		qsort(j->remote, n, sizeof *j->remote, cmp_domain);
	for (i = 0; i < n; i++)
		j->res[i].addr = j->remote[i].addr;
	settle(j, n == 0); /* else job_record's settle is the last */
}

void job_record(void *arg)
{
	struct msg_job *j = arg;
	struct envelope env;
	const char *qd = j->srv->queue_dir;

	if (envelope_load(qd, j->id, &env) < 0) {
		load_failed(j);
		return;
	}
	for (size_t k = 0; k < j->nremote; k++) {
		size_t i = j->remote[k].idx;
		const struct smtpc_rcpt *r = &j->res[k];
		if (i >= env.nrcpt || env.rcpt[i].state != RCPT_PENDING)
			continue;
		switch (r->result) {
		case SMTPC_RCPT_OK:
			log_rcpt(j->srv, &env, i, "delivered", r->reason);
			if (mark_delivered(qd, &env, i) < 0)
				log_warn("%s: to=<%s>: delivered but cannot record it: %s (may be delivered twice)",
				         j->id, env.rcpt[i].addr, strerror(errno));
			break;
		case SMTPC_RCPT_PERM:
			log_rcpt(j->srv, &env, i, "failed", r->reason);
			if (envelope_mark_failed(qd, j->id, i, r->reason) < 0)
				log_warn("%s: cannot record a result: %s", j->id, strerror(errno));
			break;
		default:
			defer(j, &env, i, r->reason[0] ? r->reason : "4.4.1 delivery not attempted");
			break;
		}
	}
	envelope_free(&env);
	settle(j, 1);
}

void job_delete(void *arg)
{
	struct msg_job *j = arg;
	int r = queue_exists(j->srv->queue_dir, j->id);

	j->admin_err = 0;
	if (r <= 0)
		j->admin_err = r == 0 ? ENOENT : errno;
	else if (queue_remove(j->srv->queue_dir, j->id) < 0)
		j->admin_err = errno;
	else
		j->gone = 1;
}

void job_bounce(void *arg)
{
	struct msg_job *j = arg;
	struct envelope env;
	char why[512], from[LOG_VALUE_MAX(sizeof env.sender)];

	j->admin_err = 0;
	if (envelope_load(j->srv->queue_dir, j->id, &env) < 0) {
		j->admin_err = errno;
		return;
	}
	/* for the report */
	queue_msg_path(j->srv->queue_dir, &env, j->msg_path, sizeof j->msg_path);
	j->msg_offset = env.msg_offset;
	j->size = env.size;
	log_info("%s: returned to the sender %s by the administrator", j->id,
	         log_addr(env.sender, from, sizeof from));
	for (size_t i = 0; i < env.nrcpt && j->admin_err == 0; i++) {
		const struct env_rcpt *rc = &env.rcpt[i];
		if (rc->state != RCPT_PENDING)
			continue;
		if (snprintf(why, sizeof why, "5.0.0 returned to the sender by the mail administrator%s%s",
		             rc->reason[0] ? "; last error: " : "", rc->reason) >= (int)sizeof why)
			memcpy(why + sizeof why - 4, "...", 4);
		log_rcpt(j->srv, &env, i, "failed", why);
		if (envelope_mark_failed(j->srv->queue_dir, env.id, i, why) < 0)
			j->admin_err = errno;
	}
	envelope_free(&env);
	settle(j, 1); /* the report, then removal */
}
