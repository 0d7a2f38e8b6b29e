/* throttle: bounded per-IP failure table (see throttle.h). */
#include "auth/throttle.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096
#define PROBE 16

struct slot {
	char ip[48];
	time_t first;         /* start of the current window */
	time_t blocked_until;
	time_t last;
	int failures;
	int inflight;         /* attempts begun and not yet ended */
};

struct throttle {
	int max, window, block;
	struct slot slots[SLOTS];
};

struct throttle *throttle_new(int max_failures, int window, int block)
{
	struct throttle *t = calloc(1, sizeof *t);

	if (t) {
		t->max = max_failures;
		t->window = window;
		t->block = block;
	}
	return t;
}

void throttle_free(struct throttle *t)
{
	free(t);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int expired(const struct throttle *t, const struct slot *s, time_t now)
{
	return s->ip[0] == '\0' || (s->inflight == 0 && now >= s->blocked_until && now - s->first > t->window);
}

/* The slot for ip: existing, else a free or expired one, else the oldest. */
static struct slot *lookup(struct throttle *t, const char *ip, time_t now, int create)
{
	uint32_t h = hash(ip);
	struct slot *spare = NULL, *oldest = NULL;
	int i;

	for (i = 0; i < PROBE; i++) {
		struct slot *s = &t->slots[(h + (uint32_t)i) % SLOTS];
		if (s->ip[0] && strcmp(s->ip, ip) == 0)
			return s;
		if (!spare && expired(t, s, now))
			spare = s;
		if (!oldest || s->last < oldest->last)
			oldest = s;
	}
	if (!create)
		return NULL;
	if (!spare)
		spare = oldest;
	memset(spare, 0, sizeof *spare);
	snprintf(spare->ip, sizeof spare->ip, "%s", ip);
	spare->first = now;
	return spare;
}

int throttle_blocked(struct throttle *t, const char *ip, time_t now)
{
	struct slot *s = lookup(t, ip, now, 0);

	if (!s || now >= s->blocked_until)
		return 0;
	return (int)(s->blocked_until - now);
}

int throttle_failure(struct throttle *t, const char *ip, time_t now)
{
	struct slot *s = lookup(t, ip, now, 1);

	if (now - s->first > t->window) {
		s->first = now;
		s->failures = 0;
	}
	s->last = now;
	if (++s->failures >= t->max && now >= s->blocked_until) {
		s->blocked_until = now + t->block;
		s->failures = 0;
		s->first = now;
		return 1;
	}
	return 0;
}

int throttle_begin(struct throttle *t, const char *ip, time_t now)
{
	struct slot *s = lookup(t, ip, now, 1);

	if (now < s->blocked_until)
		return (int)(s->blocked_until - now);
	if (now - s->first > t->window) {
		s->first = now;
		s->failures = 0;
	}
	if (s->failures + s->inflight >= t->max)
		return 1; /* let the attempts in flight finish first */
	s->inflight++;
	s->last = now;
	return 0;
}

int throttle_end(struct throttle *t, const char *ip, time_t now, int failed)
{
	struct slot *s = lookup(t, ip, now, 0);

	if (s && s->inflight > 0)
		s->inflight--;
	return failed ? throttle_failure(t, ip, now) : 0;
}
