/*
 * relay_auth: POP-before-SMTP authorizations. A successful POP3 login from
 * an IP grants that IP the right to relay as the mailbox's hosting account
 * until an expiry time; the latest login extends it. Durable (they survive
 * a restart), in the store (src/store/: SQLite, or the PostgreSQL database
 * a fleet shares, so a login on one node counts on every node). Blocking:
 * from hostmaild call these on a worker. Return 0, STORE_ENOTFOUND or
 * STORE_EFAIL.
 */
#ifndef HM_RELAY_AUTH_H
#define HM_RELAY_AUTH_H
#include <time.h>

struct store;

struct relay_grant {
	char ip[64];
	char account[64];
	char mailbox[320];
	time_t expires;
};

/* Record (or extend) ip's authorization as mailbox's account until expires. */
int relay_auth_grant(struct store *st, const char *ip, const char *mailbox, time_t expires);
/* The newest unexpired grant for ip whose account is active: 0 and out filled,
 * or STORE_ENOTFOUND. */
int relay_auth_lookup(struct store *st, const char *ip, time_t now, struct relay_grant *out);
/* End every grant of ip: 0, or STORE_ENOTFOUND if there was none. */
int relay_auth_revoke(struct store *st, const char *ip);
/* End every grant of an account (suspension). */
int relay_auth_revoke_account(struct store *st, const char *account);
/* Delete expired grants; returns how many, or STORE_EFAIL. */
int relay_auth_purge(struct store *st, time_t now);
/* Unexpired grants, soonest expiry last; cb returning non-zero stops. */
int relay_auth_list(struct store *st, time_t now, int (*cb)(const struct relay_grant *, void *), void *arg);

#endif
