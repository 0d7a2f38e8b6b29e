/*
 * limits: the limits that apply to one hosting account, its own overrides
 * where it has them (store: -1 = none), else the [limits] defaults. The
 * one place this is computed: SMTP, the ACC and hostmailctl all ask here.
 * Plain data in, plain data out: the caller copies the account's
 * overrides (struct account) and the configured defaults (struct config).
 */
#ifndef HM_LIMITS_H
#define HM_LIMITS_H

struct account_limits {
	int per_hour;          /* recipients per UTC hour; 0 = none at all */
	int per_day;           /* recipients per UTC day; 0 = none at all */
	int max_recipients;    /* per message, at least 1 */
};

/*
 * The effective limits from an account's overrides and the defaults. In
 * ov, -1 (any negative) means "the default"; 0 is a real override for the
 * hourly and daily budgets (no recipients at all: a provider stops an
 * account's outgoing mail without suspending it), while a per-message
 * override below 1 is taken as the default (the store refuses to record
 * one). The defaults are used as they are ([limits] parsing bounds them).
 */
void account_limits(const struct account_limits *ov, const struct account_limits *dflt,
                    struct account_limits *out);

#endif
