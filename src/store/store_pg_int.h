/*
 * store_pg_int: what the PostgreSQL store's files share (not a public
 * interface). The store is a pool of libpq connections; a thread takes
 * one for a call (or a transaction) and gives it back, so N threads run
 * N calls at once and a connection is only ever used by one of them.
 *
 * Every statement is a struct pg_stmt, prepared on a connection the first
 * time that connection runs it, and run with text parameters only (never
 * SQL built from input). A call waits at most the statement timeout
 * (server side: SET statement_timeout; client side a little more, then
 * the connection is dropped); a lost connection is dropped and the next
 * call connects again, so PostgreSQL going away fails calls with
 * STORE_EFAIL and its return needs nothing but the next call.
 */
#ifndef HM_STORE_PG_INT_H
#define HM_STORE_PG_INT_H
#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include "store/store_backend.h"

struct pg_stmt {
	const char *name;     /* unique among all statements: the prepared name */
	const char *sql;      /* $1..$n, all text */
	int nparams;
	int read_only;        /* may run again on a new connection if the first broke */
};

#define PG_MAX_STMTS 128   /* about 61 statements exist (schema 3); a connection prepares those it runs */

struct pg_conn {
	PGconn *c;                                   /* NULL: not connected */
	const struct pg_stmt *prepared[PG_MAX_STMTS];
	int nprepared;
	int busy;                                    /* taken by a thread */
};

struct pg_store {
	struct store base;
	char *dsn;
	int timeout_ms;
	pthread_mutex_t mu;                          /* guards busy, down_until, down_err */
	pthread_cond_t freed;
	int64_t down_until;                          /* a connect failed: fail fast until then (ms) */
	char down_err[256];
	int n;
	struct pg_conn *conns;
};

#define PG(st) ((struct pg_store *)(st))

/* A connected connection for this thread, waiting at most the timeout for
 * one to be free: NULL with err ("database error: ...") if none. */
struct pg_conn *pg_acquire(struct pg_store *st, char *err, size_t errlen);
void pg_release(struct pg_store *st, struct pg_conn *pc);
/* Run s with params on pc: 0 with *res (PQclear it), STORE_EEXIST (a
 * unique violation; *res NULL) or STORE_EFAIL (err set). */
int pg_exec(struct pg_store *st, struct pg_conn *pc, const struct pg_stmt *s, const char *const *params,
            PGresult **res, char *err, size_t errlen);
/* pg_acquire + pg_exec + pg_release; a read-only statement whose
 * connection broke is tried once more on a new one. */
int pg_run(struct pg_store *st, const struct pg_stmt *s, const char *const *params, PGresult **res,
           char *err, size_t errlen);
/* Rows changed by one write: >= 0, STORE_EEXIST or STORE_EFAIL. */
int pg_write(struct pg_store *st, const struct pg_stmt *s, const char *const *params, char *err, size_t errlen);
/* A write that must change one row; else STORE_ENOTFOUND with "what name
 * does not exist" (the SQLite store's words). */
int pg_write_one(struct pg_store *st, const struct pg_stmt *s, const char *const *params,
                 const char *what, const char *name, char *err, size_t errlen);
/* Plain SQL without parameters (BEGIN, COMMIT, the schema): 0 or STORE_EFAIL. */
int pg_sql(struct pg_store *st, struct pg_conn *pc, const char *sql, char *err, size_t errlen);
/* End the transaction: COMMIT if commit (0, or STORE_EFAIL), else ROLLBACK. */
int pg_end(struct pg_store *st, struct pg_conn *pc, int commit, char *err, size_t errlen);

/* Values: text into out ("" for NULL); integers (0 for NULL). */
void pg_text(const PGresult *r, int row, int col, char *out, size_t outlen);
long long pg_ll(const PGresult *r, int row, int col);
/* Integer parameter: v as text in buf (24 bytes), returned. */
const char *pg_num(char buf[24], long long v);

/* The backend's entries (store_backend.h's table), by file. */
/* store_pg_account.c */
int pg_account_add(struct store *st, const char *name, const char *created, int server_number,
                   char *err, size_t errlen);
int pg_account_get(struct store *st, const char *name, struct account *out);
int pg_account_set_suspended(struct store *st, const char *name, int suspended, char *err, size_t errlen);
int pg_account_set_limits(struct store *st, const char *name, int per_hour, int per_day,
                          int max_recipients, char *err, size_t errlen);
int pg_account_remove(struct store *st, const char *name, char *err, size_t errlen);
int pg_account_list(struct store *st, store_account_cb cb, void *arg);
int pg_account_set_password(struct store *st, const char *name, const char *hash, char *err, size_t errlen);
int pg_account_get_password(struct store *st, const char *name, char *out, size_t outlen);
int pg_domain_add(struct store *st, const char *account, const char *domain, char *err, size_t errlen);
int pg_domain_remove(struct store *st, const char *domain, char *err, size_t errlen);
int pg_domain_list(struct store *st, const char *account, store_domain_cb cb, void *arg);
int pg_domain_owner(struct store *st, const char *domain, char *owner, size_t ownerlen);
/* store_pg_mailbox.c */
int pg_mailbox_add(struct store *st, const char *addr, const char *domain, const char *hash,
                   char *err, size_t errlen);
