/*
 * envelope: the queue/env/ID file format. One record per line, "TYPE value":
 *   V 2 <20 digits>  format version 2 and the message size; the message
 *                  bytes follow this line (QUEUE_MSG_OFFSET), then:
 *   I id  A arrival  S sender  C client_ip  H helo  U account  Z size
 *   N nrcpt        then nrcpt lines "R L addr" (local) or "R R addr" (remote)
 *   E              end of header; the file is complete when renamed into env/
 *   D idx | F idx reason | T idx next reason      progress, appended + fsynced
 *   B idx | W idx  a failure report / delay warning was queued for the sender
 *                  (added later; files without them read as before)
 *   Q reason       held (quarantined) for reason; may follow "E" in the
 *                  committed file itself (a filter's hold)
 *   K when         released from hold at time when (Q and K: the last wins;
 *                  added later, files without them are not held)
 * Version 1 ("V 1", then the header at once) kept the message in msg/ID;
 * such files, from before the upgrade, still read and deliver. One file
 * per message costs one fsync and one rename fewer per message.
 * Values are percent-encoded (bytes <= 0x20, '%' and >= 0x7f as %XX), so
 * nothing that came from the network can end a record or forge another.
 * A torn last line (no '\n') is ignored by the reader and cut off by the
 * next append (never into the message: the header ends in "E\n"); a
 * record for a recipient index that does not exist is ignored. Corrupt
 * files give EBADMSG, unknown versions ENOTSUP.
 */
#include "queue/queue.h"
#include "queue/queue_priv.h"
#include "util/fsutil.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE     4096    /* longest record: 3 * 511 encoded bytes + prefix fits */
#define ERR_CORRUPT  EBADMSG
#define ERR_VERSION  ENOTSUP

/* ---- writing ---- */

/* Append at most max bytes of s, percent-encoded. */
static int put_enc(struct buf *b, const char *s, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strnlen(s, max);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == '%' || c >= 0x7f) {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			if (buf_append(b, e, 3) < 0)
				return -1;
		} else if (buf_append(b, &s[i], 1) < 0) {
			return -1;
		}
	}
	return 0;
}

static int put_field(struct buf *b, char type, const char *s, size_t max)
{
	char p[2] = { type, ' ' };

	if (buf_append(b, p, 2) < 0 || put_enc(b, s, max) < 0)
		return -1;
	return buf_append(b, "\n", 1);
}

int env_format(struct buf *b, const struct envelope *env)
{
	int r = 0;

	r |= buf_printf(b, "I %s\nA %lld\n", env->id, (long long)env->arrival);
	r |= put_field(b, 'S', env->sender, sizeof env->sender - 1);
	r |= put_field(b, 'C', env->client_ip, sizeof env->client_ip - 1);
	r |= put_field(b, 'H', env->helo, sizeof env->helo - 1);
	r |= put_field(b, 'U', env->account, sizeof env->account - 1);
	r |= buf_printf(b, "Z %llu\nN %zu\n", (unsigned long long)env->size, env->nrcpt);
	for (size_t i = 0; i < env->nrcpt && r == 0; i++) {
		r |= buf_puts(b, env->rcpt[i].local ? "R L " : "R R ");
		r |= put_enc(b, env->rcpt[i].addr, sizeof env->rcpt[i].addr - 1);
		r |= buf_append(b, "\n", 1);
	}
	r |= buf_append(b, "E\n", 2);
	if (env->hold[0])
		r |= put_field(b, 'Q', env->hold, sizeof env->hold - 1);
	if (r != 0)
		errno = ENOMEM;
	return r ? -1 : 0;
}

/* ---- reading ---- */

struct reader {
	int fd;
	size_t pos, len;
	char in[8192];
};

/* Next complete line (without '\n') into line. 1 = a line, 0 = end of file
 * (a torn last line without '\n' is dropped), -1 = error. */
