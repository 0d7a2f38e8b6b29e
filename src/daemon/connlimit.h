/*
 * connlimit: counts of concurrent client sessions, in total and per client
 * IP, shared by the SMTP and POP3 listeners, so one host (or a flood)
 * cannot take every session slot. Event-loop thread only.
 */
#ifndef HM_CONNLIMIT_H
#define HM_CONNLIMIT_H

struct connlimit;

enum { CONN_OK = 0, CONN_TOO_MANY = 1, CONN_TOO_MANY_FROM_IP = 2 };

struct connlimit *connlimit_new(void);
void connlimit_free(struct connlimit *c);
/* Take a slot for ip: CONN_OK, or which limit refused it (nothing taken). */
int connlimit_acquire(struct connlimit *c, const char *ip, int max_total, int max_per_ip);
/* Give back a slot taken by connlimit_acquire. */
void connlimit_release(struct connlimit *c, const char *ip);
int connlimit_total(const struct connlimit *c);

#endif
