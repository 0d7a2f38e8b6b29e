/*
 * store: the account database behind a narrow interface (hosting accounts,
 * their domains, mailboxes with password hashes; POP-before-SMTP grants in
 * store/relay_auth.h, recipient budgets in store/store_rate.h, ACC sessions in
 * store/store_acc_session.h). Two backends, chosen by [store] backend:
 * SQLite in data_dir/hostmail.db (WAL), the embedded default for one node,
 * and PostgreSQL (libpq, a pool of connections), shared by the nodes of a
 * fleet (docs/cluster.md). All calls block: from hostmaild call them on a
 * worker thread. A struct store is safe to share between threads.
 *
 * Return convention: 0 success; STORE_ENOTFOUND, STORE_EEXIST, STORE_EINVAL
 * (bad input: err says why), STORE_EFAIL (database error). err, when given,
 * receives one clear human-readable line.
 */
#ifndef HM_STORE_H
#define HM_STORE_H
#include <stddef.h>
#include <stdint.h>

#define STORE_ENOTFOUND (-2)
#define STORE_EEXIST    (-3)
#define STORE_EINVAL    (-4)
#define STORE_EFAIL     (-5)

#define STORE_NAME_MAX 64

struct store;
struct config;

struct account {
	int64_t id;
	char name[STORE_NAME_MAX];
	int suspended;                 /* 0 active, 1 suspended */
	char created[11];              /* YYYY-MM-DD */
	int server_number;
	/* per-account overrides of [limits]; -1 = the configured default */
	int limit_per_hour, limit_per_day, limit_max_recipients;
};

struct mailbox {
	int64_t id;
	char address[320];             /* lower-case local@domain */
	char domain[256];
	char account[STORE_NAME_MAX];  /* owning account's name */
	int account_suspended;
	char password_hash[256];
};

/* Open the store that cfg's [store] section names (SQLite: in
 * [server] data_dir, creating or upgrading its schema; PostgreSQL: cfg's
 * dsn, whose schema must be this version: hostmailctl db init makes it).
 * NULL with err set. */
struct store *store_open(const struct config *cfg, char *err, size_t errlen);
void store_close(struct store *st);
/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *st);
/* Create the schema, or upgrade it to this hostmail's version (each
 * migration in a transaction; nothing done when up to date): 0 with the
 * versions before and after, or STORE_EFAIL with err. */
int store_schema_init(const struct config *cfg, int *from, int *to, char *err, size_t errlen);

/* Accounts. name: [a-z0-9][a-z0-9-]{0,31}. created NULL = today (UTC). */
int store_account_add(struct store *st, const char *name, const char *created,
                      int server_number, char *err, size_t errlen);
int store_account_get(struct store *st, const char *name, struct account *out);
int store_account_set_suspended(struct store *st, const char *name, int suspended,
                                char *err, size_t errlen);
/* Set the overrides (-1 = back to the default; -2 = leave as is). */
int store_account_set_limits(struct store *st, const char *name, int per_hour, int per_day,
                             int max_recipients, char *err, size_t errlen);
/* Removes the account with its domains and mailboxes (Maildirs stay on disk). */
int store_account_remove(struct store *st, const char *name, char *err, size_t errlen);
/* Calls cb for every account in name order; cb returning non-zero stops. */
int store_account_list(struct store *st, int (*cb)(const struct account *, void *), void *arg);
/* The ACC login password (store_account_pw.c): hash made with password_hash().
 * get: 0 with the hash in out ("" when none was ever set), or STORE_ENOTFOUND. */
int store_account_set_password(struct store *st, const char *name, const char *password_hash,
                               char *err, size_t errlen);
int store_account_get_password(struct store *st, const char *name, char *out, size_t outlen);

/* Domains: lower-cased; one owner each. */
int store_domain_add(struct store *st, const char *account, const char *domain,
                     char *err, size_t errlen);
int store_domain_remove(struct store *st, const char *domain, char *err, size_t errlen);
/* account NULL = all. cb gets (domain, owning account name). */
int store_domain_list(struct store *st, const char *account,
                      int (*cb)(const char *domain, const char *account, void *), void *arg);
/* Owning account of a hosted domain: 0 and owner filled, or STORE_ENOTFOUND. */
int store_domain_owner(struct store *st, const char *domain, char *owner, size_t ownerlen);

/* Mailboxes. address local@domain, domain must be hosted; password_hash
 * already made with password_hash(). */
int store_mailbox_add(struct store *st, const char *address, const char *password_hash,
                      char *err, size_t errlen);
int store_mailbox_set_password(struct store *st, const char *address, const char *password_hash,
                               char *err, size_t errlen);
int store_mailbox_remove(struct store *st, const char *address, char *err, size_t errlen);
int store_mailbox_get(struct store *st, const char *address, struct mailbox *out);
/* domain NULL = all, in address order. */
int store_mailbox_list(struct store *st, const char *domain,
                       int (*cb)(const struct mailbox *, void *), void *arg);

/* Is addr (local@domain, any case) in a hosted domain? 1, 0, or -1 when
 * the store cannot say. */
int store_addr_hosted(struct store *st, const char *addr);

/* The RCPT TO decision's data: is domain hosted, and does local@domain exist?
 * (case-insensitive). Returns 0 with *hosted and *exists set, or STORE_EFAIL. */
int store_rcpt_lookup(struct store *st, const char *local, const char *domain,
                      int *hosted, int *exists);

#endif
