/*
 * pop3_cmds: the command table of the POP3 session and the commands of
 * the TRANSACTION state (RFC 1939 STAT, LIST, RETR, DELE, NOOP, RSET, TOP,
 * UIDL, QUIT with its UPDATE state, which in a fleet removes nothing while
 * the account moves: pop3_update.h) and CAPA (RFC 2449). Message numbers
 * are 1-based and fixed for the session; a message marked by DELE keeps
 * its number but is gone from STAT, LIST and UIDL until RSET.
 */
#include "delivery/quota.h"
#include "pop3/pop3_quota.h"
#include "pop3/pop3_session_int.h"
#include "pop3/pop3_proxy.h"
#include "pop3/pop3_update.h"
#include "cluster/move_recv.h"
#include "delivery/maildir_lock.h"
#include "store/store.h"
#include "store/store_move.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*cmd_fn)(struct pop3_session *, const struct pop3_command *);

/* The message a number names: its index, or -1 after an -ERR. */
static long msg_index(struct pop3_session *s, unsigned long num)
{
	if (num == 0 || num > s->mb.n) {
		p3_error(s, "-ERR no such message, only %zu messages in maildrop", s->mb.n);
		return -1;
	}
	if (s->mb.msgs[num - 1].deleted) {
		p3_error(s, "-ERR message %lu already deleted", num);
		return -1;
	}
	return (long)(num - 1);
}

static void totals(const struct pop3_session *s, size_t *count, unsigned long long *octets)
{
	size_t i;

	*count = 0;
	*octets = 0;
	for (i = 0; i < s->mb.n; i++) {
		if (!s->mb.msgs[i].deleted) {
			(*count)++;
			*octets += s->mb.msgs[i].size;
		}
	}
}

static void cmd_stat(struct pop3_session *s, const struct pop3_command *c)
{
	size_t n;
	unsigned long long octets;

	(void)c;
	totals(s, &n, &octets);
	p3_reply(s, "+OK %zu %llu", n, octets);
}

/* LIST and UIDL: one message, or every undeleted one as a multi-line reply. */
static void list_common(struct pop3_session *s, const struct pop3_command *c, int uidl)
{
	char uid[POP3_UIDL_MAX + 1], line[128];
	size_t i, n;
	unsigned long long octets;
	long k;

	if (c->nargs == 1) {
		if ((k = msg_index(s, c->num[0])) < 0)
			return;
		if (uidl) {
			pop3_msg_uidl(&s->mb.msgs[k], uid);
			p3_reply(s, "+OK %ld %s", k + 1, uid);
		} else {
			p3_reply(s, "+OK %ld %llu", k + 1, (unsigned long long)s->mb.msgs[k].size);
		}
		return;
	}
	totals(s, &n, &octets);
	if (uidl)
		p3_reply(s, "+OK unique-id listing follows");
	else
		p3_reply(s, "+OK %zu messages (%llu octets)", n, octets);
	for (i = 0; i < s->mb.n; i++) {
		int len;

		if (s->mb.msgs[i].deleted)
			continue;
		if (uidl) {
			pop3_msg_uidl(&s->mb.msgs[i], uid);
			len = snprintf(line, sizeof line, "%zu %s\r\n", i + 1, uid);
		} else {
			len = snprintf(line, sizeof line, "%zu %llu\r\n", i + 1,
			               (unsigned long long)s->mb.msgs[i].size);
		}
		p3_write(s, line, (size_t)len);
	}
	p3_write(s, ".\r\n", 3);
}

static void cmd_list(struct pop3_session *s, const struct pop3_command *c)
{
	list_common(s, c, 0);
}

static void cmd_uidl(struct pop3_session *s, const struct pop3_command *c)
{
	list_common(s, c, 1);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_command *c)
{
	long k = msg_index(s, c->num[0]);

	if (k >= 0)
		p3_send_message(s, (size_t)k, -1);
}

static void cmd_top(struct pop3_session *s, const struct pop3_command *c)
{
	long k = msg_index(s, c->num[0]);

	if (k >= 0)
		p3_send_message(s, (size_t)k, (long)c->num[1]);
}

static void cmd_dele(struct pop3_session *s, const struct pop3_command *c)
{
	long k = msg_index(s, c->num[0]);

	if (k < 0)
		return;
	s->mb.msgs[k].deleted = 1;
	p3_reply(s, "+OK message %ld deleted", k + 1);
}

