/*
 * ops_json: resources as JSON (ops_json.h).
 */
#include "ops/ops_json.h"
#include "queue/queue.h"

void ops_json_time(struct jw *j, const char *key, time_t t)
{
	char when[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_kstr(j, key, when);
}

void ops_json_account(struct jw *j, const struct account *a)
{
	jw_obj(j);
	jw_kstr(j, "name", a->name);
	jw_kstr(j, "status", a->suspended ? "suspended" : "active");
	jw_kstr(j, "created", a->created);
	jw_kint(j, "server_number", a->server_number);
	jw_obj_end(j);
}

void ops_json_domain(struct jw *j, const char *domain, const char *account, const char *spam)
{
	jw_obj(j);
	jw_kstr(j, "domain", domain);
	jw_kstr(j, "account", account);
	jw_kstr(j, "spam", spam);
	jw_obj_end(j);
}

void ops_json_mailbox(struct jw *j, const struct mailbox *m)
{
	jw_obj(j);
	jw_kstr(j, "address", m->address);
	jw_kstr(j, "domain", m->domain);
	jw_kstr(j, "account", m->account);
	jw_obj_end(j);
}

void ops_json_grant(struct jw *j, const struct relay_grant *g)
{
	jw_obj(j);
	jw_kstr(j, "ip", g->ip);
	jw_kstr(j, "account", g->account);
	jw_kstr(j, "mailbox", g->mailbox);
	ops_json_time(j, "expires", g->expires);
	jw_obj_end(j);
}

void ops_json_envelope(struct jw *j, const struct envelope *e)
{
	static const char *state[] = { "pending", "done", "failed" };

	jw_obj(j);
	jw_kstr(j, "id", e->id);
	ops_json_time(j, "arrival", e->arrival);
	jw_kstr(j, "sender", e->sender);
	jw_kint(j, "size", (long long)e->size);
	jw_kstr(j, "client", e->client_ip);
	jw_kstr(j, "helo", e->helo);
	jw_key(j, "account");
	if (e->account[0])
		jw_str(j, e->account);
	else
		jw_null(j);
	jw_kbool(j, "held", e->hold[0] != '\0');
	jw_key(j, "hold_reason");
	if (e->hold[0])
		jw_str(j, e->hold);
	else
		jw_null(j);
	jw_key(j, "recipients");
	jw_arr(j);
	for (size_t i = 0; i < e->nrcpt; i++) {
		const struct env_rcpt *r = &e->rcpt[i];

		jw_obj(j);
		jw_kstr(j, "address", r->addr);
		jw_kbool(j, "local", r->local);
		jw_kstr(j, "state", (unsigned)r->state < 3 ? state[r->state] : "unknown");
		jw_kint(j, "attempts", r->attempts);
		if (r->state == RCPT_PENDING)
			ops_json_time(j, "next_attempt", r->next_attempt);
		if (r->reason[0])
			jw_kstr(j, "error", r->reason);
		jw_obj_end(j);
	}
	jw_arr_end(j);
	jw_obj_end(j);
}
