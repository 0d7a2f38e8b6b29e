/*
 * mobileconfig: an Apple configuration profile (a property list, XML
 * form) that sets up one mailbox in Apple Mail on macOS, iOS and iPadOS:
 * one com.apple.mail.managed payload with the recommended POP3 and SMTP
 * servers of client_settings. The password is inside only when the
 * customer asked for it (password != NULL); otherwise the device asks.
 * Pure: the caller gives the two payload UUIDs and the identifier.
 */
#ifndef HM_MOBILECONFIG_H
#define HM_MOBILECONFIG_H
#include "policy/client_settings.h"
#include "util/buf.h"

struct mobileconfig_ids {
	const char *identifier;       /* reverse-DNS, unique per mailbox */
	const char *profile_uuid, *mail_uuid;
};

/* 0, or -1 if b is full or a value cannot be XML (or no server is set). */
int mobileconfig_profile(struct buf *b, const struct client_settings *cs, const char *provider,
                         const struct mobileconfig_ids *ids, const char *password);

#endif
