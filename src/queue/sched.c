/*
 * sched: the runner's in-memory schedule (interface in sched.h). Entries
 * are allocated one by one, so a pointer to one stays valid while the
 * table and the heap grow. The index is a chained hash table (FNV-1a of
 * the id) of a power-of-two size that doubles past one entry a bucket;
 * the heap is an array of entry pointers, each entry knowing its place
 * in it, so an entry anywhere in the heap moves or leaves in O(log n).
 */
#include "queue/sched.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOT_WAITING SIZE_MAX
#define MIN_BUCKETS 64

struct sched_ent {
	struct sched_ent *next;      /* hash chain */
	void *data;
	time_t due;
	size_t pos;                  /* in the heap; NOT_WAITING when held */
	uint32_t hash;
	unsigned flags;
	char id[QUEUE_ID_LEN + 1];
};

struct sched {
	struct sched_ent **bucket;
	size_t nbuckets;             /* a power of two */
	size_t count;
	struct sched_ent **heap;
	size_t nheap, heapcap;
};

static uint32_t hash_id(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

struct sched *sched_new(void)
{
	struct sched *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	if (!(s->bucket = calloc(MIN_BUCKETS, sizeof *s->bucket))) {
		free(s);
		return NULL;
	}
	s->nbuckets = MIN_BUCKETS;
	return s;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t b = 0; b < s->nbuckets; b++) {
		struct sched_ent *e = s->bucket[b], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(s->bucket);
	free(s->heap);
	free(s);
}

/* ---- the index ---- */

struct sched_ent *sched_find(const struct sched *s, const char *id)
{
	uint32_t h = hash_id(id);

	for (struct sched_ent *e = s->bucket[h & (s->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* Double the table; on failure keep the old one (only slower). */
static void grow_index(struct sched *s)
{
	size_t n = s->nbuckets * 2;
	struct sched_ent **b = calloc(n, sizeof *b);

	if (!b)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sched_ent *e = s->bucket[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->bucket);
	s->bucket = b;
	s->nbuckets = n;
}

/* Room in the heap for every entry, so that sched_wait cannot fail. */
static int heap_reserve(struct sched *s, size_t n)
{
	struct sched_ent **h;
	size_t cap;

	if (n <= s->heapcap)
		return 0;
	cap = s->heapcap ? s->heapcap * 2 : 64;
	if (!(h = realloc(s->heap, cap * sizeof *h)))
		return -1;
	s->heap = h;
	s->heapcap = cap;
	return 0;
}

struct sched_ent *sched_add(struct sched *s, const char *id)
{
	struct sched_ent *e;
	size_t len = strnlen(id, QUEUE_ID_LEN + 1);

	if (len > QUEUE_ID_LEN) {
		errno = EINVAL;
		return NULL;
	}
	if ((e = sched_find(s, id)))
		return e;
	if (heap_reserve(s, s->count + 1) < 0 || !(e = calloc(1, sizeof *e))) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(e->id, id, len + 1);
	e->hash = hash_id(id);
	e->pos = NOT_WAITING;
	e->next = s->bucket[e->hash & (s->nbuckets - 1)];
	s->bucket[e->hash & (s->nbuckets - 1)] = e;
	if (++s->count > s->nbuckets)
		grow_index(s);
	return e;
}

/* ---- the heap ---- */

static int before(const struct sched_ent *a, const struct sched_ent *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return strcmp(a->id, b->id) < 0;
}

static void put(struct sched *s, size_t i, struct sched_ent *e)
{
	s->heap[i] = e;
	e->pos = i;
}

static void sift_up(struct sched *s, size_t i)
{
	struct sched_ent *e = s->heap[i];

	while (i > 0 && before(e, s->heap[(i - 1) / 2])) {
		put(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	put(s, i, e);
}

static void sift_down(struct sched *s, size_t i)
{
	struct sched_ent *e = s->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], e))
			break;
		put(s, i, s->heap[c]);
		i = c;
	}
	put(s, i, e);
}

void sched_wait(struct sched *s, struct sched_ent *e, time_t due)
{
	if (e->pos == NOT_WAITING) {
		e->due = due; /* sched_add made room for every entry */
		put(s, s->nheap++, e);
		sift_up(s, e->pos);
		return;
	}
	if (due < e->due) {
		e->due = due;
		sift_up(s, e->pos);
	} else if (due > e->due) {
		e->due = due;
		sift_down(s, e->pos);
	}
}

void sched_hold(struct sched *s, struct sched_ent *e)
{
	size_t i = e->pos;
	struct sched_ent *last;

	if (i == NOT_WAITING)
		return;
	e->pos = NOT_WAITING;
	last = s->heap[--s->nheap];
	if (last == e)
		return;
	put(s, i, last);
	if (i > 0 && before(last, s->heap[(i - 1) / 2]))
		sift_up(s, i);
	else
		sift_down(s, i);
}

void sched_del(struct sched *s, struct sched_ent *e)
{
	struct sched_ent **pp = &s->bucket[e->hash & (s->nbuckets - 1)];

	sched_hold(s, e);
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	s->count--;
	free(e);
}

struct sched_ent *sched_first(const struct sched *s)
{
	return s->nheap ? s->heap[0] : NULL;
}

struct sched_ent *sched_pop_due(struct sched *s, time_t now)
{
	struct sched_ent *e = sched_first(s);

	if (!e || e->due > now)
		return NULL;
	sched_hold(s, e);
	return e;
}

/* ---- the rest ---- */

const char *sched_id(const struct sched_ent *e) { return e->id; }
int sched_is_waiting(const struct sched_ent *e) { return e->pos != NOT_WAITING; }
time_t sched_due(const struct sched_ent *e) { return e->due; }
void *sched_data(const struct sched_ent *e) { return e->data; }
void sched_set_data(struct sched_ent *e, void *data) { e->data = data; }
unsigned sched_flags(const struct sched_ent *e) { return e->flags; }
void sched_set_flags(struct sched_ent *e, unsigned flags) { e->flags = flags; }
size_t sched_count(const struct sched *s) { return s->count; }
size_t sched_nwaiting(const struct sched *s) { return s->nheap; }

void sched_each(struct sched *s, void (*fn)(struct sched *, struct sched_ent *, void *), void *arg)
{
	for (size_t b = 0; b < s->nbuckets; b++)
		for (struct sched_ent *e = s->bucket[b]; e; e = e->next)
			fn(s, e, arg);
}
