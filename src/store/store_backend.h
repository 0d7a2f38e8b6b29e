/*
 * store_backend: what a backend of the store implements (not a public
 * interface: everything outside src/store/ uses store.h, store_rate.h,
 * relay_auth.h and store_acc_session.h). store.c checks and normalizes
 * every input, then calls the backend through this table, so both
 * backends see only valid, lower-cased names and addresses and fail with
 * the same messages. A backend's struct begins with struct store.
 *
 * The rate functions get the window starts (UTC hour and day) computed by
 * store.c; the session functions get SHA-256(id) in hex, never the id.
 * Return values are those of the public function each one serves.
 */
#ifndef HM_STORE_BACKEND_H
#define HM_STORE_BACKEND_H
#include <stddef.h>
#include <time.h>
#include "store/store.h"
#include "store/store_acc_session.h"
#include "store/relay_auth.h"
#include "store/store_dkim.h"
#include "store/store_alias.h"
#include "store/store_quota.h"
#include "store/store_vacation.h"
#include "store/store_spam.h"

#include "store/store_node.h"
#include "store/store_move.h"

/* The schema version this hostmail uses (both backends; see docs/cluster.md). */
#define STORE_SCHEMA_VERSION 8

#define STORE_HASH_HEX 64          /* SHA-256 in hex, without the NUL */

typedef int (*store_account_cb)(const struct account *, void *);
typedef int (*store_domain_cb)(const char *domain, const char *account, void *);
typedef int (*store_mailbox_cb)(const struct mailbox *, void *);
typedef int (*store_grant_cb)(const struct relay_grant *, void *);
typedef int (*store_dkim_cb)(const struct dkim_key *, void *);
typedef int (*store_alias_cb)(const struct alias *, void *);
typedef int (*store_node_cb)(const struct node *, void *);

struct store_ops {
	const char *name;
	void (*close)(struct store *st);

	int (*account_add)(struct store *st, const char *name, const char *created, int server_number,
	                   char *err, size_t errlen);
	int (*account_get)(struct store *st, const char *name, struct account *out);
	int (*account_set_suspended)(struct store *st, const char *name, int suspended, char *err, size_t errlen);
	int (*account_set_limits)(struct store *st, const char *name, int per_hour, int per_day,
	                          int max_recipients, char *err, size_t errlen);
	int (*account_remove)(struct store *st, const char *name, char *err, size_t errlen);
	int (*account_list)(struct store *st, store_account_cb cb, void *arg);
	int (*account_set_password)(struct store *st, const char *name, const char *hash, char *err, size_t errlen);
	int (*account_get_password)(struct store *st, const char *name, char *out, size_t outlen);

	int (*domain_add)(struct store *st, const char *account, const char *domain, char *err, size_t errlen);
	int (*domain_remove)(struct store *st, const char *domain, char *err, size_t errlen);
	int (*domain_list)(struct store *st, const char *account, store_domain_cb cb, void *arg);
	int (*domain_owner)(struct store *st, const char *domain, char *owner, size_t ownerlen);

	/* addr is local@domain, lower-cased; domain is its domain part */
	int (*mailbox_add)(struct store *st, const char *addr, const char *domain, const char *hash,
	                   char *err, size_t errlen);
	int (*mailbox_set_password)(struct store *st, const char *addr, const char *hash, char *err, size_t errlen);
	int (*mailbox_remove)(struct store *st, const char *addr, char *err, size_t errlen);
	int (*mailbox_get)(struct store *st, const char *addr, struct mailbox *out);
	int (*mailbox_list)(struct store *st, const char *domain, store_mailbox_cb cb, void *arg);
	/* domain normalized; addr lower-cased ("" when too long to exist) */
	int (*rcpt_lookup)(struct store *st, const char *domain, const char *addr, int *hosted, int *exists);

	int (*relay_grant)(struct store *st, const char *ip, const char *mailbox, time_t expires);
	int (*relay_lookup)(struct store *st, const char *ip, time_t now, struct relay_grant *out);
	int (*relay_revoke)(struct store *st, const char *ip);
	int (*relay_revoke_account)(struct store *st, const char *account);
	int (*relay_purge)(struct store *st, time_t now);
	int (*relay_list)(struct store *st, time_t now, store_grant_cb cb, void *arg);

	/* Counts in the windows starting at hour and day (0 for older windows). */
	int (*rate_get)(struct store *st, const char *account, time_t hour, time_t day, int *nhour, int *nday);
	int (*rate_add)(struct store *st, const char *account, time_t hour, time_t day, int n);
	/* 0 reserved (*nhour, *nday: the counts with n), 1 or 2 refused (the
	 * counts as they were), STORE_ENOTFOUND (no such account), STORE_EFAIL */
	int (*rate_reserve)(struct store *st, const char *account, time_t hour, time_t day, int n,
	                    int per_hour, int per_day, int *nhour, int *nday);
	int (*rate_release)(struct store *st, const char *account, time_t hour, time_t day, int n);

