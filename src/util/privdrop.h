/*
 * privdrop: least privilege. hostmaild started as root binds its ports and
 * loads its keys as root, then runs as [server] user, which owns the data
 * directory; it refuses to run on as root. hostmailctl run by root becomes
 * the same user before it touches the data directory, so that nothing it
 * creates (a Maildir, the database's journal) is root's.
 */
#ifndef HM_PRIVDROP_H
#define HM_PRIVDROP_H
#include <stddef.h>

/* Whether user names a user that root may switch to: 0, or -1 with err
 * (empty: root must not run on as root; no such user; uid 0). */
int priv_check(const char *user, char *err, size_t errlen);

/* Give data_dir and everything below it to user (only entries owned by
 * someone else are changed), then switch to user (initgroups, setgid,
 * setuid) and check that root cannot be regained. Call as root only.
 * 0, or -1 with a message in err (no such user, a user with uid 0, a
 * failed switch). */
int priv_drop_tree(const char *user, const char *data_dir, char *err, size_t errlen);

/* The same switch, giving only data_dir itself to user (created 0700 if
 * missing): what hostmailctl needs, without walking every Maildir. */
int priv_drop_top(const char *user, const char *data_dir, char *err, size_t errlen);

#endif
