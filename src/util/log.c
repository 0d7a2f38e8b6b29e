/*
 * log: line-oriented logging to stderr, with the flood limits of log.h.
 *
 * Three small tables, all under one mutex: identical lines (by a hash of
 * level and text), lines per (key, format) and lines per format. An entry
 * lives for one window from its first line; when it ends (seen at the next
 * line logged or at log_tick) what it suppressed is summed up in one line
 * and the entry is forgotten. A full table evicts its oldest entry the same way.
 */
#include "util/log.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#define TEXT_MAX 240
#define NREPEAT 64
#define NKEY 256
#define NFMT 32

struct entry {
	uint64_t h;                 /* 0: free */
	int64_t start;              /* ms, when its window began */
	unsigned long written, suppressed;
	const char *level;
	const char *fmt;            /* keyed and per-format entries */
	char key[48];
	char text[TEXT_MAX];        /* the first (repeats) or last suppressed line */
};

static const char warning[] = "warning";
static const char *log_prog = "hostmail";
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static void (*log_sink)(const char *line);
static long long (*log_clock)(void);
static struct entry repeats[NREPEAT], keys[NKEY], fmts[NFMT];
static char syslog_path[108];     /* "" = stderr */
static int syslog_fd = -1;

static int syslog_connect(void);

void log_init(const char *progname)
{
	log_prog = progname;
}

int log_to_syslog(const char *socket_path)
{
	int r = 0;

	pthread_mutex_lock(&log_mu);
	if (!socket_path || !*socket_path) {
		syslog_path[0] = '\0';
		if (syslog_fd >= 0)
			close(syslog_fd);
		syslog_fd = -1;
	} else if (strlen(socket_path) >= sizeof syslog_path) {
		r = -1;
	} else {
		memcpy(syslog_path, socket_path, strlen(socket_path) + 1);
		r = syslog_connect();
	}
	pthread_mutex_unlock(&log_mu);
	return r;
}

static int64_t real_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t clock_now(void)
{
	return log_clock ? log_clock() : real_clock_ms();
}

/* FNV-1a, never 0 (0 marks a free entry). */
static uint64_t hash_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	h = hash_add(h, s, strlen(s) + 1);
	return h ? h : 1;
}

#define HASH_INIT 0xcbf29ce484222325ULL

/* (Re)connect to the syslog socket. Holds log_mu (or before threads). */
static int syslog_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (syslog_fd >= 0)
		close(syslog_fd);
	syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (syslog_fd < 0)
		return -1;
	memcpy(sun.sun_path, syslog_path, strlen(syslog_path) + 1);
	if (connect(syslog_fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		close(syslog_fd);
		syslog_fd = -1;
		return -1;
	}
	return 0;
}

/* One datagram as syslog(3) writes it (RFC 3164): "<PRI>Mmm dd hh:mm:ss
 * ident[pid]: text", facility mail. A syslog daemon that restarted is
 * reconnected once; if it is gone the line goes to stderr. */
static int emit_syslog(const char *level, const char *text)
{
	int sev = level[0] == 'i' ? 6 : level[0] == 'w' ? 4 : 2;  /* info, warning, crit */
	char ts[32], msg[2600];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	localtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
	n = snprintf(msg, sizeof msg, "<%d>%s %s[%d]: %s: %s", 2 * 8 + sev, ts, log_prog, (int)getpid(),
	             level, text);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((syslog_fd >= 0 || syslog_connect() == 0) &&
		    send(syslog_fd, msg, (size_t)n, MSG_NOSIGNAL) == n)
			return 0;
		if (syslog_fd >= 0)
			close(syslog_fd);
		syslog_fd = -1;
	}
	return -1;
}

/* One line out; the caller holds log_mu. */
static void emit(const char *level, const char *text)
{
	char ts[32];
	struct tm tm;
	time_t now = time(NULL);
	char line[2600];

	if (!log_sink && syslog_path[0] && emit_syslog(level, text) == 0)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof line, "%s %s[%d]: %s: %s\n", ts, log_prog, (int)getpid(), level, text);
	if (log_sink) {
		log_sink(line);
	} else {
		fputs(line, stderr);
		fflush(stderr);
	}
}

