/*
 * ops_alias: the administrator's operations on the routing data
 * (store_alias.h): aliases, a domain's catch-all, an account's contact.
 * Shared by hostmailctl and (later) the admin API and the ACC, with the
 * conventions of ops.h: 0 or a STORE_E* code with e->msg and e->field.
 */
#ifndef HM_OPS_ALIAS_H
#define HM_OPS_ALIAS_H
#include "ops/ops.h"
#include "store/store_alias.h"

int ops_alias_set(struct store *st, const char *address, const char *targets, struct ops_err *e);
int ops_alias_remove(struct store *st, const char *address, struct ops_err *e);
/* The listing's filter (a domain, or NULL) exists. */
int ops_alias_list_check(struct store *st, const char *domain, struct ops_err *e);
/* target NULL, "" or "off": no catch-all. */
int ops_catchall_set(struct store *st, const char *domain, const char *target, struct ops_err *e);
/* address NULL, "" or "default": back to the first mailbox. */
int ops_contact_set(struct store *st, const char *account, const char *address, struct ops_err *e);

#endif
