/*
 * queue: the durable message queue in data_dir/queue.
 *
 *   queue/tmp/ID.msg  message being received (streamed as it arrives)
 *   queue/env/ID      the queued message: envelope and message bytes in one
 *                     file (format in envelope.c), the commit point
 *   queue/msg/ID      message bytes of a version 1 envelope (queues from
 *                     before the one-file format; read, never written)
 *
 * Acceptance (spool_commit) = write the envelope header after the message
 * bytes, fsync, rename into env/, fsync env/ (group commit: one directory
 * fsync serves every message that reaches that point together, see
 * util/dirsync.h). Only then may the server say 250: two fsyncs, and the
 * second shared. An envelope in env/ means the message is accepted; a
 * file in tmp/ (or a msg/ file without its envelope) is debris from a
 * crash and is removed by queue_recover().
 *
 * Per-recipient progress is appended to the envelope as records and
 * fsynced ("D idx" done, "F idx reason" failed permanently, "T idx when
 * reason" tempfail with next attempt), so a restart never repeats a
 * finished recipient; a torn last record (no trailing newline) is ignored.
 * "B idx" / "W idx" record that the sender was sent a failure report /
 * a delay warning about a recipient, so neither is sent twice.
 *
 * A message can be held (quarantined): "Q reason" puts it on hold, "K
 * when" releases it; the last one wins. A held message stays in the
 * queue, as durable as any, but the runner neither delivers it nor
 * expires it nor sends delay warnings about it until it is released; its
 * age for max_age and the warnings counts from its release. A filter's
 * hold is written with the commit itself (envelope.hold set before
 * spool_commit), so a message is never deliverable before it is held.
 *
 * The next attempt lives in the file's metadata too, as Postfix keeps it
 * for a deferred queue file: after a delivery step the runner sets the
 * modification time of env/ID to when the message is next due (the
 * earliest next attempt of its pending recipients), so that a restart
 * learns every message's due time with one stat per file (queue_scan),
 * opening none. It is a hint, never the truth: the "T" records inside
 * decide what is attempted. Every append (and the commit) sets the mtime
 * to the present, so a hint lost in a crash, or never written, makes the
 * message due at once: it is opened early, finds nothing due, and is
 * put back at its real time. A hint too far ahead (a clock stepped back)
 * is bounded by the runner.
 */
#ifndef HM_QUEUE_H
#define HM_QUEUE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QUEUE_ID_LEN 20
/* Where the message bytes start in a version 2 envelope: after "V 2 ",
 * 20 digits of size and "\n". */
#define QUEUE_MSG_OFFSET 25

enum rcpt_state { RCPT_PENDING = 0, RCPT_DONE, RCPT_FAILED };

struct env_rcpt {
	char addr[320];        /* local@domain as given in RCPT TO */
	int local;             /* 1 = a hosted mailbox (deliver to Maildir) */
	enum rcpt_state state;
	int attempts;
	time_t next_attempt;
	char reason[512];      /* last failure text (no CR/LF) */
	int bounced;           /* the sender got a failure report about it */
	int warned;            /* the sender got a delay warning about it */
};

struct envelope {
	char id[QUEUE_ID_LEN + 1];
	time_t arrival;
	char sender[320];      /* "" = null sender */
	char client_ip[64];
	char helo[256];
	char account[64];      /* authorized account, "" if none */
	uint64_t size;         /* bytes of the message */
	int msg_in_env;        /* 1: the message is in env/ID (version 2), 0: in msg/ID */
	uint64_t msg_offset;   /* where its bytes start in that file */
	char hold[256];        /* on hold, for this reason; "" = not held */
	time_t released;       /* when it was last released from hold; 0 = never */
	size_t nrcpt;
	struct env_rcpt *rcpt;
};

struct spool;

/* A new unique id (thread-safe; ids sort by creation time, [0-9A-Z] only). */
void queue_new_id(char out[QUEUE_ID_LEN + 1]);
/* 1 if id has the shape of a queue id (safe to use in a path), else 0. */
int queue_id_valid(const char *id);

/* Create queue/{tmp,msg,env} if missing. 0 or -1 (errno). */
int queue_init(const char *queue_dir);
/* Open a new message file; its id is spool_id(). NULL + errno on failure. */
struct spool *spool_begin(const char *queue_dir);
const char *spool_id(const struct spool *sp);
/* Append message bytes (plain write(2), no fsync). -1 + errno. */
int spool_write(struct spool *sp, const void *p, size_t n);
/* Bytes written so far. */
uint64_t spool_size(const struct spool *sp);
/* Make it durable (see above); env->id and env->size are filled in. Blocks:
 * call on a worker. On success the spool is freed. On failure (-1 + errno)
 * nothing is left on disk and the spool is freed too. */
