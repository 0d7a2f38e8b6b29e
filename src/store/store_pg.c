/*
 * store_pg: the PostgreSQL store's connection pool and statement runner
 * (see store_pg_int.h), opening and closing, and the backend's table.
 *
 * Waiting is always bounded. A connection is made with libpq's
 * connect_timeout (the statement timeout, at least libpq's 2 s; the dsn
 * may set its own); a statement is sent and its result awaited with
 * poll(2) until the statement timeout plus a second (PostgreSQL's own
 * statement_timeout, set on every connection, normally ends it first);
 * a thread waits for a free connection at most the statement timeout.
 * After a connect that failed slowly (an address that does not answer),
 * calls fail at once for a second rather than each waiting for its own
 * connect to fail; a quick refusal (PostgreSQL stopped) holds nothing up,
 * so the first call after it is back succeeds.
 *
 * Connections broken under us (PostgreSQL restarted, the network cut)
 * are noticed when taken from the pool (the socket is readable while
 * idle: the server's goodbye or EOF) or when a statement fails, then
 * dropped; the next call connects again.
 */
#include "store/store_pg_int.h"
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLIENT_MARGIN_MS 1000     /* beyond the server's statement_timeout */
#define SLOW_CONNECT_MS 250       /* a failed connect that took this long... */
#define DOWN_HOLD_MS 1000         /* ...makes calls fail fast this long */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *pg_num(char buf[24], long long v)
{
	snprintf(buf, 24, "%lld", v);
	return buf;
}

void pg_text(const PGresult *r, int row, int col, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

long long pg_ll(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* libpq's message, first line only, into err. */
static void conn_err(PGconn *c, const char *what, char *err, size_t errlen)
{
	const char *m = c ? PQerrorMessage(c) : "out of memory";
	size_t n = strcspn(m, "\n");

	store_seterr(err, errlen, "database error: %s%.*s", what, (int)n, m);
}

static void drop(struct pg_conn *pc)
{
	PQfinish(pc->c);
	pc->c = NULL;
	pc->nprepared = 0;
}

/* The results of what was sent on pc, the last kept, within deadline:
 * 0 with *out (maybe an error result), or -1 with err (lost or too slow:
 * pc is dropped). */
static int collect(struct pg_conn *pc, int64_t deadline, PGresult **out, char *err, size_t errlen)
{
	PGresult *r, *last = NULL;
	struct pollfd p;
	int64_t left;

	*out = NULL;
	for (;;) {
		while (PQisBusy(pc->c)) {
			if ((left = deadline - now_ms()) <= 0) {
				store_seterr(err, errlen, "database error: no answer from PostgreSQL in time");
				goto lost;
			}
			p.fd = PQsocket(pc->c);
			p.events = POLLIN;
			if (p.fd < 0) {
				conn_err(pc->c, "", err, errlen);
				goto lost;
			}
			if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
				store_seterr(err, errlen, "database error: poll: %s", strerror(errno));
				goto lost;
			}
			if (!PQconsumeInput(pc->c)) {
				conn_err(pc->c, "", err, errlen);
				goto lost;
			}
		}
		if (!(r = PQgetResult(pc->c)))
			break;
		PQclear(last);
		last = r;
	}
	if (PQstatus(pc->c) == CONNECTION_BAD) {
		conn_err(pc->c, "", err, errlen);
		goto lost;
	}
	*out = last;
	return 0;
lost:
	PQclear(last);
	drop(pc);
	return -1;
}

/* err <- a failed result's message; STORE_EEXIST for a unique violation. */
static int result_err(const PGresult *r, char *err, size_t errlen)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	store_seterr(err, errlen, "database error: %s", msg ? msg : PQresStatus(PQresultStatus(r)));
	return state && !strcmp(state, "23505") ? STORE_EEXIST : STORE_EFAIL;
}

static int ok_status(const PGresult *r)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

int pg_sql(struct pg_store *st, struct pg_conn *pc, const char *sql, char *err, size_t errlen)
{
	PGresult *r;
	int rc;

	if (!PQsendQuery(pc->c, sql)) {
		conn_err(pc->c, "", err, errlen);
		drop(pc);
		return STORE_EFAIL;
	}
	if (collect(pc, now_ms() + st->timeout_ms + CLIENT_MARGIN_MS, &r, err, errlen) < 0)
		return STORE_EFAIL;
	rc = ok_status(r) ? 0 : (result_err(r, err, errlen), STORE_EFAIL);
	PQclear(r);
	return rc;
}

