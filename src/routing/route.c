/*
 * route: the expansion of an address into its final targets (route.h).
 * Depth-first over aliases with the path kept for loop detection; the
 * targets are collected without duplicates.
 */
#include "routing/route.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct walk {
	const struct route_db *db;
	struct route_result *out;
	const char *path[ROUTE_MAX_DEPTH + 1];
	int depth;
};

int route_is_role(const char *local)
{
	return strcasecmp(local, "postmaster") == 0 || strcasecmp(local, "abuse") == 0;
}

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

static void local_of(const char *addr, char *out, size_t outlen)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, addr, n);
	out[n] = '\0';
}

static int fail(struct walk *w, enum route_kind k, const char *fmt, const char *a)
{
	w->out->kind = k;
	snprintf(w->out->why, sizeof w->out->why, fmt, a);
	return -1;
}

static int add(struct walk *w, const char *addr, int local)
{
	struct route_result *o = w->out;

	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->t[i].addr, addr))
			return 0;
	if (o->n == ROUTE_MAX_TARGETS)
		return fail(w, ROUTE_LOOP, "5.4.6 too many forwarding targets via <%s>", addr);
	snprintf(o->t[o->n].addr, sizeof o->t[o->n].addr, "%s", addr);
	o->t[o->n++].local = local;
	return 0;
}

static int expand(struct walk *w, const char *addr);

/* The targets of alias addr (text "a,b,c"), each expanded. */
static int expand_alias(struct walk *w, const char *addr, const char *targets)
{
	char one[320];

	while (*targets) {
		size_t k = strcspn(targets, ",");
		if (k > 0 && k < sizeof one) {
			memcpy(one, targets, k);
			one[k] = '\0';
			if (!strcmp(one, addr)) {
				/* the alias keeps a copy in its own mailbox */
				int m = w->db->mailbox(w->db->arg, addr);
				if (m < 0)
					return fail(w, ROUTE_TEMP, "4.3.0 account store unavailable (%s)", addr);
				if (m == 0)
					return fail(w, ROUTE_UNKNOWN, "5.1.1 <%s>: alias keeps a copy but has no mailbox", addr);
				if (add(w, addr, 1) < 0)
					return -1;
			} else if (expand(w, one) < 0) {
				return -1;
			}
		}
		targets += k;
		if (*targets == ',')
			targets++;
	}
	return 0;
}

/* What addr stands for when it is neither alias nor mailbox: the role
 * addresses' contact, else the catch-all; 0 when neither. */
static int fallback(struct walk *w, const char *addr, char *to, size_t tolen)
{
	char local[256];
	int rc;

	local_of(addr, local, sizeof local);
	if (route_is_role(local)) {
		rc = w->db->contact(w->db->arg, domain_of(addr), to, tolen);
		if (rc < 0 || (rc == 1 && to[0]))
			return rc;
	}
	return w->db->catchall(w->db->arg, domain_of(addr), to, tolen);
}

static int expand(struct walk *w, const char *addr)
{
	char targets[4096], to[320];
	int rc;

	for (int i = 0; i < w->depth; i++)
		if (!strcmp(w->path[i], addr))
			return fail(w, ROUTE_LOOP, "5.4.6 forwarding loop through <%s>", addr);
	if (w->depth == ROUTE_MAX_DEPTH)
		return fail(w, ROUTE_LOOP, "5.4.6 forwarding chain too long at <%s>", addr);
	if ((rc = w->db->hosted(w->db->arg, domain_of(addr))) <= 0)
		return rc < 0 ? fail(w, ROUTE_TEMP, "4.3.0 account store unavailable (%s)", addr) : add(w, addr, 0);
	w->path[w->depth++] = addr;
	if ((rc = w->db->alias(w->db->arg, addr, targets, sizeof targets)) == 1) {
		rc = expand_alias(w, addr, targets);
	} else if (rc == 0 && (rc = w->db->mailbox(w->db->arg, addr)) == 1) {
		rc = add(w, addr, 1);
	} else if (rc == 0 && (rc = fallback(w, addr, to, sizeof to)) == 1) {
		rc = to[0] ? expand(w, to) : fail(w, ROUTE_UNKNOWN, "5.1.1 <%s>: no contact mailbox for the domain", addr);
	} else if (rc == 0) {
		rc = fail(w, ROUTE_UNKNOWN, "5.1.1 <%s>: no such mailbox", addr);
	} else if (rc < 0 && w->out->kind != ROUTE_UNKNOWN && w->out->kind != ROUTE_LOOP) {
		rc = fail(w, ROUTE_TEMP, "4.3.0 account store unavailable (%s)", addr);
	}
	w->depth--;
	return rc < 0 ? -1 : 0;
}