static int read_line(struct reader *r, char *line, size_t cap)
{
	size_t n = 0;
	int bad = 0;

	for (;;) {
		if (r->pos == r->len) {
			ssize_t got = read(r->fd, r->in, sizeof r->in);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return -1;
			if (got == 0)
				return 0;
			r->pos = 0;
			r->len = (size_t)got;
		}
		char c = r->in[r->pos++];
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= cap)
			bad = 1;
		else
			line[n++] = c;
	}
	line[n] = '\0';
	if (bad) {
		errno = ERR_CORRUPT;
		return -1;
	}
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a percent-encoded value into out (cap bytes with the NUL). */
static int dec(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
			if (l < 0 || (h == 0 && l == 0))
				return -1;
			c = (unsigned char)(h << 4 | l);
			s += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			return -1;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* Unsigned decimal, at most max; *end gets the first byte after the digits. */
static int num(const char *s, const char **end, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	*end = p;
	*v = x;
	return 0;
}

/* A whole-value number record body. */
static int num_only(const char *s, uint64_t max, uint64_t *v)
{
	const char *end;
	return num(s, &end, max, v) < 0 || *end != '\0' ? -1 : 0;
}

static int parse_header_field(struct envelope *env, char type, const char *v)
{
	uint64_t x;

	switch (type) {
	case 'I':
		return queue_id_valid(v) && strcmp(v, env->id) == 0 ? 0 : -1;
	case 'A':
		if (num_only(v, INT64_MAX, &x) < 0)
			return -1;
		env->arrival = (time_t)x;
		return 0;
	case 'S': return dec(v, env->sender, sizeof env->sender);
	case 'C': return dec(v, env->client_ip, sizeof env->client_ip);
	case 'H': return dec(v, env->helo, sizeof env->helo);
	case 'U': return dec(v, env->account, sizeof env->account);
	case 'Z': return num_only(v, UINT64_MAX, &env->size);
	case 'N':
		if (num_only(v, QUEUE_MAX_RCPT, &x) < 0 || x == 0)
			return -1;
		env->rcpt = calloc((size_t)x, sizeof *env->rcpt);
		if (env->rcpt == NULL)
			return -2;
		env->nrcpt = (size_t)x;
		return 0;
	}
	return -1;
}

static int parse_rcpt(struct env_rcpt *r, const char *line)
{
	if (line[0] != 'R' || line[1] != ' ' || (line[2] != 'L' && line[2] != 'R') || line[3] != ' ')
		return -1;
	r->local = line[2] == 'L';
	r->state = RCPT_PENDING;
	return dec(line + 4, r->addr, sizeof r->addr);
}

/* "Q reason" (held) or "K when" (released): the last one wins. */
static int apply_hold(struct envelope *env, const char *line)
{
	uint64_t when;

	if (line[1] != ' ')
		return -1;
	if (line[0] == 'Q')
		return dec(line + 2, env->hold, sizeof env->hold) < 0 || env->hold[0] == '\0' ? -1 : 0;
	if (num_only(line + 2, INT64_MAX, &when) < 0)
		return -1;
	env->hold[0] = '\0';
	env->released = (time_t)when;
	return 0;
}

/* Apply one progress record: "D idx", "F idx reason", "T idx next reason". */
static int apply_progress(struct envelope *env, const char *line)
{
	const char *p;
	uint64_t idx, next = 0;
	struct env_rcpt *r;
	char type = line[0];

	if (type == 'Q' || type == 'K')
		return apply_hold(env, line);
	if ((type != 'D' && type != 'F' && type != 'T' && type != 'B' && type != 'W') ||
	    line[1] != ' ' || num(line + 2, &p, SIZE_MAX, &idx) < 0)
		return -1;
	/* a caller's bad index must not make the whole message unreadable */
	if (idx >= env->nrcpt)
		return 0;
	r = &env->rcpt[idx];
	if (type == 'B' || type == 'W') {
		if (*p != '\0')
			return -1;
		if (type == 'B')
			r->bounced = 1;
		else
			r->warned = 1;
		return 0;
	}
	if (type == 'D') {
		if (*p != '\0')
			return -1;
		r->state = RCPT_DONE;
		r->reason[0] = '\0';
	} else {
		if (type == 'T' && (*p != ' ' || num(p + 1, &p, INT64_MAX, &next) < 0))
			return -1;
		if (*p != ' ' || dec(p + 1, r->reason, sizeof r->reason) < 0)
			return -1;
		if (type == 'F')
			r->state = RCPT_FAILED;
		else
			r->next_attempt = (time_t)next;
	}
	r->attempts++;
	return 0;
}

/* The first line: "V 1", or "V 2 <20 digits>" and then the message. For
 * version 2, skip the message: the header records follow it. 0, -1 (not
 * a version line) or -2 (errno set). */
static int parse_version(struct reader *rd, struct envelope *out, const char *line)
{
	uint64_t size;

	if (strcmp(line, "V 1") == 0) {
		out->msg_in_env = 0;
		out->msg_offset = 0;
		return 0;
	}
	if (strncmp(line, "V 2 ", 4) != 0) {
		if (line[0] == 'V' && line[1] == ' ') {
			errno = ERR_VERSION;
			return -2;
		}
		return -1;
	}
	if (strlen(line + 4) != 20 || num_only(line + 4, (uint64_t)INT64_MAX - QUEUE_MSG_OFFSET, &size) < 0)
		return -1;
	out->msg_in_env = 1;
	out->msg_offset = QUEUE_MSG_OFFSET;
	out->size = size;
	if (lseek(rd->fd, (off_t)(QUEUE_MSG_OFFSET + size), SEEK_SET) < 0)
		return -2;
	rd->pos = rd->len = 0;
	return 0;
}

/* Parse the whole file. -1 with errno set. */
static int env_parse(struct reader *rd, struct envelope *out)
{
	static const char order[] = "IASCHUZN";
	char line[MAX_LINE];
	uint64_t size;
	int r;

	if ((r = read_line(rd, line, sizeof line)) <= 0)
		goto short_or_err;
	if ((r = parse_version(rd, out, line)) == -2)
		return -1;
	if (r < 0)
		goto corrupt;
	size = out->size;
	for (const char *t = order; *t; t++) {
		if ((r = read_line(rd, line, sizeof line)) <= 0)
			goto short_or_err;
		if (line[0] != *t || line[1] != ' ')
			goto corrupt;
		r = parse_header_field(out, *t, line + 2);
		if (r == -2)
			return -1;
		if (r < 0)
			goto corrupt;
	}
	/* version 2 says the size twice: both must agree */
	if (out->msg_in_env && out->size != size)
		goto corrupt;
	for (size_t i = 0; i < out->nrcpt; i++) {
		if ((r = read_line(rd, line, sizeof line)) <= 0)
			goto short_or_err;
		if (parse_rcpt(&out->rcpt[i], line) < 0)
			goto corrupt;
	}
	if ((r = read_line(rd, line, sizeof line)) <= 0)
		goto short_or_err;
	if (strcmp(line, "E") != 0)
		goto corrupt;
	while ((r = read_line(rd, line, sizeof line)) > 0)
		if (apply_progress(out, line) < 0)
			goto corrupt;
	return r;
short_or_err:
	if (r < 0)
		return -1;
corrupt:
	errno = ERR_CORRUPT;
	return -1;
}

int envelope_load(const char *queue_dir, const char *id, struct envelope *out)
{
	char path[PATH_MAX];
	struct reader *rd;
	int r, e;

	memset(out, 0, sizeof *out);
	if (queue_id_path(path, sizeof path, queue_dir, "env", id) < 0)
		return -1;
	memcpy(out->id, id, sizeof out->id);
	if ((rd = calloc(1, sizeof *rd)) == NULL)
		return -1;
	if ((rd->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		free(rd);
		errno = e;
		return -1;
	}
	r = env_parse(rd, out);
	e = errno;
	close(rd->fd);
	free(rd);
	if (r < 0) {
		envelope_free(out);
		errno = e;
		return -1;
	}
	return 0;
}

void envelope_free(struct envelope *env)
{
	free(env->rcpt);
	env->rcpt = NULL;
	env->nrcpt = 0;
}

/* ---- progress records ---- */

/* After a crash the file may end in a torn record; cut it off so the next
 * append cannot glue onto it (a torn "D 12" must never read as "D 1"). */
static int drop_torn_tail(int fd)
{
	struct stat st;
	char blk[512];
	off_t end;

	if (fstat(fd, &st) < 0)
		return -1;
	end = st.st_size;
	while (end > 0) {
		size_t n = end < (off_t)sizeof blk ? (size_t)end : sizeof blk;
		ssize_t got = pread(fd, blk, n, end - (off_t)n);
		if (got != (ssize_t)n) {
			if (got >= 0)
				errno = EIO;
			return -1;
		}
		for (size_t i = n; i > 0; i--) {
			if (blk[i - 1] == '\n') {
				off_t keep = end - (off_t)n + (off_t)i;
				return keep == st.st_size ? 0 : ftruncate(fd, keep);
			}
		}
		end -= (off_t)n;
	}
	errno = ERR_CORRUPT; /* not even a header line: not ours to touch */
	return -1;
}

/* Append one record to env/ID and fsync it before returning. */
static int env_append(const char *queue_dir, const char *id, const struct buf *rec, int sync)
{
	char path[PATH_MAX];
	int fd, r, e;

	if (queue_id_path(path, sizeof path, queue_dir, "env", id) < 0)
		return -1;
	/* no O_CREAT: marking a removed envelope must fail, not make a stub */
	if ((fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0)
		return -1;
	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r == 0)
		r = drop_torn_tail(fd);
	if (r == 0)
		r = write_all(fd, rec->data, rec->len);
	if (r == 0 && sync)
		r = fsync(fd);
	e = errno;
	close(fd); /* releases the lock */
	errno = e;
	return r;
}

/* Build "T idx [next ]reason\n"; the reason loses CR/LF (see env_rcpt). */
static int mark(const char *queue_dir, const char *id, char type, size_t idx,
                const long long *next, const char *reason, int sync)
{
	char clean[sizeof ((struct env_rcpt *)0)->reason];
	struct buf b;
	int r;

	buf_init(&b, MAX_LINE - 1);
	r = buf_printf(&b, "%c %zu", type, idx);
	if (next)
		r |= buf_printf(&b, " %lld", *next < 0 ? 0 : *next);
	if (reason) {
		size_t n = strnlen(reason, sizeof clean - 1);
		memcpy(clean, reason, n);
		clean[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (clean[i] == '\r' || clean[i] == '\n')
				clean[i] = ' ';
		r |= buf_append(&b, " ", 1);
		r |= put_enc(&b, clean, n);
	}
	r |= buf_append(&b, "\n", 1);
	if (r != 0) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	r = env_append(queue_dir, id, &b, sync);
	buf_free(&b);
	return r;
}

int envelope_mark_done(const char *queue_dir, const char *id, size_t idx)
{
	return mark(queue_dir, id, 'D', idx, NULL, NULL, 1);
}

int envelope_mark_last_done(const char *queue_dir, const char *id, size_t idx)
{
	return mark(queue_dir, id, 'D', idx, NULL, NULL, 0);
}

int envelope_mark_failed(const char *queue_dir, const char *id, size_t idx, const char *reason)
{
	return mark(queue_dir, id, 'F', idx, NULL, reason ? reason : "", 1);
}

int envelope_mark_tempfail(const char *queue_dir, const char *id, size_t idx,
                           time_t next_attempt, const char *reason)
{
	long long next = (long long)next_attempt;
	return mark(queue_dir, id, 'T', idx, &next, reason ? reason : "", 1);
}

int envelope_mark_notified(const char *queue_dir, const char *id, const size_t *idx, size_t n,
                           int delayed)
{
	struct buf b;
	int r = 0;

	if (n == 0)
		return 0;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		r |= buf_printf(&b, "%c %zu\n", delayed ? 'W' : 'B', idx[i]);
	if (r != 0) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	r = env_append(queue_dir, id, &b, 1);
	buf_free(&b);
	return r;
}

/* ---- hold ---- */

int envelope_hold(const char *queue_dir, const char *id, const char *reason)
{
	char clean[sizeof ((struct envelope *)0)->hold];
	size_t n = strnlen(reason, sizeof clean - 1);
	struct buf b;
	int r;

	if (n == 0) {
		errno = EINVAL;
		return -1;
	}
	memcpy(clean, reason, n);
	clean[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (clean[i] == '\r' || clean[i] == '\n')
			clean[i] = ' ';
	buf_init(&b, MAX_LINE - 1);
	if (put_field(&b, 'Q', clean, n) < 0) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	r = env_append(queue_dir, id, &b, 1);
	buf_free(&b);
	return r;
}

int envelope_release(const char *queue_dir, const char *id, time_t when)
{
	struct buf b;
	int r;

	buf_init(&b, MAX_LINE - 1);
	if (buf_printf(&b, "K %lld\n", (long long)(when < 0 ? 0 : when)) < 0) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	r = env_append(queue_dir, id, &b, 1);
	buf_free(&b);
	return r;
}

time_t envelope_age_base(const struct envelope *env)
{
	return env->released > env->arrival ? env->released : env->arrival;
}
