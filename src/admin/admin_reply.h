/*
 * admin_reply: what the admin API's resource files share (not a public
 * interface): the JSON error and success answers, and strict reading of
 * the request's JSON object (jansson). Every function that fails sets the
 * answer (400 with the member at fault) before it returns.
 */
#ifndef HM_ADMIN_REPLY_H
#define HM_ADMIN_REPLY_H
#include <jansson.h>
#include "admin/admin_int.h"
#include "ops/ops.h"
#include "util/jw.h"

/* {"error": msg, "field": field?} with status. */
void admin_error(struct admin_req *r, int status, const char *field, const char *msg);
/* An ops refusal: 400 (with its field), 404, 409 or 500. */
void admin_op_error(struct admin_req *r, int code, const struct ops_err *e);
/* status with what j wrote, if it is whole (else 500). */
void admin_ok(struct admin_req *r, int status, const struct jw *j);
/* status with {"ok": true}. */
void admin_ok_empty(struct admin_req *r, int status);
/* The request's JSON object (the caller decrefs), or NULL with 400 set. */
json_t *admin_body(struct admin_req *r);
/* Member key as a string: 1 and *out; 0 absent (400 set if required, then -1); -1 wrong type. */
int admin_get_str(struct admin_req *r, json_t *o, const char *key, int required, const char **out);
/* Member key as true/false: 1 and *out; 0 absent; -1 wrong type (400 set). */
int admin_get_bool(struct admin_req *r, json_t *o, const char *key, int *out);
/* Only the members named in keys (NULL-terminated): 0, or -1 (400 naming the stranger). */
int admin_only(struct admin_req *r, json_t *o, const char *const *keys);

/* admin_accounts.c */
void admin_account_list(struct admin_req *r);
void admin_account_add(struct admin_req *r);
void admin_account_show(struct admin_req *r);
void admin_account_limits(struct admin_req *r);
void admin_account_suspend(struct admin_req *r, int suspended);
void admin_account_remove(struct admin_req *r);
/* account: 1 the account's ACC password, 0 the mailbox's */
void admin_set_password(struct admin_req *r, int account);
void admin_account_logout(struct admin_req *r);
/* admin_mail.c: domains, mailboxes, relay grants, the queue */
void admin_domain_list(struct admin_req *r);
void admin_domain_add(struct admin_req *r);
void admin_domain_remove(struct admin_req *r);
void admin_mailbox_list(struct admin_req *r);
void admin_mailbox_show(struct admin_req *r);
/* admin_quota.c: a mailbox with its quota, usage and autoresponder state */
struct jw;
struct mailbox;
void admin_mailbox_json(struct admin_req *r, struct jw *j, const struct mailbox *m);
void admin_quota_set(struct admin_req *r);
void admin_vacation_show(struct admin_req *r);
void admin_vacation_set(struct admin_req *r);
void admin_vacation_off(struct admin_req *r);
void admin_mailbox_add(struct admin_req *r);
void admin_mailbox_remove(struct admin_req *r);
void admin_relay_list(struct admin_req *r);
void admin_relay_revoke(struct admin_req *r);
void admin_queue_list(struct admin_req *r);
void admin_queue_show(struct admin_req *r);
/* admin_dkim.c: a domain's DKIM keys and the records to publish */
void admin_dkim_show(struct admin_req *r);
void admin_dkim_rotate(struct admin_req *r);
void admin_dkim_activate(struct admin_req *r);
void admin_dns(struct admin_req *r);
/* admin_alias.c: aliases, catch-alls, account contacts (docs/routing.md) */
void admin_alias_list(struct admin_req *r);
void admin_alias_show(struct admin_req *r);
void admin_alias_set(struct admin_req *r);
void admin_alias_remove(struct admin_req *r);
void admin_catchall_show(struct admin_req *r);
void admin_catchall_set(struct admin_req *r);
void admin_contact_show(struct admin_req *r);
void admin_contact_set(struct admin_req *r);
/* verb FLUSH, DELETE or BOUNCE through the daemon's control socket */
void admin_queue_ask(struct admin_req *r, const char *verb, const char *id);
/* admin_quarantine.c: hold and release a queued message */
void admin_queue_hold(struct admin_req *r);
void admin_queue_release(struct admin_req *r);
/* admin_nodes.c: the nodes of a fleet, the account moves under way */
void admin_node_list(struct admin_req *r);
void admin_node_add(struct admin_req *r);
void admin_node_drain(struct admin_req *r, int drain);
void admin_node_remove(struct admin_req *r);
void admin_move_list(struct admin_req *r);
/* admin_spam.c: a domain's spam choice */
void admin_spam_show(struct admin_req *r);
void admin_spam_set(struct admin_req *r);

#endif