int spool_commit(struct spool *sp, struct envelope *env);
/* For header fields known only once the whole message is in (the DKIM
 * signatures): a descriptor reading the message from its first byte
 * (close it), or -1 + errno; and the message rewritten with p[0..n)
 * before it (spool_prepend.c: a copy into a new temporary file renamed
 * over the old; nothing is durable before spool_commit anyway). Blocks:
 * call on a worker. 0 or -1 + errno (the spool is unchanged). */
int spool_open_read(const struct spool *sp);
int spool_prepend(struct spool *sp, const void *p, size_t n);
/* The same, p[0..n) replacing the message's first skip bytes (a milter's
 * header edits: skip is the old header section; the whole message when a
 * filter replaced the body, which is then written with spool_write). */
int spool_replace_head(struct spool *sp, const void *p, size_t n, uint64_t skip);
/* Throw the message away (unlink the temp file) and free. */
void spool_abort(struct spool *sp);

/* Read queue/env/ID (applying progress records). 0, or -1 + errno. */
int envelope_load(const char *queue_dir, const char *id, struct envelope *out);
void envelope_free(struct envelope *env);
/* Append a progress record for recipient idx and fsync. 0 or -1 + errno. */
int envelope_mark_done(const char *queue_dir, const char *id, size_t idx);
/* The same without the fsync, for the recipient that makes the message
 * final when queue_remove follows at once: its unlink and directory fsync
 * make the record moot. A killed daemon loses nothing unsynced (the page
 * cache stays); only a power loss in between can drop the record, and then
 * the message is delivered again, as after a power loss just before an
 * fsynced record: the window is one fsync long either way. */
int envelope_mark_last_done(const char *queue_dir, const char *id, size_t idx);
int envelope_mark_failed(const char *queue_dir, const char *id, size_t idx, const char *reason);
int envelope_mark_tempfail(const char *queue_dir, const char *id, size_t idx,
                           time_t next_attempt, const char *reason);
/* Record that reports went out about recipients idx[0..n): failure reports
 * ("B") or, with delayed, delay warnings ("W"). One append, one fsync. */
int envelope_mark_notified(const char *queue_dir, const char *id, const size_t *idx, size_t n,
                           int delayed);
/* Put message id on hold for reason (non-empty, CR/LF become spaces;
 * held again: the new reason) or release it (when: the time of the
 * release). One fsynced record each; ENOENT: not queued. 0 or -1 + errno. */
int envelope_hold(const char *queue_dir, const char *id, const char *reason);
int envelope_release(const char *queue_dir, const char *id, time_t when);
/* When the message's time in the queue started: its arrival, or its
 * last release from hold (the time held does not count toward max_age). */
time_t envelope_age_base(const struct envelope *env);
/* Remove message and envelope (envelope first). 0 or -1 + errno. */
int queue_remove(const char *queue_dir, const char *id);
/* The file holding the message bytes of a loaded envelope (env/ID, or
 * msg/ID for version 1) into out; they start at env->msg_offset and are
 * env->size long. */
void queue_msg_path(const char *queue_dir, const struct envelope *env, char *out, size_t outlen);

/* 1 if message id is queued (env/ID exists: one stat, no open), 0 if not,
 * -1 + errno (EINVAL: id is not a queue id). */
int queue_exists(const char *queue_dir, const char *id);
/* Set env/ID's modification time to when, the message's next attempt
 * (see above). Not synced: losing it is harmless. 0 or -1 + errno. */
int queue_set_next_attempt(const char *queue_dir, const char *id, time_t when);

/* A queued message as a restart finds it. */
struct queue_entry {
	char id[QUEUE_ID_LEN + 1];
	time_t next_attempt;   /* the file's mtime: when it is due (past = now) */
};

/* Remove crash debris: all of tmp/, and msg/ files without an envelope.
 * Only before anything is spooled (at start). 0 or -1 + errno. */
int queue_sweep(const char *queue_dir);
/* Every queued message with its next attempt, from one stat per file of
 * env/ (no open, no read), oldest id first, into *out (malloc'ed; free
 * it). Count, or -1 + errno. */
int queue_scan(const char *queue_dir, struct queue_entry **out);
/* Call cb for each queued envelope, oldest first (for `hostmailctl queue
 * list`); no queue directory yet counts as an empty queue. Count or -1. */
int queue_list(const char *queue_dir, int (*cb)(const struct envelope *, void *), void *arg);

#endif
