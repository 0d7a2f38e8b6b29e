/*
 * store_alias: the routing data of hosted domains (docs/routing.md):
 * aliases (an address delivering to one or more targets, hosted
 * mailboxes or outside addresses; the alias's own address among its
 * targets keeps a copy in the mailbox of that name), the catch-all of a
 * domain (where mail to an unknown local part goes; none by default) and
 * the contact address of an account (where postmaster@ and abuse@ of its
 * domains go; by default its first mailbox). Tables aliases, catchalls
 * and account_contacts (schema version 4), in SQLite or the shared
 * PostgreSQL. Blocking: from hostmaild call these on a worker.
 */
#ifndef HM_STORE_ALIAS_H
#define HM_STORE_ALIAS_H
#include <stddef.h>

#define ALIAS_TARGETS_MAX 32          /* targets of one alias */
#define ALIAS_TARGETS_LEN 4096        /* their comma-separated text */

struct store;

struct alias {
	char address[320];                /* lower-case local@domain */
	char domain[256];
	char account[64];                 /* the domain's owner */
	char targets[ALIAS_TARGETS_LEN];  /* "a@x.example,b@y.example", normalized */
};

/* Normalize a target list (comma and/or space separated addresses) into
 * out: lower-cased, duplicates dropped, at most ALIAS_TARGETS_MAX. 0 with
 * the count in *n, or STORE_EINVAL with err. Pure. */
int alias_targets_normalize(const char *in, char *out, size_t outlen, int *n, char *err, size_t errlen);

/* Create or replace the alias address (its domain must be hosted).
 * 0, STORE_ENOTFOUND (domain not hosted), STORE_EINVAL, STORE_EFAIL. */
int store_alias_set(struct store *st, const char *address, const char *targets, char *err, size_t errlen);
int store_alias_remove(struct store *st, const char *address, char *err, size_t errlen);
/* 0 with out, STORE_ENOTFOUND, STORE_EFAIL. */
int store_alias_get(struct store *st, const char *address, struct alias *out);
/* domain NULL = all, in address order; cb returning non-zero stops. */
int store_alias_list(struct store *st, const char *domain, int (*cb)(const struct alias *, void *), void *arg);

/* The catch-all of a hosted domain: target NULL or "" turns it off.
 * get: 0 with out ("" when off), or STORE_EFAIL. */
int store_catchall_set(struct store *st, const char *domain, const char *target, char *err, size_t errlen);
int store_catchall_get(struct store *st, const char *domain, char *out, size_t outlen);

/* The account's contact (postmaster@, abuse@). set: address NULL or ""
 * goes back to the default. get: 0 with out = the address set, else the
 * account's first mailbox in address order, else ""; *is_default says
 * which (may be NULL). STORE_ENOTFOUND (no account), STORE_EFAIL. */
int store_account_set_contact(struct store *st, const char *account, const char *address,
                              char *err, size_t errlen);
int store_account_get_contact(struct store *st, const char *account, char *out, size_t outlen, int *is_default);

#endif
