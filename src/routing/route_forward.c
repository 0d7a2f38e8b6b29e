/*
 * route_forward: the delivery-time half of routing (route_store.h):
 * expand a recipient and, unless it is a plain mailbox, queue the
 * message anew for its targets. The copies carry a Delivered-To: field
 * naming the alias above everything else (DKIM signatures, which never
 * cover a field added on top, stay valid; nothing below is touched), by
 * which a message coming back is known (route.h). The copy for outside
 * targets gets the SRS sender, so the receiving side's SPF check passes
 * for this server and its bounces come back here to be sent on.
 */
#include "routing/route_store.h"
#include "store/store.h"
#include "store/store_rate.h"
#include "store/store_alias.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HDR_SCAN 65536
#define COPY_CHUNK 65536

static void split(const char *addr, char *local, size_t ll, char *domain, size_t dl)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	snprintf(local, ll, "%.*s", (int)n, addr);
	snprintf(domain, dl, "%s", at ? at + 1 : "");
}

/* The first bytes of the message (its header, mostly) into a new buffer. */
static char *read_head(const char *path, uint64_t off, uint64_t size, size_t *len)
{
	size_t want = size < HDR_SCAN ? (size_t)size : HDR_SCAN, got = 0;
	char *b = malloc(want + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!b || fd < 0) {
		free(b);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (got < want) {
		ssize_t n = pread(fd, b + got, want - got, (off_t)(off + got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return b;
}

/* Queue a copy of the message from sender to the targets with .local ==
 * local, "Delivered-To: via" on top (via may be NULL). 0 with id, or -1. */
static int queue_copy(const char *queue_dir, const char *sender, const char *via, const struct route_result *r,
                      int local, const char *msg_path, uint64_t off, uint64_t size, char id[QUEUE_ID_LEN + 1])
{
	struct spool *sp;
	struct envelope env;
	char line[400], *buf = NULL;
	size_t k = 0;
	uint64_t done = 0;
	int fd = -1, e;

	memset(&env, 0, sizeof env);
	if (!(env.rcpt = calloc(r->n, sizeof *env.rcpt)))
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (r->t[i].local == local) {
			snprintf(env.rcpt[k].addr, sizeof env.rcpt[k].addr, "%s", r->t[i].addr);
			env.rcpt[k++].local = local;
		}
	env.nrcpt = k;
	snprintf(env.sender, sizeof env.sender, "%s", sender);
	snprintf(env.client_ip, sizeof env.client_ip, "127.0.0.1");
	snprintf(env.helo, sizeof env.helo, "localhost");
	env.arrival = time(NULL);
	if (!(sp = spool_begin(queue_dir))) {
		free(env.rcpt);
		return -1;
	}
	if (via && (size_t)snprintf(line, sizeof line, "Delivered-To: %s\r\n", via) < sizeof line &&
	    spool_write(sp, line, strlen(line)) < 0)
		goto fail;
	if (!(buf = malloc(COPY_CHUNK)) || (fd = open(msg_path, O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	while (done < size) {
		size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)(off + done));
		if (n <= 0) {
			if (n == 0)
				errno = EIO;   /* the queued message is shorter than its envelope says */
			goto fail;
		}
		if (spool_write(sp, buf, (size_t)n) < 0)
			goto fail;
		done += (uint64_t)n;
	}
	close(fd);
	free(buf);
	e = spool_commit(sp, &env);      /* frees the spool either way */
	if (e == 0)
		memcpy(id, env.id, QUEUE_ID_LEN + 1);
	free(env.rcpt);
	return e;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	spool_abort(sp);
	free(env.rcpt);
	errno = e;
	return -1;
}

/* The sender of the copy for outside targets. 0, or -1 (out->why set). */
static int outside_sender(struct store *st, const struct srs *srs, const char *sender, char *out, size_t outlen,
                          struct route_outcome *o)
{
	char local[320], domain[256], owner[STORE_NAME_MAX];
	enum srs_rc rc;

	snprintf(out, outlen, "%s", sender);
	if (!sender[0] || !srs)
		return 0;                /* a bounce stays a bounce */
	split(sender, local, sizeof local, domain, sizeof domain);
	rc = store_domain_owner(st, domain, owner, sizeof owner);
	if (rc == 0)
		return 0;                /* our own domain: our SPF covers it */
	if (rc != STORE_ENOTFOUND) {
		snprintf(o->why, sizeof o->why, "4.3.0 account store unavailable");
		return -1;
	}
	rc = srs_forward(srs, sender, time(NULL), out, outlen);
	if (rc == SRS_OK || rc == SRS_UNCHANGED)
		return 0;
	if (rc == SRS_ESYNTAX || rc == SRS_ETOOLONG) {
		snprintf(out, outlen, "%s", sender);   /* cannot be rewritten: sent as it is */
		return 0;
	}
	snprintf(o->why, sizeof o->why, "4.3.0 SRS rewriting failed: %s", srs_strerror(rc));
	return -1;
}

/* Queue the copies for r's targets. */
static void forward(struct store *st, const struct srs *srs, const char *queue_dir, const struct envelope *env,
                    const char *via, int rewrite, const struct route_result *r, const char *msg_path,
                    uint64_t off, uint64_t size, struct route_outcome *o)
{
	char sender[SRS_ADDR_MAX], local[320], domain[256], owner[STORE_NAME_MAX];
	size_t nlocal = 0, nremote = 0;

	for (size_t i = 0; i < r->n; i++)
		r->t[i].local ? nlocal++ : nremote++;
	if (nremote && rewrite && outside_sender(st, srs, env->sender, sender, sizeof sender, o) < 0) {
		o->kind = ROUTE_TEMP;
		return;
	}
	if (!rewrite)
		snprintf(sender, sizeof sender, "%s", env->sender);
	if ((nlocal && queue_copy(queue_dir, env->sender, via, r, 1, msg_path, off, size, o->ids[o->nids++]) < 0) ||
	    (nremote && queue_copy(queue_dir, sender, via, r, 0, msg_path, off, size, o->ids[o->nids++]) < 0)) {
		o->kind = ROUTE_TEMP;
		o->nids--;               /* the one that failed */
		snprintf(o->why, sizeof o->why, "4.3.0 cannot queue the forwarded copy: %s", strerror(errno));
		return;
	}
	/* each outside target counts against the budget of the alias's account */
	split(via ? via : env->rcpt[0].addr, local, sizeof local, domain, sizeof domain);
	if (nremote && via && store_domain_owner(st, domain, owner, sizeof owner) == 0)
		rate_add(st, owner, time(NULL), (int)nremote);
	o->kind = ROUTE_FORWARD;
	snprintf(o->info, sizeof o->info, "forwarded to %zu target(s) as %s%s%s%s", r->n, o->ids[0],
	         o->nids > 1 ? " and " : "", o->nids > 1 ? o->ids[1] : "",
	         nremote && strcmp(sender, env->sender) ? " (sender rewritten with SRS)" : "");
}

void route_deliver(struct store *st, const struct srs *srs, const char *queue_dir, const struct envelope *env,
                   size_t i, const char *msg_path, uint64_t off, uint64_t size, struct route_outcome *out)
{
	char addr[320];
	char local[320], domain[256], orig[SRS_ADDR_MAX], *head;
	struct route_result *r = calloc(1, sizeof *r);
	struct route_db db;
	size_t hlen = 0;
	int seen = 0, hops = 0;

	memset(out, 0, sizeof *out);
	snprintf(addr, sizeof addr, "%s", env->rcpt[i].addr);
	for (char *p = addr; *p; p++)       /* as the store keeps addresses */
		*p = (char)tolower((unsigned char)*p);
	if (!r) {
		out->kind = ROUTE_TEMP;
		snprintf(out->why, sizeof out->why, "4.3.0 out of memory");
		return;
	}
	route_db_store(&db, st);
	split(addr, local, sizeof local, domain, sizeof domain);
	if (srs && srs_is_srs(local) && srs_reverse(srs, env->rcpt[i].addr, time(NULL), orig, sizeof orig) == SRS_OK) {
		/* a bounce to a forwarded message: on to its original sender */
		int h = db.hosted(st, strrchr(orig, '@') ? strrchr(orig, '@') + 1 : "");
		if (h < 0) {
			out->kind = ROUTE_TEMP;
			snprintf(out->why, sizeof out->why, "4.3.0 account store unavailable");
		} else {
			r->n = 1;
			snprintf(r->t[0].addr, sizeof r->t[0].addr, "%.319s", orig);
			r->t[0].local = h;
			forward(st, srs, queue_dir, env, NULL, 0, r, msg_path, off, size, out);
		}
		free(r);
		return;
	}
	/* the common case first: a mailbox without an alias, nothing to read */
	char targets[ALIAS_TARGETS_LEN];
	int a = db.alias(st, addr, targets, sizeof targets);
	if (a == 0 && db.mailbox(st, addr) == 1) {
		out->kind = ROUTE_MAILBOX;
		free(r);
		return;
	}
	if ((head = read_head(msg_path, off, size, &hlen))) {
		seen = route_header_loop(head, hlen, addr, &hops);
		free(head);
	}
	if (hops) {
		out->kind = ROUTE_LOOP;
		snprintf(out->why, sizeof out->why, "5.4.6 too many hops (%d Received: fields): a mail loop",
		         ROUTE_MAX_HOPS);
		free(r);
		return;
	}
	route_resolve(&db, addr, seen, r);
	out->kind = r->kind;
	snprintf(out->why, sizeof out->why, "%s", r->why);
	if (r->kind == ROUTE_FORWARD)
		forward(st, srs, queue_dir, env, addr, 1, r, msg_path, off, size, out);
	free(r);
}
