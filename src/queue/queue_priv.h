/*
 * queue_priv: shared between the files of src/queue only (not a public API).
 */
#ifndef HM_QUEUE_PRIV_H
#define HM_QUEUE_PRIV_H
#include "queue/queue.h"
#include "util/buf.h"
#include <limits.h>

/* A message being received (queue.c; spool_prepend.c rewrites it). */
struct spool {
	char qdir[PATH_MAX];
	char id[QUEUE_ID_LEN + 1];
	char tmp[PATH_MAX];     /* queue/tmp/ID.msg */
	int fd;
	uint64_t size;
};

/* "V 2 <size>\n" (QUEUE_MSG_OFFSET bytes): written at fd's position, or
 * with rewrite at offset 0. 0 or -1 + errno. */
int write_version(int fd, uint64_t size, int rewrite);

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
