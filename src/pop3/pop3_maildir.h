/*
 * pop3_maildir: the POP3 view of one Maildir. At login the mailbox is
 * snapshotted: every message of new/ moves to cur/ (":2," appended, as
 * Dovecot and mutt do), cur/ is listed, and that list, in delivery order,
 * is the maildrop for the whole session (mail delivered meanwhile waits for
 * the next one). A message that cannot be moved (a name too long for the
 * info part is moved without it; a failing rename leaves it in new/) is
 * still served, from where it is. Sizes come from the W= field of the file name (the size
 * with CRLF line ends), so STAT and LIST read no file; a name without W=
 * is measured once. The UIDL is the Maildir unique name (the base name
 * before ':'), so it survives sessions, flag changes and restarts (two
 * files with one base name: the later one's UIDL is a digest of its whole name).
 * Files left in tmp/ for 36 hours (deliveries that died) are removed at
 * login, as the Maildir convention asks of readers.
 * Deletions are applied at QUIT by pop3_mailbox_commit. Blocking: call
 * open and commit on a worker thread.
 */
#ifndef HM_POP3_MAILDIR_H
#define HM_POP3_MAILDIR_H
#include <stddef.h>
#include <stdint.h>

#define POP3_UIDL_MAX 70   /* RFC 1939: 1 to 70 characters 0x21..0x7e */

struct pop3_msg {
	char *name;        /* file name in cur/ */
	uint64_t size;     /* octets as sent by RETR (CRLF line ends) */
	int deleted;       /* marked by DELE */
	int in_new;        /* could not be moved: still in new/ */
	int uidl_whole_name; /* its base name is another message's: UIDL from the whole name */
};

struct pop3_mailbox {
	char *path;        /* the Maildir (holding tmp/ new/ cur/) */
	struct pop3_msg *msgs;
	size_t n;
	size_t unmoved;    /* messages left in new/ because rename failed */
	int tmp_removed;   /* stale files removed from tmp/ at open */
};

/* Snapshot the Maildir at path (new/ -> cur/, durably). 0, or -1 with errno. */
int pop3_mailbox_open(const char *path, struct pop3_mailbox *mb);
/* Unlink every message marked deleted, then fsync cur/. Returns how many
 * could not be removed (0 = all done; a message already gone counts as removed). */
int pop3_mailbox_commit(struct pop3_mailbox *mb);
void pop3_mailbox_free(struct pop3_mailbox *mb);

/* The full path of message m into out; 0 or -1 if it does not fit. */
int pop3_msg_path(const struct pop3_mailbox *mb, const struct pop3_msg *m, char *out, size_t outlen);
/* Another Maildir client renamed message m (a flag change: same base
 * name, another info part): find it in cur/ again. 0 and *found set to
 * the new name (malloc'd), or -1 with errno (ENOENT: really gone). */
int pop3_msg_find(const struct pop3_mailbox *mb, const struct pop3_msg *m, char **found);
/* The unique-id listing of a file name: its base name (before ':') when
 * it is 1..70 printable characters, else a SHA-256-derived hex string. */
void pop3_uidl(const char *name, char out[POP3_UIDL_MAX + 1]);
/* The UIDL of message m of a snapshot: pop3_uidl of its name, unique in
 * the snapshot (a base name shared with an earlier message gives a digest
 * of the whole file name). */
void pop3_msg_uidl(const struct pop3_msg *m, char out[POP3_UIDL_MAX + 1]);
/* The W= value of a file name's base name: 0 and *size set, or -1. */
int pop3_name_wsize(const char *name, uint64_t *size);

#endif
