/*
 * store_spam: each hosted domain's choice of what happens to mail the
 * inbound filter (rspamd, through the milter client) marks as spam:
 *
 *   "subject"  deliver it, the Subject marked as spam
 *   "headers"  deliver it as it is; the filter's headers say it is spam
 *   "refuse"   refuse it at SMTP time (5xx before the 250)
 *   ""         the provider's default, [milter] spam_action
 *
 * Stored per domain in both backends (table domain_spam, schema 6; no row
 * = the default), chosen by the customer in the ACC (acc_spam.c), by the
 * operator with `hostmailctl domain spam`, or through the admin API.
 */
#ifndef HM_STORE_SPAM_H
#define HM_STORE_SPAM_H
#include <stddef.h>

struct store;

#define STORE_SPAM_ACTION_MAX 16   /* the longest choice with its NUL */

/* 1 if a is "subject", "headers", "refuse" or "" (the default), else 0. */
int store_spam_action_valid(const char *a);

/* The domain's choice into out ("" when it uses the default): 0,
 * STORE_ENOTFOUND (not hosted) or STORE_EFAIL. */
int store_domain_spam_action(struct store *st, const char *domain, char *out, size_t outlen);

/* Set it (action "" or "default": back to the default): 0,
 * STORE_EINVAL (not a choice), STORE_ENOTFOUND (not hosted) or
 * STORE_EFAIL, with err. */
int store_domain_set_spam_action(struct store *st, const char *domain, const char *action,
                                 char *err, size_t errlen);

#endif
