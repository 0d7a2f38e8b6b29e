/*
 * sched: the queue runner's schedule, in memory: every queued message by
 * id, and for each the time it is next due. A binary min-heap orders the
 * waiting messages by due time (ties by id, which sorts by arrival), and
 * a hash table finds any message by id: finding is O(1); adding,
 * rescheduling and removing are O(log n); the earliest is O(1).
 *
 * An entry is either waiting (in the heap, with a due time) or held (out
 * of the heap: its owner is working on it), and carries a pointer and
 * flag bits for the owner (the runner keeps its job and "flushed" there).
 * Pure: no clock, no I/O (the caller says what now is), one thread.
 */
#ifndef HM_SCHED_H
#define HM_SCHED_H
#include "queue/queue.h"
#include <stddef.h>
#include <time.h>

struct sched;
struct sched_ent;

struct sched *sched_new(void);
/* Free the schedule and every entry (not what their data points to). */
void sched_free(struct sched *s);

/* The entry of id, or NULL if it is not known. */
struct sched_ent *sched_find(const struct sched *s, const char *id);
/* The entry of id; a new one (held, data NULL, flags 0) if it was not
 * known, its place in the heap reserved. NULL + errno: ENOMEM, or EINVAL
 * (id longer than QUEUE_ID_LEN). */
struct sched_ent *sched_add(struct sched *s, const char *id);
/* Make e wait until due: into the heap, or moved within it. Cannot fail. */
void sched_wait(struct sched *s, struct sched_ent *e, time_t due);
/* Take e out of the heap (if it waits there); it stays known. */
void sched_hold(struct sched *s, struct sched_ent *e);
/* Forget e and free it; e is invalid afterwards. */
void sched_del(struct sched *s, struct sched_ent *e);

/* The waiting entry due first, or NULL if none waits. */
struct sched_ent *sched_first(const struct sched *s);
/* The waiting entry due first if it is due at now or before, held from
 * now on; else NULL. */
struct sched_ent *sched_pop_due(struct sched *s, time_t now);

const char *sched_id(const struct sched_ent *e);
int sched_is_waiting(const struct sched_ent *e);
/* When e is due (meaningful while it waits). */
time_t sched_due(const struct sched_ent *e);
void *sched_data(const struct sched_ent *e);
void sched_set_data(struct sched_ent *e, void *data);
unsigned sched_flags(const struct sched_ent *e);
void sched_set_flags(struct sched_ent *e, unsigned flags);

/* Entries known, and of them waiting. */
size_t sched_count(const struct sched *s);
size_t sched_nwaiting(const struct sched *s);
/* Call fn for every known entry, in no particular order. fn may move
 * entries (sched_wait, sched_hold, flags, data), never add or delete. */
void sched_each(struct sched *s, void (*fn)(struct sched *s, struct sched_ent *e, void *arg),
                void *arg);

#endif
