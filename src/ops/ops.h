/*
 * ops: the administrator's operations on accounts, domains, mailboxes,
 * relay grants and the queue, shared by hostmailctl (src/cmd/) and the
 * admin API (src/admin/), so both validate the same way and refuse with
 * the same words. No printing: each returns 0, or a STORE_E* code
 * (store/store.h: EINVAL bad input, ENOTFOUND, EEXIST, EFAIL) with one
 * line in e->msg and, for bad input, the field at fault in e->field
 * (the admin API's JSON member name; hostmailctl ignores it).
 */
#ifndef HM_OPS_H
#define HM_OPS_H
#include <stddef.h>
#include "store/store.h"

#define OPS_PASSWORD_MIN 8        /* the ACC's rule (acc_int.h ACC_PASSWORD_MIN) */
#define OPS_PASSWORD_MAX 1024

struct ops_err {
	char field[32];
	char msg[512];
};

/* Set e (field may be NULL) and return code. */
int ops_fail(struct ops_err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* accounts (ops_account.c); server_number -1: the home is picked (ops_node.h) */
int ops_account_add(struct store *st, const char *name, const char *created, int server_number,
                    struct ops_err *e);
int ops_account_get(struct store *st, const char *name, struct account *out, struct ops_err *e);
/* per_hour, per_day, max_rcpt: -2 unchanged, -1 the default, else the value */
int ops_account_limits(struct store *st, const char *name, int per_hour, int per_day, int max_rcpt,
                       struct ops_err *e);
int ops_account_suspend(struct store *st, const char *name, int suspended, struct ops_err *e);
int ops_account_remove(struct store *st, const char *name, struct ops_err *e);
int ops_account_password(struct store *st, const char *name, const char *password, int force,
                         struct ops_err *e);
/* Ends every ACC session of the account; *n how many. */
int ops_account_logout(struct store *st, const char *name, int *n, struct ops_err *e);

/* domains and mailboxes (ops_mailbox.c) */
/* dkim: make the domain's first DKIM keys (active) too */
int ops_domain_add(struct store *st, const char *account, const char *domain, int dkim, struct ops_err *e);
int ops_domain_remove(struct store *st, const char *domain, struct ops_err *e);
/* A listing's filter exists (NULL: no filter). */
int ops_domain_list_check(struct store *st, const char *account, struct ops_err *e);
int ops_mailbox_list_check(struct store *st, const char *domain, struct ops_err *e);
/* A new mailbox's address is valid and its domain hosted (before a password is read). */
int ops_mailbox_check(struct store *st, const char *address, struct ops_err *e);
/* The password rule of the ACC (at least OPS_PASSWORD_MIN bytes) unless force. */
int ops_password_check(const char *password, int force, struct ops_err *e);
int ops_mailbox_add(struct store *st, const char *data_dir, const char *address, const char *password,
                    int force, struct ops_err *e);
int ops_mailbox_passwd(struct store *st, const char *address, const char *password, int force,
                       struct ops_err *e);
int ops_mailbox_remove(struct store *st, const char *address, struct ops_err *e);
/* A DKIM key generation (RSA + Ed25519) for a hosted domain. */
int ops_dkim_add_generation(struct store *st, const char *domain, int generation, int state,
                            struct ops_err *e);

/* a domain's choice for mail the filter marks as spam (ops_spam.c,
 * store/store_spam.h): "subject", "headers", "refuse" or "default" */
const char *ops_spam_name(const char *stored);   /* "" -> "default" */
int ops_domain_spam_get(struct store *st, const char *domain, char *out, size_t outlen, struct ops_err *e);
int ops_domain_spam_set(struct store *st, const char *domain, const char *choice, struct ops_err *e);

/* relay grants and the queue (ops_queue.c) */
/* ip in its canonical form into out (as hostmaild records it); st NULL:
 * only check the address. */
int ops_relay_revoke(struct store *st, const char *ip, char *out, size_t outlen, struct ops_err *e);
/* Ask the running hostmaild (queue/control.h): verb FLUSH, DELETE or
 * BOUNCE, id NULL for FLUSH of everything. 0 with the rest of its OK
 * answer in ok; STORE_ENOTFOUND (no such message); STORE_EINVAL (not a
 * queue id); STORE_EFAIL (no answer); 1 when no hostmaild listens. */
int ops_queue_ask(const char *data_dir, const char *verb, const char *id, char *ok, size_t oklen,
                  struct ops_err *e);
/* Put queued message id on hold (reason NULL or "": OPS_HOLD_REASON; a
 * held message gets the new reason). A delivery already under way ends
 * first; the runner then leaves the message alone until its release.
 * 0, STORE_EINVAL (not a queue id, reason too long), STORE_ENOTFOUND. */
#define OPS_HOLD_REASON "held by the mail administrator"
#define OPS_HOLD_REASON_MAX 255
int ops_queue_hold(const char *data_dir, const char *id, const char *reason, struct ops_err *e);
/* Release held message id and ask the running hostmaild to try it now
 * (without a daemon it is tried when one starts): 0 (*daemon 1 when one
 * took it, 0 when none runs), STORE_EINVAL, STORE_ENOTFOUND, STORE_EEXIST
 * (not on hold), STORE_EFAIL. */
int ops_queue_release(const char *data_dir, const char *id, int *daemon, struct ops_err *e);

#endif
