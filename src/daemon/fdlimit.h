/*
 * fdlimit: living with the process's descriptor limit. At start the soft
 * RLIMIT_NOFILE is raised to the hard one and the configured connection
 * caps are checked against it (a loud warning when they do not fit). When
 * accept() still fails for want of descriptors, a spare one kept open for
 * the purpose lets the listener take the oldest waiting connection, say
 * why and close it at once, so the kernel's backlog drains instead of the
 * event loop spinning on a listener that stays readable.
 */
#ifndef HM_FDLIMIT_H
#define HM_FDLIMIT_H

struct config;

/* Descriptors the daemon keeps for itself beyond the connection caps:
 * listeners, the store's pool, outbound deliveries, files being written. */
#define FD_RESERVE 64

/* The descriptors c's caps may need at once (pure). */
long fdlimit_needed(const struct config *c);
/* Raise the soft limit to the hard one; warn if what c needs does not
 * fit. Returns the soft limit in force (-1: unlimited or unknown). Opens
 * the spare descriptor. */
long fdlimit_setup(const struct config *c);
/* accept() on lfd failed for want of descriptors: with the spare, take
 * one waiting connection, write line (if any) and close it. 1 if one was
 * taken, 0 if none was waiting or there is no spare. */
int fdlimit_shed(int lfd, const char *line);

#endif
