/*
 * store_pg_node: the nodes of a fleet (store_node.h) in the PostgreSQL
 * store, table nodes, shared by every node and hostmailctl. Removing a
 * node checks that no account lives there and deletes it in one
 * statement, so an account added to it meanwhile cannot be orphaned
 * unnoticed (accounts.server_number is not a foreign key: legacy server
 * numbers need not be nodes).
 */
#include "store/store_pg_int.h"
#include "store/store_node.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_COLS "SELECT n.number, n.lmtp, n.pop3, n.imap, n.state," \
	" (SELECT count(*) FROM accounts a WHERE a.server_number = n.number)," \
	" (SELECT count(*) FROM mailboxes m JOIN domains d ON d.id = m.domain_id" \
	"  JOIN accounts a ON a.id = d.account_id WHERE a.server_number = n.number) FROM nodes n "

static const struct pg_stmt add_stmt = {
	"node_add", "INSERT INTO nodes (number, lmtp, pop3, imap) VALUES ($1::integer, $2, $3, $4)", 4, 0
};
static const struct pg_stmt get_stmt = {
	"node_get", NODE_COLS "WHERE n.number = $1::integer", 1, 1
};
static const struct pg_stmt list_stmt = {
	"node_list", NODE_COLS "ORDER BY n.number", 0, 1
};
static const struct pg_stmt imap_stmt = {
	"node_imap", "UPDATE nodes SET imap = $2 WHERE number = $1::integer", 2, 0
};
static const struct pg_stmt state_stmt = {
	"node_state", "UPDATE nodes SET state = $2 WHERE number = $1::integer", 2, 0
};
static const struct pg_stmt remove_stmt = {
	"node_remove", "DELETE FROM nodes WHERE number = $1::integer AND NOT EXISTS"
	" (SELECT 1 FROM accounts WHERE server_number = $1::integer)", 1, 0
};
static const struct pg_stmt homed_stmt = {
	"node_homed", "SELECT count(*) FROM accounts WHERE server_number = $1::integer", 1, 1
};
static const struct pg_stmt pick_stmt = {
	"node_pick", "SELECT n.number FROM nodes n WHERE n.state = 'active' ORDER BY"
	" (SELECT count(*) FROM mailboxes m JOIN domains d ON d.id = m.domain_id"
	"  JOIN accounts a ON a.id = d.account_id WHERE a.server_number = n.number), n.number LIMIT 1", 0, 1
};
static const struct pg_stmt home_stmt = {
	"mailbox_home", "SELECT a.server_number, EXISTS (SELECT 1 FROM mailboxes WHERE address = $2)"
	" FROM domains d JOIN accounts a ON a.id = d.account_id WHERE d.name = $1", 2, 1
};

static void row_node(const PGresult *r, int i, struct node *n)
{
	char state[16];

	memset(n, 0, sizeof *n);
	n->number = (int)pg_ll(r, i, 0);
	pg_text(r, i, 1, n->lmtp, sizeof n->lmtp);
	pg_text(r, i, 2, n->pop3, sizeof n->pop3);
	pg_text(r, i, 3, n->imap, sizeof n->imap);
	pg_text(r, i, 4, state, sizeof state);
	n->state = strcmp(state, "draining") ? NODE_ACTIVE : NODE_DRAINING;
	n->accounts = (int)pg_ll(r, i, 5);
	n->mailboxes = (int)pg_ll(r, i, 6);
}

int pg_node_add(struct store *base, const struct node *n, char *err, size_t errlen)
{
	char num[24];
	const char *p[4] = { pg_num(num, n->number), n->lmtp, n->pop3, n->imap };
	int rc = pg_write(PG(base), &add_stmt, p, err, errlen);

	if (rc == STORE_EEXIST)
		store_seterr(err, errlen, "node %d already exists", n->number);
	return rc < 0 ? rc : 0;
}

int pg_node_get(struct store *base, int number, struct node *out)
{
	char num[24];
	const char *p[1] = { pg_num(num, number) };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &get_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		row_node(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_node_list(struct store *base, store_node_cb cb, void *arg)
{
	struct node n;
	PGresult *r;

	if (pg_run(PG(base), &list_stmt, NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	for (int i = 0; i < PQntuples(r); i++) {
		row_node(r, i, &n);
		if (cb(&n, arg))
			break;
	}
	PQclear(r);
	return 0;
}

int pg_node_set_state(struct store *base, int number, enum node_state state, char *err, size_t errlen)
{
	char num[24], name[24];
	const char *p[2] = { pg_num(num, number), node_state_name(state) };

	snprintf(name, sizeof name, "%d", number);
	return pg_write_one(PG(base), &state_stmt, p, "node", name, err, errlen);
}

int pg_node_set_imap(struct store *base, int number, const char *imap, char *err, size_t errlen)
{
	char num[24], name[24];
	const char *p[2] = { pg_num(num, number), imap };

	snprintf(name, sizeof name, "%d", number);
	return pg_write_one(PG(base), &imap_stmt, p, "node", name, err, errlen);
}

int pg_node_remove(struct store *base, int number, char *err, size_t errlen)
{
	char num[24];
	const char *p[1] = { pg_num(num, number) };
	struct node n;
	PGresult *r;
	int rc = pg_write(PG(base), &remove_stmt, p, err, errlen), homed = 0;

	if (rc != 0)
		return rc < 0 ? rc : 0;
	/* nothing removed: not a node, or still a home */
	if (pg_node_get(base, number, &n) == STORE_ENOTFOUND) {
		store_seterr(err, errlen, "node %d does not exist", number);
		return STORE_ENOTFOUND;
	}
	if (pg_run(PG(base), &homed_stmt, p, &r, err, errlen) != 0)
		return STORE_EFAIL;
	homed = PQntuples(r) == 1 ? (int)pg_ll(r, 0, 0) : 0;
	PQclear(r);
	store_seterr(err, errlen, "node %d is the home of %d account(s): move them first"
	             " (hostmailctl account move NAME --to N)", number, homed);
	return STORE_EEXIST;
}

int pg_node_pick(struct store *base, int *number)
{
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &pick_stmt, NULL, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0)
		*number = (int)pg_ll(r, 0, 0);
	PQclear(r);
	return rc;
}

int pg_mailbox_home(struct store *base, const char *domain, const char *addr, int *number, int *exists)
{
	const char *p[2] = { domain, addr };
	PGresult *r;
	int rc;

	if (pg_run(PG(base), &home_stmt, p, &r, NULL, 0) != 0)
		return STORE_EFAIL;
	rc = PQntuples(r) == 1 ? 0 : STORE_ENOTFOUND;
	if (rc == 0) {
		*number = (int)pg_ll(r, 0, 0);
		*exists = !strcmp(PQgetvalue(r, 0, 1), "t");
	}
	PQclear(r);
	return rc;
}