int pg_mailbox_set_password(struct store *st, const char *addr, const char *hash, char *err, size_t errlen);
int pg_mailbox_remove(struct store *st, const char *addr, char *err, size_t errlen);
int pg_mailbox_get(struct store *st, const char *addr, struct mailbox *out);
int pg_mailbox_list(struct store *st, const char *domain, store_mailbox_cb cb, void *arg);
int pg_rcpt_lookup(struct store *st, const char *domain, const char *addr, int *hosted, int *exists);
/* store_pg_relay.c */
int pg_relay_grant(struct store *st, const char *ip, const char *mailbox, time_t expires);
int pg_relay_lookup(struct store *st, const char *ip, time_t now, struct relay_grant *out);
int pg_relay_revoke(struct store *st, const char *ip);
int pg_relay_revoke_account(struct store *st, const char *account);
int pg_relay_purge(struct store *st, time_t now);
int pg_relay_list(struct store *st, time_t now, store_grant_cb cb, void *arg);
/* store_pg_rate.c */
int pg_rate_get(struct store *st, const char *account, time_t hour, time_t day, int *nhour, int *nday);
int pg_rate_add(struct store *st, const char *account, time_t hour, time_t day, int n);
int pg_rate_reserve(struct store *st, const char *account, time_t hour, time_t day, int n,
                    int per_hour, int per_day, int *nhour, int *nday);
int pg_rate_release(struct store *st, const char *account, time_t hour, time_t day, int n);
/* store_pg_session.c */
int pg_session_create(struct store *st, const char *account, const char *id_hash, const char *csrf,
                      time_t now, int max_per_account);
int pg_session_find(struct store *st, const char *id_hash, time_t now, int idle, int lifetime,
                    struct store_acc_session *out);
int pg_session_set_flash(struct store *st, const char *id_hash, int error, const char *msg);
int pg_session_take_flash(struct store *st, const char *id_hash, char *msg, size_t msglen, int *error);
int pg_session_end(struct store *st, const char *id_hash);
int pg_session_end_account(struct store *st, const char *account, const char *except_hash);
int pg_session_purge(struct store *st, time_t now, int idle, int lifetime);
/* store_pg_dkim.c */
int pg_dkim_add(struct store *st, const char *domain, const struct dkim_key *keys, size_t n,
                char *err, size_t errlen);
int pg_dkim_list(struct store *st, const char *domain, int with_private, store_dkim_cb cb, void *arg);
int pg_dkim_activate(struct store *st, const char *domain, int gen, char *err, size_t errlen);
/* store_pg_schema.c: the version in schema_version (0: none), or STORE_EFAIL. */
int pg_schema_version(struct pg_store *st, char *err, size_t errlen);

/* store_pg_alias.c */
int pg_alias_set(struct store *st, const char *addr, const char *domain, const char *targets,
                 char *err, size_t errlen);
int pg_alias_remove(struct store *st, const char *addr, char *err, size_t errlen);
int pg_alias_get(struct store *st, const char *addr, struct alias *out);
int pg_alias_list(struct store *st, const char *domain, store_alias_cb cb, void *arg);
int pg_catchall_set(struct store *st, const char *domain, const char *target, char *err, size_t errlen);
int pg_catchall_get(struct store *st, const char *domain, char *out, size_t outlen);
int pg_contact_set(struct store *st, const char *account, const char *addr, char *err, size_t errlen);
int pg_contact_get(struct store *st, const char *account, char *out, size_t outlen, int *is_default);
/* store_pg_quota.c: quotas and autoresponders */
int pg_quota_get(struct store *st, const char *addr, struct store_quota *out);
int pg_account_quota_get(struct store *st, const char *account, int64_t *bytes, int64_t *messages);
int pg_quota_set(struct store *st, const char *addr, int64_t bytes, int64_t messages, char *err, size_t errlen);
int pg_account_quota_set(struct store *st, const char *account, int64_t bytes, int64_t messages,
                        char *err, size_t errlen);
int pg_vacation_get(struct store *st, const char *addr, struct vacation *out);
int pg_vacation_set(struct store *st, const char *addr, const struct vacation *v, char *err, size_t errlen);
int pg_vacation_note(struct store *st, const char *addr, const char *sender, time_t now, int period);
/* store_pg_spam.c */
int pg_domain_spam_get(struct store *st, const char *domain, char *out, size_t outlen);
int pg_domain_spam_set(struct store *st, const char *domain, const char *action, char *err, size_t errlen);
/* store_pg_node.c */
int pg_node_add(struct store *st, const struct node *n, char *err, size_t errlen);
int pg_node_get(struct store *st, int number, struct node *out);
int pg_node_list(struct store *st, store_node_cb cb, void *arg);
int pg_node_set_state(struct store *st, int number, enum node_state state, char *err, size_t errlen);
int pg_node_set_imap(struct store *st, int number, const char *imap, char *err, size_t errlen);
int pg_node_remove(struct store *st, int number, char *err, size_t errlen);
int pg_node_pick(struct store *st, int *number);
int pg_mailbox_home(struct store *st, const char *domain, const char *addr, int *number, int *exists);
/* store_pg_move.c */
int pg_move_begin(struct store *st, const char *account, int to, int64_t now, struct account_move *out,
                  char *err, size_t errlen);
int pg_move_get(struct store *st, const char *account, struct account_move *out);
int pg_move_switch(struct store *st, const char *account, char *err, size_t errlen);
int pg_move_end(struct store *st, const char *account, char *err, size_t errlen);
int pg_move_list(struct store *st, int (*cb)(const struct account_move *, void *), void *arg);

#endif
