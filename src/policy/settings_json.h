/*
 * settings_json: one mailbox's client_settings as JSON for admin tools and
 * scripts (the ACC's /mail/settings.json): the same facts as the ACC's
 * tables and `hostmailctl mailbox show`. Strings JSON-escaped (RFC 8259).
 * Pure.
 */
#ifndef HM_SETTINGS_JSON_H
#define HM_SETTINGS_JSON_H
#include "policy/client_settings.h"
#include "util/buf.h"

/* 0, or -1 if b is full. */
int settings_json(struct buf *b, const struct client_settings *cs);
/* Append s as a JSON string with its quotes; -1 if b is full. */
int json_string(struct buf *b, const char *s);

#endif
