/*
 * store_sqlite_int: what the SQLite store's files share (not a public
 * interface: everything outside src/store/ uses store.h). One connection
 * per struct store, serialized by a recursive mutex (list callbacks may
 * call the store again); the helpers expect st->mu held where they touch
 * st->db. Functions named sq_* are the backend's entries in
 * store_backend.h's table, taking the struct store that begins struct
 * sq_store.
 */
#ifndef HM_STORE_SQLITE_INT_H
#define HM_STORE_SQLITE_INT_H
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include "store/store_backend.h"

struct sq_store {
	struct store base;
	sqlite3 *db;
	char path[1024];
	pthread_mutex_t mu;   /* recursive: list callbacks may call the store */
};

#define SQ(st) ((struct sq_store *)(st))

/* err <- the connection's last error; returns STORE_EFAIL. */
int sq_dberr(struct sq_store *st, char *err, size_t errlen);
int sq_prepare(struct sq_store *st, sqlite3_stmt **s, const char *sql);
/* Column col as text into out ("" for NULL). */
void sq_text(sqlite3_stmt *s, int col, char *out, size_t outlen);
/* Step and finalize one write: 0, STORE_EEXIST on a constraint, STORE_EFAIL. */
int sq_exec_write(struct sq_store *st, sqlite3_stmt *s, int *changes);
/* A write binding b1 (and b2) that must hit one row, else STORE_ENOTFOUND
 * with "what name does not exist". Locks st->mu itself. */
int sq_write_one(struct sq_store *st, const char *sql, const char *b1, const char *b2,
                 const char *what, const char *name, char *err, size_t errlen);
/* A write (DELETE, UPDATE) binding text b (or, with use_n, integer n) as
 * ?1: how many rows it changed, or STORE_EFAIL. Locks st->mu itself. */
int sq_write_count(struct sq_store *st, const char *sql, const char *b, sqlite3_int64 n, int use_n);
/* Transactions (st->mu held): BEGIN IMMEDIATE takes the write lock at
 * once, so a read-then-write cannot interleave with another connection. */
int sq_begin(struct sq_store *st);
int sq_end(struct sq_store *st, int commit);

/* store_sqlite_schema.c: create or upgrade the schema (st->mu not needed:
 * called before the store is shared). 0 with *from, or -1 with err. */
int sq_schema_upgrade(struct sq_store *st, int *from, char *err, size_t errlen);

/* store_sqlite.c */
int sq_account_add(struct store *st, const char *name, const char *created, int server_number,
                   char *err, size_t errlen);
int sq_account_get(struct store *st, const char *name, struct account *out);
int sq_account_set_suspended(struct store *st, const char *name, int suspended, char *err, size_t errlen);
int sq_account_set_limits(struct store *st, const char *name, int per_hour, int per_day,
                          int max_recipients, char *err, size_t errlen);
int sq_account_remove(struct store *st, const char *name, char *err, size_t errlen);
int sq_account_list(struct store *st, store_account_cb cb, void *arg);
int sq_domain_add(struct store *st, const char *account, const char *domain, char *err, size_t errlen);
int sq_domain_remove(struct store *st, const char *domain, char *err, size_t errlen);
int sq_domain_list(struct store *st, const char *account, store_domain_cb cb, void *arg);
int sq_domain_owner(struct store *st, const char *domain, char *owner, size_t ownerlen);
/* store_sqlite_account_pw.c */
int sq_account_set_password(struct store *st, const char *name, const char *hash, char *err, size_t errlen);
int sq_account_get_password(struct store *st, const char *name, char *out, size_t outlen);
/* store_sqlite_mailbox.c */
int sq_mailbox_add(struct store *st, const char *addr, const char *domain, const char *hash,
                   char *err, size_t errlen);
int sq_mailbox_set_password(struct store *st, const char *addr, const char *hash, char *err, size_t errlen);
int sq_mailbox_remove(struct store *st, const char *addr, char *err, size_t errlen);
int sq_mailbox_get(struct store *st, const char *addr, struct mailbox *out);
int sq_mailbox_list(struct store *st, const char *domain, store_mailbox_cb cb, void *arg);
int sq_rcpt_lookup(struct store *st, const char *domain, const char *addr, int *hosted, int *exists);
/* store_sqlite_relay.c */
int sq_relay_grant(struct store *st, const char *ip, const char *mailbox, time_t expires);
int sq_relay_lookup(struct store *st, const char *ip, time_t now, struct relay_grant *out);
int sq_relay_revoke(struct store *st, const char *ip);
int sq_relay_revoke_account(struct store *st, const char *account);
int sq_relay_purge(struct store *st, time_t now);
int sq_relay_list(struct store *st, time_t now, store_grant_cb cb, void *arg);
/* store_sqlite_rate.c */
int sq_rate_get(struct store *st, const char *account, time_t hour, time_t day, int *nhour, int *nday);
int sq_rate_add(struct store *st, const char *account, time_t hour, time_t day, int n);
int sq_rate_reserve(struct store *st, const char *account, time_t hour, time_t day, int n,
                    int per_hour, int per_day, int *nhour, int *nday);