static long window_seconds(const struct entry *e, int64_t now)
{
	long s = (long)((now - e->start + 999) / 1000);

	return s < 1 ? 1 : s > LOG_WINDOW_S ? LOG_WINDOW_S : s;
}

/* The entry's window is over: its summary, if it suppressed anything. */
static void retire(struct entry *e, int64_t now, int kind)
{
	char line[TEXT_MAX + 160];

	if (e->h && e->suppressed > 0) {
		if (kind == 0)
			snprintf(line, sizeof line, "%s (repeated %lu times in the last %ld s)", e->text,
			         e->suppressed, window_seconds(e, now));
		else if (kind == 1)
			snprintf(line, sizeof line, "%s (and %lu more such lines for %s in the last %ld s)",
			         e->text, e->suppressed, e->key, window_seconds(e, now));
		else
			snprintf(line, sizeof line, "%s (and %lu more such lines from other addresses"
			         " in the last %ld s)", e->text, e->suppressed, window_seconds(e, now));
		emit(e->level, line);
	}
	memset(e, 0, sizeof *e);
}

/* The oldest live entry's start (INT64_MAX: none), so that a line logged
 * while no window can have ended does not walk the tables. Only ever too
 * early (an evicted entry), which costs one walk. */
static int64_t oldest_start = INT64_MAX;

static void retire_expired(struct entry *t, size_t n, int64_t now, int kind)
{
	for (size_t i = 0; i < n; i++) {
		if (!t[i].h)
			continue;
		if (now - t[i].start >= (int64_t)LOG_WINDOW_S * 1000)
			retire(&t[i], now, kind);
		else if (t[i].start < oldest_start)
			oldest_start = t[i].start;
	}
}

/* The live entry of hash h, or a fresh one (the oldest evicted if full). */
static struct entry *lookup(struct entry *t, size_t n, uint64_t h, int64_t now, int kind, int *fresh)
{
	struct entry *free_e = NULL, *oldest = &t[0];

	for (size_t i = 0; i < n; i++) {
		if (t[i].h == h) {
			*fresh = 0;
			return &t[i];
		}
		if (!t[i].h && !free_e)
			free_e = &t[i];
		if (t[i].start < oldest->start)
			oldest = &t[i];
	}
	if (!free_e) {
		retire(oldest, now, kind);
		free_e = oldest;
	}
	free_e->h = h;
	free_e->start = now;
	if (now < oldest_start)
		oldest_start = now;
	*fresh = 1;
	return free_e;
}

/* Keep the start of src (a summary quotes it; cut short on purpose). */
static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void remember(struct entry *e, const char *level, const char *fmt, const char *key,
                     const char *text)
{
	e->level = level;
	e->fmt = fmt;
	if (key)
		copy_text(e->key, sizeof e->key, key);
	copy_text(e->text, sizeof e->text, text);
}

/* The live entry of hash h in table t, remembering this line if new. */
static struct entry *burst_entry(struct entry *t, size_t n, int kind, uint64_t h, const char *level,
                                 const char *fmt, const char *key, const char *text, int64_t now)
{
	int fresh;
	struct entry *e = lookup(t, n, h, now, kind, &fresh);

	if (fresh)
		remember(e, level, fmt, key, text);
	return e;
}

/* e's burst is used up: the line is counted (and kept for the summary). */
static int spent(struct entry *e, unsigned long burst, const char *text)
{
	if (e->written < burst)
		return 0;
	e->suppressed++;
	copy_text(e->text, sizeof e->text, text);
	return 1;
}

/* Over a keyed limit? Counts the line either way. Holds log_mu. */
static int key_limited(const char *level, const char *key, const char *fmt, const char *text,
                       int64_t now)
{
	uint64_t hk = hash_str(hash_add(HASH_INIT, &fmt, sizeof fmt), key);
	uint64_t hf = hash_add(HASH_INIT ^ 1, &fmt, sizeof fmt);
	struct entry *k, *f;

	k = burst_entry(keys, NKEY, 1, hk, level, fmt, key, text, now);
	if (spent(k, LOG_KEY_BURST, text))
		return 1;
	f = burst_entry(fmts, NFMT, 2, hf, level, fmt, NULL, text, now);
	if (spent(f, LOG_FMT_BURST, text))
		return 1;
	k->written++;
	f->written++;
	return 0;
}

