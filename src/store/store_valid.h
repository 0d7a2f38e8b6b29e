/*
 * store_valid: the syntax rules for what goes into the account store
 * (account names, domains, mailbox addresses, dates). Pure functions, so
 * hostmailctl can check input before it reads a password, the store checks
 * again before writing, and unit tests call them directly.
 *
 * Each returns 0 and writes the normalized (lower-cased) value into out,
 * or -1 with one human-readable line in err.
 */
#ifndef HM_STORE_VALID_H
#define HM_STORE_VALID_H
#include <stddef.h>

/* [a-z0-9][a-z0-9-]{0,31}; upper case is refused, not folded. */
int valid_account_name(const char *name, char *err, size_t errlen);
/* LDH hostname with at least two labels, no trailing dot. */
int valid_domain(const char *domain, char *out, size_t outlen, char *err, size_t errlen);
/* local@domain: dot-atom local part without '/' (it names a directory). */
int valid_address(const char *address, char *local, size_t locallen,
                  char *domain, size_t domainlen, char *err, size_t errlen);
/* YYYY-MM-DD, a real calendar day, year 1970..9999. */
int valid_date(const char *date, char *err, size_t errlen);

#endif
