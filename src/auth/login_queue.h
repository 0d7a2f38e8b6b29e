/*
 * login_queue: the one queue every password check waits in (SMTP AUTH,
 * POP3 USER/PASS and AUTH, the ACC's logins and password changes), in
 * front of the password-hashing threads. Fair: the next check is taken
 * round-robin across services, within a service round-robin across the
 * usernames being checked, and within a username across client
 * addresses: one flooding service, address or botnet guessing at some
 * mailboxes cannot starve another mailbox's logins (a storm against a
 * list of 20 mailboxes from 100,000 addresses puts a customer behind at
 * most 20 checks, not 100,000). Bounded: beyond a number of waiting checks per
 * service, or from one address (all services together), a new one is
 * refused at once (the caller answers with a temporary error): a flood of
 * one service fills only its own share. Only max_running checks are handed to the pool at a
 * time, so its own FIFO never decides the order. Event loop thread only.
 */
#ifndef HM_LOGIN_QUEUE_H
#define HM_LOGIN_QUEUE_H

struct workers;
struct login_queue;

#define LOGIN_USER_MAX 320            /* a username longer than this is cut to it as a key */

enum login_service { LOGIN_SMTP, LOGIN_POP3, LOGIN_ACC, LOGIN_NSERVICES };

struct login_queue *login_queue_new(struct workers *pool, int max_running);
/* work(arg) on a pool thread, then done(arg) on the loop, in fair order;
 * user (case-insensitive, NULL as "") is whose password is checked.
 * 0, or -1 (nothing will run): max_per_service checks of svc wait
 * already, or max_per_ip from ip, or no memory. */
int login_queue_submit(struct login_queue *q, enum login_service svc, const char *ip, const char *user,
                       int max_per_service, int max_per_ip, void (*work)(void *), void (*done)(void *), void *arg);
/* Checks waiting (not yet handed to the pool). */
int login_queue_waiting(const struct login_queue *q);
/* After the loop and the pool have stopped: run what still waits here,
 * work then done, so every arg is released; then free q. */
void login_queue_free(struct login_queue *q);

#endif