static void cmd_noop(struct pop3_session *s, const struct pop3_command *c)
{
	(void)c;
	p3_reply(s, "+OK");
}

static void cmd_rset(struct pop3_session *s, const struct pop3_command *c)
{
	size_t i, n;
	unsigned long long octets;

	(void)c;
	for (i = 0; i < s->mb.n; i++)
		s->mb.msgs[i].deleted = 0;
	totals(s, &n, &octets);
	p3_reply(s, "+OK maildrop has %zu messages (%llu octets)", n, octets);
}

static void cmd_capa(struct pop3_session *s, const struct pop3_command *c)
{
	(void)c;
	p3_reply(s, "+OK Capability list follows");
	p3_reply(s, "TOP");
	p3_reply(s, "UIDL");
	p3_reply(s, "RESP-CODES");
	p3_reply(s, "AUTH-RESP-CODE");
	p3_reply(s, "PIPELINING");
	p3_reply(s, "EXPIRE NEVER");
	if (s->state == ST_AUTH) {
		if (!conn_tls(s->c) && s->srv->tls)
			p3_reply(s, "STLS");
		if (p3_auth_allowed(s)) {
			p3_reply(s, "USER");
			p3_reply(s, "SASL PLAIN");
		}
	}
	p3_reply(s, "IMPLEMENTATION hostmail");
	p3_reply(s, ".");
}

struct update_job {
	struct pop3_mailbox *mb;
	struct store *store;
	int cluster_node;            /* 0: one node, no move to look for */
	char account[64];
	enum pop3_update_verdict verdict;
	int failed;
	size_t deleted;
};

/* In a fleet: the facts pop3_update_decide needs, read with the Maildir
 * locked (the move takes the same lock after it records its begin). */
static void update_facts(struct update_job *j, struct pop3_update_facts *f)
{
	struct account a;
	struct account_move mv;

	f->locked = 1;
	f->move_rc = store_move_get(j->store, j->account, &mv);
	f->account_rc = store_account_get(j->store, j->account, &a);
	f->server_number = f->account_rc == 0 ? a.server_number : 0;
}

static void update_work(void *arg)
{
	struct update_job *j = arg;
	struct pop3_update_facts f = { .cluster_node = j->cluster_node };
	struct quota_usage freed;
	int lock = -1;

	if (j->cluster_node > 0 && (lock = maildir_lock(j->mb->path, POP3_UPDATE_LOCK_WAIT_MS)) >= 0)
		update_facts(j, &f);
	if ((j->verdict = pop3_update_decide(&f)) == POP3_UPDATE_REMOVE) {
		quota_pop3_deleted(j->mb, &freed);
		j->failed = pop3_mailbox_commit(j->mb);
		quota_pop3_update(j->mb->path, &freed, j->failed);
	}
	maildir_unlock(lock);
}

static void update_done(void *st, void *arg)
{
	struct pop3_session *s = st;
	struct update_job *j = arg;

	if (s) {
		size_t left = s->mb.n - j->deleted;

		/* the UPDATE state is over: the maildrop is free before the +OK,
		 * so a client that logs in again at once finds it so */
		if (s->lock) {
			p3_lock_release(s->srv, s->lock);
			s->lock = NULL;
		}
		if (j->verdict == POP3_UPDATE_MOVING) {
			log_info("pop3[%llu] ip=%s: %s: %zu deleted message(s) kept: account %s is being moved"
			         " to another node", s->id, s->ip, s->mailbox, j->deleted, s->account);
			p3_reply(s, "%s", pop3_update_refusal(j->verdict));
		} else if (j->verdict == POP3_UPDATE_TEMPFAIL) {
			log_warn("pop3[%llu] ip=%s: %s: %zu deleted message(s) kept: cannot tell whether account %s"
			         " is being moved (store error, or the Maildir lock not taken)", s->id, s->ip,
			         s->mailbox, j->deleted, s->account);
			p3_reply(s, "%s", pop3_update_refusal(j->verdict));
		} else if (j->failed) {
			log_warn("pop3[%llu] ip=%s: %s: %d deleted message(s) could not be removed",
			         s->id, s->ip, s->mailbox, j->failed);
			p3_reply(s, "-ERR [SYS/TEMP] some deleted messages were not removed");
		} else {
			log_info("pop3[%llu] ip=%s: %s: logout, %zu deleted, %zu left", s->id, s->ip,
			         s->mailbox, j->deleted, left);
			p3_reply(s, "+OK %s POP3 server signing off (%zu messages left)", s->cfg->hostname, left);
		}
		p3_close_after_reply(s);
	}
	free(j);
}

