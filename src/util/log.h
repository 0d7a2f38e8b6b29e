/*
 * log: one line per event on stderr, "TIME hostmaild[pid]: LEVEL: text",
 * or to syslog (facility mail) with the same "LEVEL: text".
 * log_warn is for a peer's or the environment's fault, log_fatal for a
 * broken start-up invariant (exits 1). Text from the network must go
 * through log_safe() first so a CR, LF or control byte can never forge a line.
 *
 * The log cannot be flooded. A warning identical to one written in the
 * last LOG_WINDOW_S seconds is not written again but counted; when its
 * window ends one line says "... (repeated N times in the last 10 s)". Lines
 * about one client (a refused connection, a failed login) go through
 * log_warn_key with the client's address as key: at most LOG_KEY_BURST
 * lines per key and format in a window, at most LOG_FMT_BURST per format
 * whatever the key, then counted and summed up the same way (a keyed line
 * is not deduplicated: fail2ban counts each of the first failures). So a
 * client costs a bounded number of log bytes per second. Thread-safe.
 */
#ifndef HM_LOG_H
#define HM_LOG_H
#include <stddef.h>

#define LOG_WINDOW_S  10     /* seconds a repeat or a key's burst is counted */
#define LOG_KEY_BURST 5      /* lines per key and format in a window */
#define LOG_FMT_BURST 200    /* lines per format in a window, all keys */

void log_init(const char *progname);
/* From now on, every line to the syslog socket at socket_path (/dev/log)
 * with facility mail and progname as ident ([server] log = syslog); NULL
 * or "": back to stderr. -1 if the socket cannot be reached now (lines
 * go to stderr until it can). */
int log_to_syslog(const char *socket_path);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning about one client: limited per (key, fmt); key is its address. */
void log_warn_key(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Write the summaries of windows that have ended (a timer calls it, so
 * they appear also when nothing else is logged). */
void log_tick(void);
/* Copy s (at most n bytes) into out with control and non-ASCII bytes as \xNN. */
const char *log_safe(const char *s, size_t n, char *out, size_t outlen);
/* The same as the value of a key=value pair: bare when it is a non-empty
 * run of printable ASCII without space, '"', '=' or '\\', else in double
 * quotes with '"' and '\\' escaped by a backslash (and bytes as log_safe
 * writes them), so that a client's text can never add a key to a line:
 * user="evil ip=6.6.6.6". A value cut short by outlen keeps its closing quote. */
const char *log_value(const char *s, size_t n, char *out, size_t outlen);
/* An address as a value: <addr> as it is when log_value leaves it bare
 * (from=<a@b>), else quoted whole (from="<\"x ip=1\"@b>"). */
const char *log_addr(const char *addr, char *out, size_t outlen);
/* Room for log_value or log_addr of a value of n bytes, every byte escaped. */
#define LOG_VALUE_MAX(n) (4 * (n) + 5)

/* Tests: hand each line (with its newline) to sink (NULL: stderr) and take
 * the time (milliseconds, monotonic) from clock (NULL: the real one);
 * forget every window. */
void log_set_test_hooks(void (*sink)(const char *line), long long (*clock_ms)(void));

#endif
