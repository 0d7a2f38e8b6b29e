/*
 * metrics_table: every metric hostmaild exports, its type, help text,
 * label names and histogram buckets. docs/metrics.md says the same for
 * people; keep them together.
 */
#include "metrics/metrics.h"
#include <string.h>

/* SMTP replies and store calls: milliseconds matter, a minute is broken. */
static const double fast[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
/* Delivery, from acceptance to the final answer: seconds to days. */
static const double slow[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400, 432000 };

#define N(a) (int)(sizeof(a) / sizeof(a)[0])

static const struct metric_desc table[M_COUNT] = {
	[M_SESSIONS] = { "sessions", METRIC_COUNTER,
		"Connections accepted, by listener.", { "listener", NULL }, NULL, 0 },
	[M_SESSIONS_OPEN] = { "sessions_open", METRIC_GAUGE,
		"Connections open now, by listener.", { "listener", NULL }, NULL, 0 },
	[M_SESSIONS_REFUSED] = { "sessions_refused", METRIC_COUNTER,
		"Connections refused before the protocol started, by listener and reason.",
		{ "listener", "reason" }, NULL, 0 },
	[M_MESSAGES_ACCEPTED] = { "messages_accepted", METRIC_COUNTER,
		"Messages acknowledged with 250 after DATA or BDAT LAST, by listener.",
		{ "listener", NULL }, NULL, 0 },
	[M_MESSAGES_REFUSED] = { "messages_refused", METRIC_COUNTER,
		"Refusals of a sender, recipient or message, by reply class (4xx, 5xx) and reason.",
		{ "class", "reason" }, NULL, 0 },
	[M_MESSAGES_QUEUED] = { "messages_queued", METRIC_COUNTER,
		"Messages received over SMTP and committed to the queue (fsynced).",
		{ NULL, NULL }, NULL, 0 },
	[M_DELIVERIES] = { "deliveries", METRIC_COUNTER,
		"Delivery attempts per recipient, by result (delivered, deferred, bounced) and route (local, remote).",
		{ "result", "route" }, NULL, 0 },
	[M_QUEUE_MESSAGES] = { "queue_messages", METRIC_GAUGE,
		"Messages in the queue, sampled at the scrape.", { NULL, NULL }, NULL, 0 },
	[M_QUEUE_OLDEST] = { "queue_oldest_message_age_seconds", METRIC_GAUGE,
		"Age of the oldest message in the queue (0 if empty), sampled at the scrape.",
		{ NULL, NULL }, NULL, 0 },
	[M_DELIVERY_SECONDS] = { "delivery_latency_seconds", METRIC_HISTOGRAM,
		"From acceptance to a recipient's final delivery, by route.", { "route", NULL }, slow, N(slow) },
	[M_SMTP_REPLY_SECONDS] = { "smtp_reply_latency_seconds", METRIC_HISTOGRAM,
		"From a command's arrival to its reply, for those that wait on a worker (RCPT, the end of DATA), by command.",
		{ "command", NULL }, fast, N(fast) },
	[M_LOGINS] = { "logins", METRIC_COUNTER,
		"Password logins, by service (smtp, pop3, acc) and result (ok, failed).",
		{ "service", "result" }, NULL, 0 },
	[M_AUTH_CACHE] = { "auth_cache_lookups", METRIC_COUNTER,
		"Password checks answered from the auth cache (hit) or by hashing (miss).",
		{ "result", NULL }, NULL, 0 },
	[M_BUDGET_TRIPS] = { "budget_trips", METRIC_COUNTER,
		"Recipients refused by an account's recipient budget or the per-message cap, by limit.",
		{ "limit", NULL }, NULL, 0 },
	[M_GRANTS] = { "pop_before_smtp_grants", METRIC_GAUGE,
		"POP-before-SMTP grants in force, sampled at the scrape.", { NULL, NULL }, NULL, 0 },
	[M_TLS_HANDSHAKES] = { "tls_handshakes", METRIC_COUNTER,
		"Completed TLS handshakes, by listener and protocol version.",
		{ "listener", "version" }, NULL, 0 },
	[M_WORKER_QUEUE] = { "worker_queue_depth", METRIC_GAUGE,
		"Jobs waiting or running on a worker pool (main, auth), sampled at the scrape.",
		{ "pool", NULL }, NULL, 0 },
	[M_STORE_SECONDS] = { "store_latency_seconds", METRIC_HISTOGRAM,
		"Duration of the account store calls on the hot paths (rcpt_lookup, rate_reserve, grants_list), by operation.",
		{ "op", NULL }, fast, N(fast) },
	[M_SCRAPE_ERRORS] = { "scrape_errors", METRIC_COUNTER,
		"Values the scrape could not sample, by what.", { "what", NULL }, NULL, 0 },
	[M_MILTER_RESULTS] = { "milter_results", METRIC_COUNTER,
		"Filter (milter) conversations, by result: continue, accept, reject, tempfail, discard, failed.",
		{ "result", NULL }, NULL, 0 },
};

const struct metric_desc *metric_desc(enum metric_id id)
{
	return &table[id];
}

const char *metrics_listener_name(int kind)
{
	static const char *names[] = { "smtp", "submission", "submissions", "pop3", "pop3s", "acc", "metrics", "admin", "lmtp",
	                               "pop3_cluster" };

	return kind >= 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "other";
}

const char *metrics_refusal_reason(int code, const char *enh)
{
	static const struct { int code; const char *enh, *reason; } map[] = {
		{ 554, "5.7.1", "relay" },      { 553, "5.7.1", "sender" }, { 550, "5.7.1", "sender" },
		{ 552, "5.3.4", "size" },       { 450, "4.7.1", "budget" }, { 452, "4.5.3", "budget" },
		{ 530, "5.7.0", "auth" },       { 550, "5.1.1", "recipient" },
		{ 451, "4.3.0", "resources" },  { 452, "4.3.1", "resources" },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].code == code && enh && strcmp(map[i].enh, enh) == 0)
			return map[i].reason;
	return "other";
}