int sq_rate_release(struct store *st, const char *account, time_t hour, time_t day, int n);
/* store_sqlite_session.c */
int sq_session_create(struct store *st, const char *account, const char *id_hash, const char *csrf,
                      time_t now, int max_per_account);
int sq_session_find(struct store *st, const char *id_hash, time_t now, int idle, int lifetime,
                    struct store_acc_session *out);
int sq_session_set_flash(struct store *st, const char *id_hash, int error, const char *msg);
int sq_session_take_flash(struct store *st, const char *id_hash, char *msg, size_t msglen, int *error);
int sq_session_end(struct store *st, const char *id_hash);
int sq_session_end_account(struct store *st, const char *account, const char *except_hash);
int sq_session_purge(struct store *st, time_t now, int idle, int lifetime);
/* store_sqlite_dkim.c */
int sq_dkim_add(struct store *st, const char *domain, const struct dkim_key *keys, size_t n,
                char *err, size_t errlen);
int sq_dkim_list(struct store *st, const char *domain, int with_private, store_dkim_cb cb, void *arg);
int sq_dkim_activate(struct store *st, const char *domain, int gen, char *err, size_t errlen);

/* store_sqlite_alias.c */
int sq_alias_set(struct store *st, const char *addr, const char *domain, const char *targets,
                 char *err, size_t errlen);
int sq_alias_remove(struct store *st, const char *addr, char *err, size_t errlen);
int sq_alias_get(struct store *st, const char *addr, struct alias *out);
int sq_alias_list(struct store *st, const char *domain, store_alias_cb cb, void *arg);
int sq_catchall_set(struct store *st, const char *domain, const char *target, char *err, size_t errlen);
int sq_catchall_get(struct store *st, const char *domain, char *out, size_t outlen);
int sq_contact_set(struct store *st, const char *account, const char *addr, char *err, size_t errlen);
int sq_contact_get(struct store *st, const char *account, char *out, size_t outlen, int *is_default);
/* store_sqlite_quota.c: quotas and autoresponders */
int sq_quota_get(struct store *st, const char *addr, struct store_quota *out);
int sq_account_quota_get(struct store *st, const char *account, int64_t *bytes, int64_t *messages);
int sq_quota_set(struct store *st, const char *addr, int64_t bytes, int64_t messages, char *err, size_t errlen);
int sq_account_quota_set(struct store *st, const char *account, int64_t bytes, int64_t messages,
                        char *err, size_t errlen);
int sq_vacation_get(struct store *st, const char *addr, struct vacation *out);
int sq_vacation_set(struct store *st, const char *addr, const struct vacation *v, char *err, size_t errlen);
int sq_vacation_note(struct store *st, const char *addr, const char *sender, time_t now, int period);
/* store_sqlite_spam.c */
int sq_domain_spam_get(struct store *st, const char *domain, char *out, size_t outlen);
int sq_domain_spam_set(struct store *st, const char *domain, const char *action, char *err, size_t errlen);
/* store_sqlite_node.c */
int sq_node_add(struct store *st, const struct node *n, char *err, size_t errlen);
int sq_node_get(struct store *st, int number, struct node *out);
int sq_node_list(struct store *st, store_node_cb cb, void *arg);
int sq_node_set_state(struct store *st, int number, enum node_state state, char *err, size_t errlen);
int sq_node_set_imap(struct store *st, int number, const char *imap, char *err, size_t errlen);
int sq_node_remove(struct store *st, int number, char *err, size_t errlen);
int sq_node_pick(struct store *st, int *number);
int sq_mailbox_home(struct store *st, const char *domain, const char *addr, int *number, int *exists);
/* store_sqlite_move.c */
int sq_move_begin(struct store *st, const char *account, int to, int64_t now, struct account_move *out,
                  char *err, size_t errlen);
int sq_move_get(struct store *st, const char *account, struct account_move *out);
int sq_move_switch(struct store *st, const char *account, char *err, size_t errlen);
int sq_move_end(struct store *st, const char *account, char *err, size_t errlen);
int sq_move_list(struct store *st, int (*cb)(const struct account_move *, void *), void *arg);

#endif
