/*
 * dovecot_conf: the dovecot.conf (Dovecot 2.3, Debian's dovecot-imapd)
 * that serves IMAP over hostmail's Maildirs and accounts, and the SQL file
 * its passdb reads (dovecot-sqlite or dovecot-pgsql on hostmail's own
 * store). `hostmailctl dovecot-config` prints them; the tests and `make
 * run` start private instances from them. Pure: everything it needs from
 * the machine (user ids, paths, the SNI certificates found) comes in the
 * input, so a unit test can check every line. docs/imap.md explains the
 * choices.
 */
#ifndef HM_DOVECOT_CONF_H
#define HM_DOVECOT_CONF_H
#include <stddef.h>
#include "util/buf.h"
#include "util/config.h"

#define DOVECOT_SNI_MAX 256

struct dovecot_sni {
	char name[256];          /* "mail007.example.net", "*.mail.example.net" */
	char crt[1024], key[1024];
};

struct dovecot_conf_in {
	const struct config *cfg;
	const char *user;         /* owns the Maildirs and the store: mail processes and auth workers run as it */
	long uid, gid;            /* ... its ids */
	const char *ctl;          /* absolute path of hostmailctl: the post-login hook (IMAP-before-SMTP) */
	const char *config_path;  /* absolute path of hostmail's INI, for that hook */
	const char *sql_path;     /* where the SQL file (dovecot_sql_write) is installed */
	const char *instance_dir; /* "" : the system's directories; else base, state and log under it */
	int unprivileged;         /* Dovecot is started by user itself, not by root */
	const struct dovecot_sni *sni;
	int nsni;
	int fleet_nodes;          /* [cluster] node set: the nodes in the nodes table */
};

/* The dovecot.conf, appended to out. 0, or -1 with err set (IMAP not
 * enabled, a value Dovecot's syntax cannot carry, a node of a fleet whose
 * IMAP proxying could not be verified, out of memory). */
int dovecot_conf_write(const struct dovecot_conf_in *in, struct buf *out, char *err, size_t errlen);
/* The passdb's SQL file for cfg's store, appended to out; fleet_nodes as
 * in dovecot_conf_in. 0 or -1 with err. */
int dovecot_sql_write(const struct config *cfg, int fleet_nodes, struct buf *out, char *err, size_t errlen);
/* The certificate name of an SNI file as hostmail's TLS reads sni_dir:
 * "x.crt" -> "x", "_wildcard.x.crt" -> "*.x". 0, or -1 if file is not a
 * certificate's name. */
int dovecot_sni_name(const char *file, char *out, size_t outlen);

#endif
