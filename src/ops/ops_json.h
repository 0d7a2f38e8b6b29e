/*
 * ops_json: the JSON form of what the listing verbs show, one shape for
 * the admin API's answers and hostmailctl --json (docs/admin-api.md has
 * the schemas, served as /api/openapi.json).
 */
#ifndef HM_OPS_JSON_H
#define HM_OPS_JSON_H
#include <time.h>
#include "store/store.h"
#include "store/relay_auth.h"
#include "util/jw.h"

struct envelope;

/* An ISO 8601 UTC time, "2026-12-05T08:40:00Z". */
void ops_json_time(struct jw *j, const char *key, time_t t);
/* {name, status, created, server_number} */
void ops_json_account(struct jw *j, const struct account *a);
/* spam: the domain's spam choice by name (ops_spam_name) */
void ops_json_domain(struct jw *j, const char *domain, const char *account, const char *spam);
void ops_json_mailbox(struct jw *j, const struct mailbox *m);
void ops_json_grant(struct jw *j, const struct relay_grant *g);
/* The envelope with every recipient (state, attempts, next try, error). */
void ops_json_envelope(struct jw *j, const struct envelope *e);

#endif
