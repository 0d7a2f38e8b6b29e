/*
 * runner: moves accepted messages out of the queue. For now it delivers
 * to local Maildirs (remote recipients wait for the outbound-delivery
 * issue), records each recipient's result durably, retries temporary
 * failures, and removes a message once every recipient is final.
 * Runs on the event loop; the file work happens on workers.
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
