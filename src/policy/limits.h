/*
 * limits: the limits that apply to one hosting account, its own overrides
 * where it has them (store: -1 = none), else the [limits] defaults. The
 * one place this is computed: SMTP, the ACC and hostmailctl all ask here.
 */
#ifndef HM_LIMITS_H
#define HM_LIMITS_H

struct account;
struct config;

struct account_limits {
	int per_hour;          /* recipients per UTC hour; 0 = none at all */
	int per_day;           /* recipients per UTC day */
	int max_recipients;    /* per message, at least 1 */
};

void account_limits(const struct account *a, const struct config *cfg, struct account_limits *out);

#endif
