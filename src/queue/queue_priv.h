/*
 * queue_priv: shared between the files of src/queue only (not a public API).
 */
#ifndef HM_QUEUE_PRIV_H
#define HM_QUEUE_PRIV_H
#include "queue/queue.h"
#include "util/buf.h"

/* Far above any per-message limit, so a corrupt count stays bounded. */
#define QUEUE_MAX_RCPT 100000

/* "queue_dir/sub[/name]suffix" into out; -1 + ENAMETOOLONG if it does not fit. */
int queue_path(char *out, size_t len, const char *qdir, const char *sub,
               const char *name, const char *suffix);
/* "queue_dir/sub/id" for a client-given id: -1 + EINVAL if the id is not
 * one the queue makes (so no path ever leaves the queue), ENAMETOOLONG if
 * it does not fit. */
int queue_id_path(char *out, size_t len, const char *qdir, const char *sub, const char *id);
/* The envelope header (up to and including "E") for env, appended to b. */
int env_format(struct buf *b, const struct envelope *env);

#endif
