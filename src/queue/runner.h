/*
 * runner: moves accepted messages out of the queue: local recipients into
 * their Maildirs, remote ones to their domains' MX hosts over SMTP (within
 * [delivery] connection limits). Records each recipient's result durably,
 * retries temporary failures per [queue] retry_schedule until max_age,
 * sends the sender RFC 3464 reports (failures; a delay warning), and
 * removes a message once every recipient is final. Runs on the event
 * loop; the file work happens on workers. See docs/delivery.md.
 */
#ifndef HM_RUNNER_H
#define HM_RUNNER_H

struct server;
struct runner;

/* Recover the queue (crash debris, unfinished deliveries) and start. */
struct runner *runner_start(struct server *srv);
/* Deliver (what is due of) message id soon. */
void runner_schedule(struct runner *r, const char *id);
/* Try message id (NULL: every queued message) now, whatever the retry
 * times say. The count, or -1 + errno (ENOENT: id is not queued). */
int runner_flush(struct runner *r, const char *id);
/* Delete message id: stop its delivery where it is, remove it (no report
 * to the sender) and log it; then done(arg, 0 or errno; ENOENT: it was not
 * queued) on the loop. 0, or -1 + errno (EBUSY: already being deleted). */
int runner_delete(struct runner *r, const char *id, void (*done)(void *arg, int err), void *arg);
/* Return message id to its sender: stop its delivery where it is, fail
 * every pending recipient ("5.0.0 returned to the sender by the mail
 * administrator"), send the sender the usual failure report and remove
 * the message. Like runner_delete otherwise. */
int runner_bounce(struct runner *r, const char *id, void (*done)(void *arg, int err), void *arg);
/* arg goes away: a pending runner_delete must not call back with it. */
void runner_forget(struct runner *r, void *arg);
void runner_stop(struct runner *r);

#endif
