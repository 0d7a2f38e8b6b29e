/* connlimit: per-IP session counts in a chained hash table (see connlimit.h). */
#include "daemon/connlimit.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

struct entry {
	char ip[48];
	int n;
	struct entry *next;
};

struct connlimit {
	struct entry *b[BUCKETS];
	int total;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % BUCKETS;
}

struct connlimit *connlimit_new(void)
{
	return calloc(1, sizeof(struct connlimit));
}

void connlimit_free(struct connlimit *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < BUCKETS; i++) {
		struct entry *e = c->b[i], *n;
		for (; e; e = n) {
			n = e->next;
			free(e);
		}
	}
	free(c);
}

static struct entry **find(struct connlimit *c, const char *ip)
{
	struct entry **pe = &c->b[hash(ip)];

	while (*pe && strcmp((*pe)->ip, ip) != 0)
		pe = &(*pe)->next;
	return pe;
}

int connlimit_acquire(struct connlimit *c, const char *ip, int max_total, int max_per_ip)
{
	struct entry **pe, *e;

	if (c->total >= max_total)
		return CONN_TOO_MANY;
	pe = find(c, ip);
	if (*pe && (*pe)->n >= max_per_ip)
		return CONN_TOO_MANY_FROM_IP;
	if (!*pe) {
		if (!(e = calloc(1, sizeof *e)))
			return CONN_TOO_MANY;
		snprintf(e->ip, sizeof e->ip, "%s", ip);
		*pe = e;
	}
	(*pe)->n++;
	c->total++;
	return CONN_OK;
}

void connlimit_release(struct connlimit *c, const char *ip)
{
	struct entry **pe = find(c, ip), *e = *pe;

	if (!e)
		return;
	c->total--;
	if (--e->n == 0) {
		*pe = e->next;
		free(e);
	}
}

int connlimit_total(const struct connlimit *c)
{
	return c->total;
}
