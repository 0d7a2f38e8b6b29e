/*
 * control: the queue's control socket, queue/control: a Unix stream
 * socket inside the queue directory (mode 0700, so only the daemon's
 * user and root reach it). hostmailctl sends one request line, hostmaild
 * answers one line and closes the connection:
 *
 *   FLUSH         -> OK n       every queued message (n) is tried now
 *   FLUSH ID      -> OK 1       message ID is tried now
 *   DELETE ID     -> OK 1       message ID is removed, never to be delivered
 *   BOUNCE ID     -> OK 1       ID's pending recipients fail, its sender is told
 *   otherwise     -> ERR reason (ERR no such message: ID is not queued)
 *
 * The daemon side runs on the event loop and hands the work to the queue
 * runner (runner_flush, runner_delete, runner_bounce). A socket nobody listens on
 * (ECONNREFUSED) or no socket at all (ENOENT) means no daemon runs on this
 * data directory. See docs/delivery.md.
 */
#ifndef HM_QUEUE_CONTROL_H
#define HM_QUEUE_CONTROL_H
#include <stddef.h>

#define CTL_SOCKET_NAME "control"
#define CTL_LINE_MAX 128

struct ctl_server;
struct runner;
struct event_base;

/* Listen on queue_dir/control (a stale socket there is replaced). NULL,
 * logged, if it cannot: the daemon then runs without it. */
struct ctl_server *ctl_start(struct runner *r, struct event_base *base, const char *queue_dir);
/* Close every connection and remove the socket. */
void ctl_stop(struct ctl_server *c);

/* Client: send request (one line, no "\n"), wait up to timeout seconds for
 * the answer line (without its "\n") into reply. 0, or -1 + errno:
 * ENOENT or ECONNREFUSED when no daemon listens. */
int ctl_request(const char *queue_dir, const char *request, int timeout,
                char *reply, size_t replylen);

#endif
