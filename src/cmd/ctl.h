/*
 * ctl.h: what the verbs of hostmailctl share. hostmailctl.c has the
 * account, domain and mailbox verbs and the dispatch table; ctl_queue.c
 * the queue and relay (POP-before-SMTP) verbs; ctl_db.c the database's;
 * ctl_dovecot.c Dovecot's (IMAP).
 */
#ifndef HOSTMAIL_CMD_CTL_H
#define HOSTMAIL_CMD_CTL_H

#include <stdio.h>
#include "store/store.h"
#include "util/config.h"

struct ctl {
	struct config cfg;
	struct store *st;       /* opened on first use by store() */
	int json;               /* --json: listings as one JSON array */
	int force;              /* --force: a password shorter than the ACC's rule */
};

struct buf;
struct jw;
/* The JSON made in b (by j) onto stdout, b freed: 0, or 1 (reported). */
int ctl_put_json(struct buf *b, const struct jw *j);
/* ctl_help.c: the lines of usage about NOUN (VERB NULL) or NOUN VERB onto
 * out; how many lines (0: none). */
int ctl_help_print(const char *usage, const char *noun, const char *verb, FILE *out);
/* ctl_token.c: the admin API's tokens */
int ctl_token_add(struct ctl *c, int argc, char **argv);
int ctl_token_list(struct ctl *c, int argc, char **argv);
int ctl_token_remove(struct ctl *c, int argc, char **argv);

/* "hostmailctl: ..." on stderr; returns 1 (the error exit status). */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The account store, opened on first use; NULL (reported) on error. */
struct store *store(struct ctl *c);

/* Verbs: argc/argv are the arguments after NOUN VERB; return the exit status. */
int queue_list_cmd(struct ctl *c, int argc, char **argv);
int queue_flush_cmd(struct ctl *c, int argc, char **argv);
int queue_show_cmd(struct ctl *c, int argc, char **argv);
int queue_delete_cmd(struct ctl *c, int argc, char **argv);
int queue_bounce_cmd(struct ctl *c, int argc, char **argv);
int queue_hold_cmd(struct ctl *c, int argc, char **argv);
int queue_release_cmd(struct ctl *c, int argc, char **argv);
int relay_list(struct ctl *c, int argc, char **argv);
int relay_revoke(struct ctl *c, int argc, char **argv);
int db_init_cmd(struct ctl *c, int argc, char **argv);
int db_migrate_cmd(struct ctl *c, int argc, char **argv);
/* ctl_dkim.c */
int ctl_domain_dkim(struct ctl *c, int argc, char **argv);
int ctl_domain_dns(struct ctl *c, int argc, char **argv);
/* ctl_alias.c (docs/routing.md) */
int ctl_alias_add(struct ctl *c, int argc, char **argv);
int ctl_alias_remove(struct ctl *c, int argc, char **argv);
int ctl_alias_list(struct ctl *c, int argc, char **argv);
int ctl_domain_catchall(struct ctl *c, int argc, char **argv);
int ctl_account_contact(struct ctl *c, int argc, char **argv);
/* ctl_spam.c: domain show, domain spam */
int ctl_domain_show(struct ctl *c, int argc, char **argv);
int ctl_domain_spam(struct ctl *c, int argc, char **argv);
/* ctl_dovecot.c */
int dovecot_config_cmd(struct ctl *c, int argc, char **argv);
int relay_dovecot_login(struct ctl *c, int argc, char **argv);
/* ctl_quota.c: mailbox quotas and autoresponders */
int ctl_mailbox_quota(struct ctl *c, int argc, char **argv);
int ctl_mailbox_vacation(struct ctl *c, int argc, char **argv);
int ctl_account_mailbox_quota(struct ctl *c, const char *name, const char *size, const char *count);
int ctl_quota_show(struct ctl *c, const char *address);
/* The mailbox_quota_* lines of account show: 0, or 1 (reported). */
int ctl_account_quota_show(struct ctl *c, const char *account);

/* ctl_node.c: the nodes of a fleet */
int ctl_node_add(struct ctl *c, int argc, char **argv);
int ctl_node_list(struct ctl *c, int argc, char **argv);
int ctl_node_drain(struct ctl *c, int argc, char **argv);
int ctl_node_activate(struct ctl *c, int argc, char **argv);
int ctl_node_set_imap(struct ctl *c, int argc, char **argv);
int ctl_node_remove(struct ctl *c, int argc, char **argv);
/* ctl_move.c: account move NAME --to N | --abort */
int ctl_account_move(struct ctl *c, int argc, char **argv);

#endif