	/* 0, STORE_ENOTFOUND (no such account) or STORE_EFAIL */
	int (*session_create)(struct store *st, const char *account, const char *id_hash, const char *csrf,
	                      time_t now, int max_per_account);
	/* out: every field but id (store.c fills it) */
	int (*session_find)(struct store *st, const char *id_hash, time_t now, int idle, int lifetime,
	                    struct store_acc_session *out);
	int (*session_set_flash)(struct store *st, const char *id_hash, int error, const char *msg);
	int (*session_take_flash)(struct store *st, const char *id_hash, char *msg, size_t msglen, int *error);
	int (*session_end)(struct store *st, const char *id_hash);
	int (*session_end_account)(struct store *st, const char *account, const char *except_hash);
	int (*session_purge)(struct store *st, time_t now, int idle, int lifetime);

	/* DKIM keys (store_dkim.h); domain normalized */
	int (*dkim_add)(struct store *st, const char *domain, const struct dkim_key *keys, size_t n,
	                char *err, size_t errlen);
	int (*dkim_list)(struct store *st, const char *domain, int with_private, store_dkim_cb cb, void *arg);
	int (*dkim_activate)(struct store *st, const char *domain, int gen, char *err, size_t errlen);

	/* aliases, catch-alls, account contacts (store_alias.h); addresses
	 * normalized, targets as alias_targets_normalize makes them */
	int (*alias_set)(struct store *st, const char *addr, const char *domain, const char *targets,
	                 char *err, size_t errlen);
	int (*alias_remove)(struct store *st, const char *addr, char *err, size_t errlen);
	int (*alias_get)(struct store *st, const char *addr, struct alias *out);
	int (*alias_list)(struct store *st, const char *domain, store_alias_cb cb, void *arg);
	int (*catchall_set)(struct store *st, const char *domain, const char *target, char *err, size_t errlen);
	int (*catchall_get)(struct store *st, const char *domain, char *out, size_t outlen);
	int (*contact_set)(struct store *st, const char *account, const char *addr, char *err, size_t errlen);
	int (*contact_get)(struct store *st, const char *account, char *out, size_t outlen, int *is_default);
	/* quotas and autoresponders (store_quota.h, store_vacation.h); addr normalized */
	int (*quota_get)(struct store *st, const char *addr, struct store_quota *out);
	int (*quota_set)(struct store *st, const char *addr, int64_t bytes, int64_t messages,
	                 char *err, size_t errlen);
	int (*account_quota_set)(struct store *st, const char *account, int64_t bytes, int64_t messages,
	                         char *err, size_t errlen);
	int (*account_quota_get)(struct store *st, const char *account, int64_t *bytes, int64_t *messages);
	int (*vacation_get)(struct store *st, const char *addr, struct vacation *out);
	int (*vacation_set)(struct store *st, const char *addr, const struct vacation *v,
	                    char *err, size_t errlen);
	int (*vacation_note)(struct store *st, const char *addr, const char *sender, time_t now, int period);
	/* the per-domain spam choice (store_spam.h); domain normalized, action valid, "" = default */
	int (*domain_spam_get)(struct store *st, const char *domain, char *out, size_t outlen);
	int (*domain_spam_set)(struct store *st, const char *domain, const char *action, char *err, size_t errlen);
	/* nodes of a fleet (store_node.h); mailbox_home: domain normalized,
	 * addr lower-cased ("" when too long to exist) */
	int (*node_add)(struct store *st, const struct node *n, char *err, size_t errlen);
	int (*node_get)(struct store *st, int number, struct node *out);
	int (*node_list)(struct store *st, store_node_cb cb, void *arg);
	int (*node_set_state)(struct store *st, int number, enum node_state state, char *err, size_t errlen);
	int (*node_set_imap)(struct store *st, int number, const char *imap, char *err, size_t errlen);
	int (*node_remove)(struct store *st, int number, char *err, size_t errlen);
	int (*node_pick)(struct store *st, int *number);
	int (*mailbox_home)(struct store *st, const char *domain, const char *addr, int *number, int *exists);

	/* account moves (store_move.h) */
	int (*move_begin)(struct store *st, const char *account, int to, int64_t now, struct account_move *out,
	                  char *err, size_t errlen);
	int (*move_get)(struct store *st, const char *account, struct account_move *out);
	int (*move_switch)(struct store *st, const char *account, char *err, size_t errlen);
	int (*move_end)(struct store *st, const char *account, char *err, size_t errlen);
	int (*move_list)(struct store *st, int (*cb)(const struct account_move *, void *), void *arg);
};

struct store {
	const struct store_ops *ops;
};

/* err (may be NULL) <- one formatted line. */
void store_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The backends' constructors; NULL with err set. The SQLite store creates
 * or upgrades its schema as it opens (*schema_from, if not NULL, gets the
 * version it had: 0 for a new file); open_file opens an existing file only. */
struct store *store_sqlite_open(const char *data_dir, int *schema_from, char *err, size_t errlen);
struct store *store_sqlite_open_file(const char *path, int *schema_from, char *err, size_t errlen);
/* check_schema: fail unless the database has this version's schema. */
struct store *store_pg_open(const char *dsn, int statement_timeout, int pool_size, int check_schema,
                            char *err, size_t errlen);
/* Create or upgrade a PostgreSQL store's schema: 0 with *from and *to, or
 * STORE_EFAIL with err. */
int store_pg_schema_upgrade(struct store *st, int *from, int *to, char *err, size_t errlen);

#endif
