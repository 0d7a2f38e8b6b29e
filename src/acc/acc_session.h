/*
 * acc_session: the ACC's logged-in sessions, in memory (a restart logs
 * everyone out). A session is found by its random id (the hm_session
 * cookie) and ends after ACC_SESSION_IDLE seconds without a request, after
 * ACC_SESSION_LIFETIME seconds in all, or at logout. The table is bounded:
 * when full, the least recently used session ends. Pure apart from the
 * RNG: the caller passes the time. Event loop thread only.
 */
#ifndef HM_ACC_SESSION_H
#define HM_ACC_SESSION_H
#include <sys/queue.h>
#include <time.h>
#include "acc/acc_csrf.h"
#include "store/store.h"

#define ACC_SESSION_IDLE     (30 * 60)
#define ACC_SESSION_LIFETIME (12 * 60 * 60)
#define ACC_SESSION_MAX      4096

struct acc_session {
	char id[ACC_TOKEN_LEN + 1];
	char csrf[ACC_TOKEN_LEN + 1];    /* this session's CSRF token */
	char account[STORE_NAME_MAX];
	time_t created, last;
	char flash[512];                 /* one message for the next page */
	int flash_error;
	TAILQ_ENTRY(acc_session) lru;    /* most recently used first */
};

struct acc_sessions;

struct acc_sessions *acc_sessions_new(int max);
void acc_sessions_free(struct acc_sessions *t);
/* A new session for account (ending the oldest if the table is full), or NULL. */
struct acc_session *acc_session_create(struct acc_sessions *t, const char *account, time_t now);
/* The live session with this id (its idle timer restarted), or NULL;
 * an expired one is ended on the way. */
struct acc_session *acc_session_find(struct acc_sessions *t, const char *id, time_t now);
/* End s (logout); s is freed. */
void acc_session_end(struct acc_sessions *t, struct acc_session *s);
/* Set the message the next page shows. */
void acc_session_flash(struct acc_session *s, int error, const char *msg);
int acc_sessions_count(const struct acc_sessions *t);

#endif
