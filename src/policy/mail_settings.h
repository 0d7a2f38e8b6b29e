/*
 * mail_settings: the settings a customer types into a mail program for one
 * mailbox (user name, hosts, ports and their security, AUTH, POP-before-SMTP,
 * size limit; IMAP when Dovecot serves it: [imap]), derived from the running configuration and the account.
 * `hostmailctl mailbox show` prints them and the ACC renders the same list,
 * so the two can never disagree. Pure.
 */
#ifndef HM_MAIL_SETTINGS_H
#define HM_MAIL_SETTINGS_H
#include "store/store.h"
#include "util/config.h"

#define MAIL_SETTINGS_N 10

struct mail_setting {
	const char *key;       /* static: "username", "smtp_host", ... */
	char value[512];
};

struct mail_settings {
	int n;
	struct mail_setting s[MAIL_SETTINGS_N];
};

/* Fill out in display order. 0, or -1 if a value does not fit. */
int mail_settings_get(const struct config *cfg, const struct account *acc,
                      const char *address, struct mail_settings *out);
/* "25, 2525 (STARTTLS)": distinct ports of l in order plus " (label)";
 * "" when l is empty. 0 or -1 if out is too small. */
int ports_describe(const struct listen_list *l, const char *label, char *out, size_t outlen);

#endif
