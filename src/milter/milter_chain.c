/*
 * milter_chain: run the filters one after the other (milter_chain.h).
 */
#include "milter/milter_chain.h"
#include "metrics/metrics.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct milter_chain {
	struct event_base *base;
	struct metrics *metrics;
	const struct milter_spec *specs;
	int n, i, timeout, default_accept;
	char log_id[64];
	const struct milter_msg *m;
	struct milter_outcome *out;
	struct milter_client *mc;
	void (*done)(void *);
	void *arg;
};

static const char *verdict_name(enum milter_verdict v)
{
	static const char *const names[] = { "continue", "accept", "reject", "tempfail", "discard", "failed" };

	return (unsigned)v < 6 ? names[v] : "?";
}

static void end_chain(struct milter_chain *ch, enum milter_verdict v, const char *reply)
{
	struct milter_outcome *o = ch->out;

	o->verdict = v;
	snprintf(o->filter, sizeof o->filter, "%s", ch->specs[ch->i < ch->n ? ch->i : ch->n - 1].text);
	if (reply && !o->reply[0])
		snprintf(o->reply, sizeof o->reply, "%s", reply);
	ch->done(ch->arg);
}

static void start_next(struct milter_chain *ch);

static void client_done(void *arg)
{
	struct milter_chain *ch = arg;
	struct milter_client_result *r = &ch->out->res[ch->i];
	const char *name = ch->specs[ch->i].text;
	char why[LOG_VALUE_MAX(sizeof r->why)], reply[LOG_VALUE_MAX(sizeof r->reply)];

	milter_client_free(ch->mc);
	ch->mc = NULL;
	ch->out->nres = ch->i + 1;
	metrics_inc(ch->metrics, M_MILTER_RESULTS, verdict_name(r->verdict), NULL);
	if (r->verdict == MILTER_FAILED) {
		log_warn("%s: milter filter=%s failed why=%s action=%s", ch->log_id, name,
		         log_value(r->why, strlen(r->why), why, sizeof why),
		         ch->default_accept ? "accept" : "tempfail");
		milter_client_result_free(r);
		r->verdict = MILTER_FAILED;
		if (!ch->default_accept) {
			end_chain(ch, MILTER_TEMPFAIL, "451 4.7.1 Service unavailable - try again later");
			return;
		}
	} else {
		log_info("%s: milter filter=%s result=%s edits=%zu%s%s%s%s", ch->log_id, name, verdict_name(r->verdict),
		         r->nedits, r->body_replaced ? " body=replaced" : "", r->quarantined ? " quarantine=yes" : "",
		         r->reply[0] ? " reply=" : "",
		         r->reply[0] ? log_value(r->reply, strlen(r->reply), reply, sizeof reply) : "");
	}
	switch (r->verdict) {
	case MILTER_REJECT:
		end_chain(ch, MILTER_REJECT, r->reply[0] ? r->reply : "550 5.7.1 Command rejected");
		return;
	case MILTER_TEMPFAIL:
		end_chain(ch, MILTER_TEMPFAIL, r->reply[0] ? r->reply : "451 4.7.1 Service unavailable - try again later");
		return;
	case MILTER_DISCARD:
		end_chain(ch, MILTER_DISCARD, NULL);
		return;
	default:
		break;
	}
	ch->i++;
	start_next(ch);
}

static void start_next(struct milter_chain *ch)
{
	if (ch->i >= ch->n) {
		end_chain(ch, MILTER_CONTINUE, NULL);
		return;
	}
	ch->mc = milter_client_start(ch->base, &ch->specs[ch->i], ch->timeout, ch->m, &ch->out->res[ch->i],
	                             client_done, ch);
	if (!ch->mc) {
		ch->out->res[ch->i].verdict = MILTER_FAILED;
		snprintf(ch->out->res[ch->i].why, sizeof ch->out->res[ch->i].why, "no memory");
		end_chain(ch, MILTER_TEMPFAIL, "451 4.3.0 Error: local error in processing");
	}
}

struct milter_chain *milter_chain_run(struct event_base *base, struct metrics *metrics,
                                      const struct milter_spec *specs, int n,
                                      int timeout, int default_accept, const char *log_id,
                                      const struct milter_msg *m, struct milter_outcome *out,
                                      void (*done)(void *arg), void *arg)
{
	struct milter_chain *ch;

	if (n < 1 || n > MILTER_MAX_FILTERS || !(ch = calloc(1, sizeof *ch)))
		return NULL;
	memset(out, 0, sizeof *out);
	ch->base = base;
	ch->metrics = metrics;
	ch->specs = specs;
	ch->n = n;
	ch->timeout = timeout;
	ch->default_accept = default_accept;
	snprintf(ch->log_id, sizeof ch->log_id, "%s", log_id);
	ch->m = m;
	ch->out = out;
	ch->done = done;
	ch->arg = arg;
	ch->mc = milter_client_start(base, &specs[0], timeout, m, &out->res[0], client_done, ch);
	if (!ch->mc) {
		free(ch);
		return NULL;
	}
	return ch;
}

void milter_chain_free(struct milter_chain *ch)
{
	if (!ch)
		return;
	milter_client_free(ch->mc);
	free(ch);
}

void milter_outcome_free(struct milter_outcome *o)
{
	for (int i = 0; i < MILTER_MAX_FILTERS; i++)
		milter_client_result_free(&o->res[i]);
}