/* An identical line is already in its window? Counts it. Holds log_mu. */
static int repeated(const char *level, const char *text, int64_t now)
{
	uint64_t h = hash_str(hash_str(HASH_INIT, level), text);
	struct entry *e = lookup(repeats, NREPEAT, h, now, 0, &(int){ 0 });

	if (e->written) {
		e->suppressed++;
		return 1;
	}
	remember(e, level, NULL, NULL, text);
	e->written = 1;
	return 0;
}

/* Every window that has ended is summed up. Holds log_mu. */
static void retire_all(int64_t now)
{
	if (oldest_start == INT64_MAX || now - oldest_start < (int64_t)LOG_WINDOW_S * 1000)
		return;
	oldest_start = INT64_MAX;
	retire_expired(repeats, NREPEAT, now, 0);
	retire_expired(keys, NKEY, now, 1);
	retire_expired(fmts, NFMT, now, 2);
}

static void log_v(const char *level, const char *key, const char *fmt, va_list ap)
{
	char text[2048];
	int64_t now;

	vsnprintf(text, sizeof text, fmt, ap);
	pthread_mutex_lock(&log_mu);
	now = clock_now();
	retire_all(now);
	if (key ? !key_limited(level, key, fmt, text, now)
	        : !(level == warning && repeated(level, text, now)))
		emit(level, text);
	pthread_mutex_unlock(&log_mu);
}

void log_tick(void)
{
	int64_t now;

	pthread_mutex_lock(&log_mu);
	now = clock_now();
	retire_all(now);
	pthread_mutex_unlock(&log_mu);
}

void log_set_test_hooks(void (*sink)(const char *line), long long (*clock_ms)(void))
{
	pthread_mutex_lock(&log_mu);
	log_sink = sink;
	log_clock = clock_ms;
	memset(repeats, 0, sizeof repeats);
	oldest_start = INT64_MAX;
	memset(keys, 0, sizeof keys);
	memset(fmts, 0, sizeof fmts);
	pthread_mutex_unlock(&log_mu);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("info", NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(warning, NULL, fmt, ap);
	va_end(ap);
}

void log_warn_key(const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(warning, key, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_mu);
	emit("fatal", text);
	pthread_mutex_unlock(&log_mu);
	exit(1);
}

/* Bytes of s as log text into out[o..], leaving reserve bytes free (a
 * closing quote); with quoted, '"' and '\' become \" and \\. Returns o. */
static size_t put_safe(const char *s, size_t n, char *out, size_t outlen, size_t o, size_t reserve,
                       int quoted)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (quoted && c == '"') {
			if (o + 2 + reserve >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = '"';
		} else if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 + reserve >= outlen)
				break;
			out[o++] = (char)c;
		} else if (quoted && c == '\\') {
			if (o + 2 + reserve >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			if (o + 4 + reserve >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

const char *log_safe(const char *s, size_t n, char *out, size_t outlen)
{
	if (outlen == 0)
		return out;
	out[put_safe(s, n, out, outlen, 0, 0, 0)] = '\0';
	return out;
}

/* Needs quotes as a value: empty, or a byte that is not a plain token's. */
static int needs_quotes(const char *s, size_t n)
{
	size_t len = strnlen(s, n);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\')
			return 1;
	}
	return len == 0;
}

const char *log_value(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o;

	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	if (!needs_quotes(s, n))
		return log_safe(s, n, out, outlen);
	out[0] = '"';
	o = put_safe(s, n, out, outlen, 1, 1, 1);
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *log_addr(const char *addr, char *out, size_t outlen)
{
	char b[1100];
	int n = snprintf(b, sizeof b, "<%s>", addr);

	return log_value(b, n < 0 ? 0 : (size_t)n, out, outlen);
}