int pg_end(struct pg_store *st, struct pg_conn *pc, int commit, char *err, size_t errlen)
{
	if (!pc->c)
		return commit ? STORE_EFAIL : 0;
	if (commit)
		return pg_sql(st, pc, "COMMIT", err, errlen);
	pg_sql(st, pc, "ROLLBACK", NULL, 0);
	return 0;
}

static int prepare(struct pg_store *st, struct pg_conn *pc, const struct pg_stmt *s, char *err, size_t errlen)
{
	PGresult *r;
	int i, rc;

	for (i = 0; i < pc->nprepared; i++)
		if (pc->prepared[i] == s)
			return 0;
	if (pc->nprepared == PG_MAX_STMTS) {
		store_seterr(err, errlen, "database error: too many statements (PG_MAX_STMTS)");
		return STORE_EFAIL;
	}
	if (!PQsendPrepare(pc->c, s->name, s->sql, s->nparams, NULL)) {
		conn_err(pc->c, "", err, errlen);
		drop(pc);
		return STORE_EFAIL;
	}
	if (collect(pc, now_ms() + st->timeout_ms + CLIENT_MARGIN_MS, &r, err, errlen) < 0)
		return STORE_EFAIL;
	rc = ok_status(r) ? 0 : (result_err(r, err, errlen), STORE_EFAIL);
	PQclear(r);
	if (rc == 0)
		pc->prepared[pc->nprepared++] = s;
	return rc;
}

int pg_exec(struct pg_store *st, struct pg_conn *pc, const struct pg_stmt *s, const char *const *params,
            PGresult **res, char *err, size_t errlen)
{
	PGresult *r;
	int rc;

	*res = NULL;
	if (!pc->c) {
		store_seterr(err, errlen, "database error: connection lost");
		return STORE_EFAIL;
	}
	if ((rc = prepare(st, pc, s, err, errlen)) != 0)
		return rc;
	if (!PQsendQueryPrepared(pc->c, s->name, s->nparams, params, NULL, NULL, 0)) {
		conn_err(pc->c, "", err, errlen);
		drop(pc);
		return STORE_EFAIL;
	}
	if (collect(pc, now_ms() + st->timeout_ms + CLIENT_MARGIN_MS, &r, err, errlen) < 0)
		return STORE_EFAIL;
	if (!ok_status(r)) {
		rc = result_err(r, err, errlen);
		PQclear(r);
		return rc;
	}
	*res = r;
	return 0;
}

/* PostgreSQL's notices (a CREATE ... IF NOT EXISTS that had nothing to
 * do) are not news: the store reports what failed through its results. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connect pc: 0, or STORE_EFAIL with err. */
static int connect_one(struct pg_store *st, struct pg_conn *pc, char *err, size_t errlen)
{
	static const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[4];
	char ct[16], set[64];
	int secs = (st->timeout_ms + 999) / 1000;

	snprintf(ct, sizeof ct, "%d", secs < 2 ? 2 : secs);
	vals[0] = ct;
	vals[1] = "hostmail";
	vals[2] = st->dsn;          /* a connection string: its keys override the two above */
	vals[3] = NULL;
	pc->c = PQconnectdbParams(keys, vals, 1);
	if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
		conn_err(pc->c, "cannot connect to PostgreSQL: ", err, errlen);
		drop(pc);
		return STORE_EFAIL;
	}
	PQsetNoticeProcessor(pc->c, no_notices, NULL);
	snprintf(set, sizeof set, "SET statement_timeout = %d", st->timeout_ms);
	return pg_sql(st, pc, set, err, errlen);
}

/* A pooled connection still usable? Readable while idle means the server
 * said goodbye (or closed): read it, and drop the connection if so. */
static void check_idle(struct pg_conn *pc)
{
	struct pollfd p = { PQsocket(pc->c), POLLIN, 0 };

	if (PQstatus(pc->c) != CONNECTION_OK || PQtransactionStatus(pc->c) != PQTRANS_IDLE ||
	    (poll(&p, 1, 0) > 0 && (!PQconsumeInput(pc->c) || PQstatus(pc->c) != CONNECTION_OK)))
		drop(pc);
}

