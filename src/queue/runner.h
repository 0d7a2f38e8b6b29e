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
void runner_stop(struct runner *r);

#endif
