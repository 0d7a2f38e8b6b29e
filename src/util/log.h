/*
 * log: one line per event on stderr, "hostmaild[pid]: LEVEL: text".
 * log_warn is for a peer's or the environment's fault, log_fatal for a
 * broken start-up invariant (exits 1). Text from the network must go
 * through log_safe() first so a CR, LF or control byte can never forge a line.
 */
#ifndef HM_LOG_H
#define HM_LOG_H
#include <stddef.h>

void log_init(const char *progname);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Copy s (at most n bytes) into out with control and non-ASCII bytes as \xNN. */
const char *log_safe(const char *s, size_t n, char *out, size_t outlen);

#endif