/* Take a free slot, preferring a connected one; NULL after the deadline. */
static struct pg_conn *take_slot(struct pg_store *st, int64_t deadline)
{
	struct pg_conn *pc = NULL;
	struct timespec ts;
	int i;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		for (i = 0; i < st->n; i++) {
			if (st->conns[i].busy)
				continue;
			if (!pc || (!pc->c && st->conns[i].c))
				pc = &st->conns[i];
		}
		if (pc || now_ms() >= deadline)
			break;
		ts.tv_sec = (time_t)(deadline / 1000);
		ts.tv_nsec = (long)(deadline % 1000) * 1000000;
		pthread_cond_timedwait(&st->freed, &st->mu, &ts);
	}
	if (pc)
		pc->busy = 1;
	pthread_mutex_unlock(&st->mu);
	return pc;
}

struct pg_conn *pg_acquire(struct pg_store *st, char *err, size_t errlen)
{
	struct pg_conn *pc = take_slot(st, now_ms() + st->timeout_ms);
	char why[sizeof st->down_err];
	int64_t started;

	if (!pc) {
		store_seterr(err, errlen, "database error: all %d PostgreSQL connections busy", st->n);
		return NULL;
	}
	if (pc->c)
		check_idle(pc);
	if (pc->c)
		return pc;
	pthread_mutex_lock(&st->mu);
	if (now_ms() < st->down_until) {
		store_seterr(err, errlen, "%s", st->down_err);
		pthread_mutex_unlock(&st->mu);
		pg_release(st, pc);
		return NULL;
	}
	pthread_mutex_unlock(&st->mu);
	started = now_ms();
	if (connect_one(st, pc, why, sizeof why) == 0)
		return pc;
	store_seterr(err, errlen, "%s", why);
	if (now_ms() - started >= SLOW_CONNECT_MS) {
		pthread_mutex_lock(&st->mu);
		st->down_until = now_ms() + DOWN_HOLD_MS;
		snprintf(st->down_err, sizeof st->down_err, "%s", why);
		pthread_mutex_unlock(&st->mu);
	}
	pg_release(st, pc);
	return NULL;
}

void pg_release(struct pg_store *st, struct pg_conn *pc)
{
	pthread_mutex_lock(&st->mu);
	pc->busy = 0;
	pthread_cond_signal(&st->freed);
	pthread_mutex_unlock(&st->mu);
}

int pg_run(struct pg_store *st, const struct pg_stmt *s, const char *const *params, PGresult **res,
           char *err, size_t errlen)
{
	struct pg_conn *pc;
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if (!(pc = pg_acquire(st, err, errlen)))
			return STORE_EFAIL;
		rc = pg_exec(st, pc, s, params, res, err, errlen);
		/* broken under a read: once more, on a new connection */
		if (rc == STORE_EFAIL && !pc->c && s->read_only && attempt == 0) {
			pg_release(st, pc);
			continue;
		}
		pg_release(st, pc);
		return rc;
	}
}

int pg_write(struct pg_store *st, const struct pg_stmt *s, const char *const *params, char *err, size_t errlen)
{
	PGresult *r;
	int rc = pg_run(st, s, params, &r, err, errlen);

	if (rc != 0)
		return rc;
	rc = atoi(PQcmdTuples(r));
	PQclear(r);
	return rc;
}

int pg_write_one(struct pg_store *st, const struct pg_stmt *s, const char *const *params,
                 const char *what, const char *name, char *err, size_t errlen)
{
	int n = pg_write(st, s, params, err, errlen);

	if (n == 0) {
		store_seterr(err, errlen, "%s %s does not exist", what, name);
		return STORE_ENOTFOUND;
	}
	return n < 0 ? n : 0;
}

static void pg_close(struct store *base)
{
	struct pg_store *st = PG(base);
	int i;

	for (i = 0; i < st->n; i++)
		if (st->conns[i].c)
			drop(&st->conns[i]);
	pthread_cond_destroy(&st->freed);
	pthread_mutex_destroy(&st->mu);
	free(st->conns);
	free(st->dsn);
	free(st);
}

static const struct store_ops pg_ops;

