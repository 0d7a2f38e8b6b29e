/*
 * maildir_lock: an exclusive flock(2) on a Maildir's own directory, taken
 * by a POP3 session while it removes the messages deleted at QUIT
 * (pop3_cmds.c, in a fleet only) and, once per mailbox, by an account move
 * after it recorded its begin (cluster/move_send.c). So a QUIT that was
 * removing files finishes before the move copies them, and every later
 * QUIT finds the move in the store. Deliveries and Dovecot do not take it.
 * Blocking: call on a worker (or in hostmailctl).
 */
#ifndef HM_MAILDIR_LOCK_H
#define HM_MAILDIR_LOCK_H

/* Lock the directory dir, waiting at most wait_ms for another holder: the
 * lock's descriptor (>= 0), or -1 with errno (ETIMEDOUT: still held). */
int maildir_lock(const char *dir, int wait_ms);
/* Release a lock maildir_lock returned (a negative fd is ignored). */
void maildir_unlock(int fd);

#endif