static void cmd_quit(struct pop3_session *s, const struct pop3_command *c)
{
	struct update_job *j;
	size_t i;

	(void)c;
	if (s->state != ST_TRANS) {
		p3_reply(s, "+OK %s POP3 server signing off", s->cfg->hostname);
		p3_close_after_reply(s);
		return;
	}
	/* the UPDATE state: deletions happen now, on a worker, mailbox still locked */
	if (!(j = calloc(1, sizeof *j))) {
		p3_reply(s, "-ERR [SYS/TEMP] out of memory, messages not deleted");
		p3_close_after_reply(s);
		return;
	}
	j->mb = &s->mb;
	j->store = s->srv->store;
	j->cluster_node = s->cfg->cluster_node;
	snprintf(j->account, sizeof j->account, "%s", s->account);
	for (i = 0; i < s->mb.n; i++)
		j->deleted += s->mb.msgs[i].deleted ? 1 : 0;
	if (j->deleted == 0) {
		update_done(s, j);
		return;
	}
	if (p3_job(s, s->srv->workers, update_work, update_done, j) < 0) {
		free(j);
		p3_reply(s, "-ERR [SYS/TEMP] messages not deleted, try again later");
		p3_close_after_reply(s);
	}
}

static void cmd_apop(struct pop3_session *s, const struct pop3_command *c)
{
	(void)c;
	p3_error(s, "-ERR APOP is not supported, use USER/PASS or AUTH PLAIN");
}

static const struct {
	int states;      /* ST_AUTH | ST_TRANS */
	cmd_fn fn;
} cmds[POP3_NCMDS] = {
	[POP3_USER] = { ST_AUTH, p3_cmd_user },
	[POP3_PASS] = { ST_AUTH, p3_cmd_pass },
	[POP3_APOP] = { ST_AUTH, cmd_apop },
	[POP3_AUTH] = { ST_AUTH, p3_cmd_auth },
	[POP3_STLS] = { ST_AUTH, p3_cmd_stls },
	[POP3_CAPA] = { ST_AUTH | ST_TRANS, cmd_capa },
	[POP3_QUIT] = { ST_AUTH | ST_TRANS, cmd_quit },
	[POP3_STAT] = { ST_TRANS, cmd_stat },
	[POP3_LIST] = { ST_TRANS, cmd_list },
	[POP3_RETR] = { ST_TRANS, cmd_retr },
	[POP3_DELE] = { ST_TRANS, cmd_dele },
	[POP3_NOOP] = { ST_TRANS, cmd_noop },
	[POP3_RSET] = { ST_TRANS, cmd_rset },
	[POP3_TOP] = { ST_TRANS, cmd_top },
	[POP3_UIDL] = { ST_TRANS, cmd_uidl },
};

void p3_dispatch(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_command c;
	char safe[64];

	if (pop3_proxy_is_xlogin(s, line, len)) {
		pop3_proxy_xlogin(s, line, len);
		return;
	}
	if (move_recv_is_cmd(s, line, len)) {
		move_recv_cmd(s, line, len);
		return;
	}
	switch (pop3_parse(line, len, &c)) {
	case POP3_PARSE_UNKNOWN:
		log_safe(line, len < 16 ? len : 16, safe, sizeof safe);
		log_info("pop3[%llu] ip=%s: unknown command \"%s\"", s->id, s->ip, safe);
		p3_error(s, "-ERR unknown command");
		break;
	case POP3_PARSE_SYNTAX:
		p3_error(s, "-ERR %s", c.error);
		break;
	case POP3_PARSE_OK:
		if (!(cmds[c.cmd].states & s->state))
			p3_error(s, "-ERR %s not allowed %s", c.name,
			         s->state == ST_AUTH ? "before login" : "after login");
		else
			cmds[c.cmd].fn(s, &c);
		break;
	}
	explicit_bzero(&c, sizeof c);
}