/* This database's schema must be this hostmail's. */
static int check_schema(struct pg_store *st, char *err, size_t errlen)
{
	int v = pg_schema_version(st, err, errlen);

	if (v < 0)
		return -1;
	if (v == 0)
		store_seterr(err, errlen, "the PostgreSQL database has no hostmail schema: run hostmailctl db init");
	else if (v < STORE_SCHEMA_VERSION)
		store_seterr(err, errlen, "the PostgreSQL database has schema version %d, this hostmail needs %d:"
		             " run hostmailctl db init", v, STORE_SCHEMA_VERSION);
	else if (v > STORE_SCHEMA_VERSION)
		store_seterr(err, errlen, "the PostgreSQL database was made by a newer hostmail (schema version %d)", v);
	return v == STORE_SCHEMA_VERSION ? 0 : -1;
}

struct store *store_pg_open(const char *dsn, int statement_timeout, int pool_size, int schema_check,
                            char *err, size_t errlen)
{
	struct pg_store *st = calloc(1, sizeof *st);
	pthread_condattr_t ca;

	if (!st || !(st->dsn = strdup(dsn)) || !(st->conns = calloc((size_t)pool_size, sizeof *st->conns))) {
		store_seterr(err, errlen, "out of memory");
		if (st)
			free(st->dsn);
		free(st);
		return NULL;
	}
	st->base.ops = &pg_ops;
	st->n = pool_size;
	st->timeout_ms = statement_timeout * 1000;
	pthread_mutex_init(&st->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->freed, &ca);
	pthread_condattr_destroy(&ca);
	if (schema_check && check_schema(st, err, errlen) < 0) {
		pg_close(&st->base);
		return NULL;
	}
	return &st->base;
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.account_add = pg_account_add,
	.account_get = pg_account_get,
	.account_set_suspended = pg_account_set_suspended,
	.account_set_limits = pg_account_set_limits,
	.account_remove = pg_account_remove,
	.account_list = pg_account_list,
	.account_set_password = pg_account_set_password,
	.account_get_password = pg_account_get_password,
	.domain_add = pg_domain_add,
	.domain_remove = pg_domain_remove,
	.domain_list = pg_domain_list,
	.domain_owner = pg_domain_owner,
	.mailbox_add = pg_mailbox_add,
	.mailbox_set_password = pg_mailbox_set_password,
	.mailbox_remove = pg_mailbox_remove,
	.mailbox_get = pg_mailbox_get,
	.mailbox_list = pg_mailbox_list,
	.rcpt_lookup = pg_rcpt_lookup,
	.relay_grant = pg_relay_grant,
	.relay_lookup = pg_relay_lookup,
	.relay_revoke = pg_relay_revoke,
	.relay_revoke_account = pg_relay_revoke_account,
	.relay_purge = pg_relay_purge,
	.relay_list = pg_relay_list,
	.rate_get = pg_rate_get,
	.rate_add = pg_rate_add,
	.rate_reserve = pg_rate_reserve,
	.rate_release = pg_rate_release,
	.session_create = pg_session_create,
	.session_find = pg_session_find,
	.session_set_flash = pg_session_set_flash,
	.session_take_flash = pg_session_take_flash,
	.session_end = pg_session_end,
	.session_end_account = pg_session_end_account,
	.session_purge = pg_session_purge,
	.dkim_add = pg_dkim_add,
	.dkim_list = pg_dkim_list,
	.dkim_activate = pg_dkim_activate,
	.alias_set = pg_alias_set,
	.alias_remove = pg_alias_remove,
	.alias_get = pg_alias_get,
	.alias_list = pg_alias_list,
	.catchall_set = pg_catchall_set,
	.catchall_get = pg_catchall_get,
	.contact_set = pg_contact_set,
	.contact_get = pg_contact_get,
	.quota_get = pg_quota_get,
	.quota_set = pg_quota_set,
	.account_quota_set = pg_account_quota_set,
	.account_quota_get = pg_account_quota_get,
	.vacation_get = pg_vacation_get,
	.vacation_set = pg_vacation_set,
	.vacation_note = pg_vacation_note,
	.domain_spam_get = pg_domain_spam_get,
	.domain_spam_set = pg_domain_spam_set,
	.node_add = pg_node_add,
	.node_get = pg_node_get,
	.node_list = pg_node_list,
	.node_set_state = pg_node_set_state,
	.node_set_imap = pg_node_set_imap,
	.node_remove = pg_node_remove,
	.node_pick = pg_node_pick,
	.mailbox_home = pg_mailbox_home,
	.move_begin = pg_move_begin,
	.move_get = pg_move_get,
	.move_switch = pg_move_switch,
	.move_end = pg_move_end,
	.move_list = pg_move_list,
};
