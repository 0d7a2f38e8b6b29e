/*
 * admin: the admin API for the provider's control panel, served by
 * hostmaild over HTTPS on [listen] admin with bearer tokens (`hostmailctl
 * token add`): JSON resources mirroring hostmailctl's verbs. The HTTP is
 * the ACC's strict parser (acc/http_parse.h) on the one connection layer
 * (daemon/conn.h). docs/admin-api.md.
 */
#ifndef HM_ADMIN_H
#define HM_ADMIN_H

struct conn;

/* The service's start (daemon/conn.h: struct conn_service). */
void admin_conn_start(struct conn *c);

#endif
