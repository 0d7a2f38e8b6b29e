/*
 * store_pg_relay: POP-before-SMTP grants (relay_auth.h) in the PostgreSQL
 * store, shared by every node: a POP3 login on one node lets its IP relay
 * through any other. Suspended accounts never match a lookup, and
 * suspending an account deletes its grants (trigger account_suspended).
 */
#include "store/store_pg_int.h"
#include <stdio.h>
#include <string.h>

static const struct pg_stmt grant_stmt = {
	"relay_grant", "INSERT INTO relay_auth (ip, account_id, mailbox, expires)"
	" SELECT $1, d.account_id, m.address, $3::bigint FROM mailboxes m"
	" JOIN domains d ON d.id = m.domain_id WHERE m.address = $2"
	" ON CONFLICT (ip, mailbox) DO UPDATE SET expires = excluded.expires", 3, 0
};
#define GRANT_SELECT "SELECT r.ip, a.name, r.mailbox, r.expires FROM relay_auth r" \
	" JOIN accounts a ON a.id = r.account_id"
static const struct pg_stmt lookup_stmt = {
	"relay_lookup", GRANT_SELECT " WHERE r.ip = $1 AND r.expires > $2::bigint"
	" AND a.status = 'active' ORDER BY r.expires DESC LIMIT 1", 2, 1
};
static const struct pg_stmt revoke_stmt = { "relay_revoke", "DELETE FROM relay_auth WHERE ip = $1", 1, 0 };
static const struct pg_stmt revoke_account_stmt = {
	"relay_revoke_account", "DELETE FROM relay_auth WHERE account_id ="
	" (SELECT id FROM accounts WHERE name = $1)", 1, 0
};
static const struct pg_stmt purge_stmt = {
	"relay_purge", "DELETE FROM relay_auth WHERE expires <= $1::bigint", 1, 0
};
static const struct pg_stmt list_stmt = {
	"relay_list", GRANT_SELECT " WHERE r.expires > $1::bigint ORDER BY r.ip COLLATE \"C\", r.expires DESC", 1, 1
};

int pg_relay_grant(struct store *base, const char *ip, const char *mailbox, time_t expires)
{
	char num[24];
	const char *p[3] = { ip, mailbox, pg_num(num, (long long)expires) };
	int n = pg_write(PG(base), &grant_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n == 0 ? STORE_ENOTFOUND : 0;
}

static void row_to_grant(const PGresult *r, int i, struct relay_grant *g)
{
	pg_text(r, i, 0, g->ip, sizeof g->ip);
	pg_text(r, i, 1, g->account, sizeof g->account);
	pg_text(r, i, 2, g->mailbox, sizeof g->mailbox);
	g->expires = (time_t)pg_ll(r, i, 3);
}

int pg_relay_lookup(struct store *base, const char *ip, time_t now, struct relay_grant *out)
{
	char num[24];
	const char *p[2] = { ip, pg_num(num, (long long)now) };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &lookup_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_to_grant(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_relay_revoke(struct store *base, const char *ip)
{
	const char *p[1] = { ip };
	int n = pg_write(PG(base), &revoke_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n == 0 ? STORE_ENOTFOUND : 0;
}

int pg_relay_revoke_account(struct store *base, const char *account)
{
	const char *p[1] = { account };

	return pg_write(PG(base), &revoke_account_stmt, p, NULL, 0) < 0 ? STORE_EFAIL : 0;
}

int pg_relay_purge(struct store *base, time_t now)
{
	char num[24];
	const char *p[1] = { pg_num(num, (long long)now) };
	int n = pg_write(PG(base), &purge_stmt, p, NULL, 0);

	return n < 0 ? STORE_EFAIL : n;
}

int pg_relay_list(struct store *base, time_t now, store_grant_cb cb, void *arg)
{
	char num[24];
	const char *p[1] = { pg_num(num, (long long)now) };
	struct relay_grant g;
	PGresult *r;
	int i;

	if (pg_run(PG(base), &list_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (i = 0; i < PQntuples(r); i++) {
		row_to_grant(r, i, &g);
		if (cb(&g, arg))
			break;
	}
	PQclear(r);
	return 0;
}