void route_resolve(const struct route_db *db, const char *addr, int seen, struct route_result *out)
{
	struct walk w = { .db = db, .out = out };
	char targets[4096], self[330];
	int rc;

	memset(out, 0, sizeof *out);
	out->kind = ROUTE_FORWARD;
	/* the plain case first: no alias, a mailbox (one or two lookups) */
	rc = db->alias(db->arg, addr, targets, sizeof targets);
	if (rc == 0 && (rc = db->mailbox(db->arg, addr)) == 1) {
		out->kind = ROUTE_MAILBOX;
		return;
	}
	if (rc < 0) {
		fail(&w, ROUTE_TEMP, "4.3.0 account store unavailable (%s)", addr);
		return;
	}
	if (seen) {
		/* back again through this alias: deliver its own copy, if it keeps one, and stop */
		snprintf(self, sizeof self, ",%s,", addr);
		char list[4100];
		snprintf(list, sizeof list, ",%s,", targets);
		if (rc == 1 && strstr(list, self) && db->mailbox(db->arg, addr) == 1)
			out->kind = ROUTE_MAILBOX;
		else
			fail(&w, ROUTE_LOOP, "5.4.6 forwarding loop: the message came back to <%s>", addr);
		return;
	}
	/* a local recipient whose domain went away meanwhile is no outside address */
	if ((rc = db->hosted(db->arg, domain_of(addr))) <= 0) {
		fail(&w, rc < 0 ? ROUTE_TEMP : ROUTE_UNKNOWN,
		     rc < 0 ? "4.3.0 account store unavailable (%s)" : "5.1.1 <%s>: domain not hosted here", addr);
		return;
	}
	if (expand(&w, addr) < 0)
		return;
	if (out->n == 0)
		fail(&w, ROUTE_UNKNOWN, "5.1.1 <%s>: no deliverable target", addr);
}

/* Does header line p[0..n) start with name (case-insensitive) then ':'? */
static int field_is(const char *p, size_t n, const char *name, const char **value)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(p, name, k) != 0)
		return 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (k >= n || p[k] != ':')
		return 0;
	*value = p + k + 1;
	return 1;
}

int route_header_loop(const char *hdr, size_t len, const char *addr, int *hops)
{
	size_t i = 0, alen = strlen(addr);
	int received = 0;

	*hops = 0;
	while (i < len) {
		const char *line = hdr + i, *v, *e = memchr(line, '\n', len - i);
		size_t n = e ? (size_t)(e - line) : len - i;
		if (n == 0 || (n == 1 && line[0] == '\r'))
			break;               /* the end of the header */
		if (field_is(line, n, "Received", &v) && ++received >= ROUTE_MAX_HOPS) {
			*hops = 1;
			return 1;
		}
		if (field_is(line, n, "Delivered-To", &v)) {
			size_t vl = n - (size_t)(v - line);
			while (vl && (*v == ' ' || *v == '\t' || *v == '<'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '>'))
				vl--;
			if (vl == alen && strncasecmp(v, addr, alen) == 0)
				return 1;
		}
		i += n + 1;
	}
	return 0;
}
