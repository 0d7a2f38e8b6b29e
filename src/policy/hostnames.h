/*
 * hostnames: which SMTP (and POP3) host name an account is told to use.
 * Accounts created before [hostnames] legacy_cutover get legacy_pattern
 * with {server} = the server number zero-padded to three digits
 * (mail007.example.net: the provider's machines were named that way);
 * accounts created on or after it get pattern with {user} = the account
 * name (acme.mail.example.net). Either placeholder works in either
 * pattern. Pure: used by hostmailctl, the ACC and TLS certificate checks.
 */
#ifndef HM_HOSTNAMES_H
#define HM_HOSTNAMES_H
#include <stddef.h>
#include "store/store.h"
#include "util/config.h"

/* Expand {user} and {server} in pattern. 0, or -1 if out is too small. */
int hostname_expand(const char *pattern, const struct account *acc, char *out, size_t outlen);
/* 1 if acc was created before the configured cutover date. */
int account_is_legacy(const struct config *cfg, const struct account *acc);
/* The account's SMTP host name (the same name serves POP3). 0 or -1. */
int account_smtp_host(const struct config *cfg, const struct account *acc, char *out, size_t outlen);

#endif
