/*
 * move_recv: the new home's side of hostmailctl account move (docs/cluster.md,
 * "Moving an account"). On the internal endpoint ([listen] pop3_cluster:
 * TLS with a node certificate, so only a node gets here), before any
 * login:
 *
 *   XMOVE PUT mailbox new|cur name size sha256-hex
 *     "+OK present": a file with this Maildir unique name (the part before
 *     ':', the POP3 UIDL) is here already (renamed to name if its flags
 *     differ); nothing to send. "+ send": the client sends exactly size
 *     bytes, written to tmp/, checked (size and SHA-256), fsynced and
 *     renamed to new|cur/name, the directory fsynced: "+OK stored", or
 *     "-ERR" and nothing is kept.
 *   XMOVE DROP mailbox
 *     the move is undone before its switch: the mailbox's Maildir here
 *     (only files a move put there: the account's home is another node)
 *     is removed. "+OK dropped".
 *
 * Every command first checks in the store that the mailbox's account is
 * being moved to this node (account_moves), and DROP that the move has not
 * switched. File work runs on the worker pool, a chunk at a time (at most
 * the session's 64 KiB input buffer), never on the event loop.
 */
#ifndef HM_MOVE_RECV_H
#define HM_MOVE_RECV_H
#include <stddef.h>

struct pop3_session;
struct move_put;

int move_recv_is_cmd(const struct pop3_session *s, const char *line, size_t len);
void move_recv_cmd(struct pop3_session *s, const char *line, size_t len);
/* Bytes of a PUT arrived (s->put set). */
void move_recv_input(struct pop3_session *s);
void move_recv_free(struct move_put *p);

/* A command line of the endpoint, parsed (pure: unit-tested and fuzzed
 * in tests/fuzz/fuzz_cluster_cmd.c). */
struct move_cmd {
	int drop;                  /* XMOVE DROP; else PUT */
	char mailbox[320];
	char sub[4];               /* "new" or "cur" */
	char name[256];
	unsigned long long size;
	unsigned char sha256[32];
};
/* line: the whole "XMOVE ..." line (NUL-terminated). 0, or -1 (syntax). */
int move_cmd_parse(const char *line, struct move_cmd *out);

/* Checks shared with the sender: a Maildir file name a move may carry
 * (1..255 bytes, printable, no '/', not starting with '.'). */
int move_name_ok(const char *name);

#endif
