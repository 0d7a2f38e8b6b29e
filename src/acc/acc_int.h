/*
 * acc_int: what the ACC's files share (not a public interface). One
 * struct acc_req per HTTP request: filled on the event loop (form fields,
 * the configuration snapshot), handed to a worker for the session, the
 * store work and the HTML, and back on the loop to be answered and freed.
 * A worker touches only its acc_req and the (thread-safe) store.
 */
#ifndef HM_ACC_INT_H
#define HM_ACC_INT_H
#include <sys/queue.h>
#include <time.h>
#include <event2/keyvalq_struct.h>
#include "acc/acc_csrf.h"
#include "acc/acc_http.h"
#include "policy/client_settings.h"
#include "policy/mail_settings.h"
#include "store/store_rate.h"
#include "store/relay_auth.h"
#include "store/store.h"
#include "ops/ops_quota.h"
#include "util/buf.h"
#include "util/config.h"

#define ACC_PASSWORD_MIN 8
#define ACC_PASSWORD_MAX 1024
#define ACC_MAX_DOMAINS  256
#define ACC_MAX_MAILBOXES 2000
#define ACC_MAX_GRANTS   200
#define ACC_BODY_MAX     (1024 * 1024)   /* bytes of one rendered page */

struct server;
struct event;
struct acc_req;

struct acc {
	struct server *srv;
	char style_hash[80], script_hash[80]; /* CSP sources: 'sha256-...' */
	struct event *purge;                /* expired sessions leave the store */
	int purging;
	_Atomic int dns_checks;             /* DNS checks holding a worker now (acc_dns.c) */
};

/* Sessions (kept in the store: store/store_acc_session.h) */
#define ACC_SESSION_IDLE     (30 * 60)
#define ACC_SESSION_LIFETIME (12 * 60 * 60)

/* Route flags */
#define R_LOGIN  1    /* needs a session */
#define R_CHANGE 2    /* changes something: refused when suspended */
#define R_HASH   4    /* hashes or checks a password: through srv->logins */
#define R_RAW    8    /* a POST whose body is not a form (Autodiscover's XML): no CSRF token */
#define ACC_BUSY_RETRY_AFTER 5   /* seconds, with a 503 when the login queue is full */

struct acc_route {
	enum acc_method method;
	const char *path;
	int flags;
	void (*work)(struct acc_req *r);    /* on a worker */
};

struct acc_mailbox_view {
	char address[320];
	struct mail_settings ms;
	struct client_settings cs;
	int cs_ok;
	/* its quota and usage (acc_quota.c); quota_ok 0: could not be read */
	int quota_ok;
	struct ops_quota_info qi;
	int vacation_on;                  /* its autoresponder (acc_vacation.c) */
};

struct acc_req {
	struct acc *acc;
	struct acc_conn *ac;                /* the connection it came on (acc_http.c) */
	enum acc_method method;
	const struct acc_route *route;      /* NULL: no such page (or method: path_known) */
	int path_known;
	char cookie[2048];                  /* the Cookie header */
	const struct config *cfg;           /* held: a SIGHUP may publish another */
	struct store *store;
	char ip[64];
	time_t now;

	/* the session, copied (it may end while a worker runs) */
	int logged_in;
	char sid[ACC_TOKEN_LEN + 1], csrf[ACC_TOKEN_LEN + 1];
	char account[STORE_NAME_MAX];
	char flash[512];
	int flash_error;

	/* inputs, from the form or the query string */
	struct evkeyvalq form;
	char address[320], local[128], domain[256], confirm[8];
	char targets[1024];                   /* an alias's targets (acc_alias.c) */
	char login_account[STORE_NAME_MAX];
	char emailaddress[320];               /* autoconfig's query */
	char host[256];                       /* the request's Host */
	char *raw;                            /* an R_RAW route's body, NUL-terminated */
	size_t raw_len;
	char current[ACC_PASSWORD_MAX + 1];   /* the account password, to change it */
	char password[ACC_PASSWORD_MAX + 1], password2[ACC_PASSWORD_MAX + 1];

	/* what the worker found and decided */
	struct account acct;
	char smtp_host[256];
	char (*domains)[256];
	int ndomains;
	struct acc_mailbox_view *mb;
	int nmb;
	struct relay_grant *grants;
	int ngrants;
	struct rate_use use;
	int use_ok;

	/* the answer */
	int status;
	const char *content_type;           /* NULL: an HTML page */
	char disposition[400];              /* a Content-Disposition value, "" = none */
	struct buf body;
	int body_err;                       /* an append to body failed: answer 500 */
	char location[64];                  /* "" = send body, else 303 to it */
	char cookies[3][200];               /* Set-Cookie values */
	int ncookies;
	char new_flash[512];                /* message for the next page */
	int new_flash_set, new_flash_error;
	char retry_after[16];               /* a Retry-After value, "" = none */
	int answered;                       /* the answer was set before the job */
	int login_ok, login_failed, end_session;
	int new_session;                    /* the account password changed here: a new session */
	int throttled;                      /* throttle_begin counted this attempt */
	int input_bad;                      /* a field was too long to copy */
};

/* acc_actions.c: the routes' work, on a worker */
void acc_work_overview(struct acc_req *r);
void acc_work_mail(struct acc_req *r);
void acc_work_remove_confirm(struct acc_req *r);
void acc_work_relay(struct acc_req *r);
void acc_work_budget(struct acc_req *r);
void acc_work_mailbox_add(struct acc_req *r);
void acc_work_mailbox_passwd(struct acc_req *r);
void acc_work_mailbox_remove(struct acc_req *r);
void acc_work_login(struct acc_req *r);
void acc_work_account(struct acc_req *r);
void acc_work_account_password(struct acc_req *r);
/* acc_alias.c: aliases, forwarding, catch-all (docs/routing.md) */
void acc_work_aliases(struct acc_req *r);
void acc_work_alias_add(struct acc_req *r);
void acc_work_alias_remove(struct acc_req *r);
void acc_work_catchall(struct acc_req *r);
/* acc_settings.c: the settings pages, JSON and the Apple profile */
void acc_work_settings_json(struct acc_req *r);
void acc_work_mobileconfig(struct acc_req *r);
void acc_work_help(struct acc_req *r);
/* acc_spam.c: each domain's choice for suspected spam */
void acc_work_spam(struct acc_req *r);
void acc_work_spam_set(struct acc_req *r);
/* acc_discover.c: autoconfig and Autodiscover, no login */
void acc_work_autoconfig(struct acc_req *r);
void acc_work_autodiscover(struct acc_req *r);
/* Shared steps of acc_actions.c, 0 or -1 (with the answer set where said) */
int acc_load_mailboxes(struct acc_req *r);
/* acc_quota.c: a mailbox's quota and usage into v (on the worker), and
 * its line on the mailbox's section */
void acc_quota_load(struct acc_req *r, struct acc_mailbox_view *v);
void acc_quota_show(struct acc_req *r, const struct acc_mailbox_view *v);
/* The same lines as hostmailctl mailbox show adds (ops_quota_lines), escaped. */
void acc_quota_lines(struct acc_req *r, const struct acc_mailbox_view *v);
/* acc_vacation.c: GET and POST /mail/vacation */
void acc_work_vacation_form(struct acc_req *r);
void acc_work_vacation(struct acc_req *r);
/* r->address owned by this account? 1, 0 (404 set), -1 (error set) */
int acc_owned_mailbox(struct acc_req *r, const char *doing);
void acc_unavailable(struct acc_req *r);
/* Shared step: load r->account's record and host; 0, or -1 with the answer set. */
int acc_load_account(struct acc_req *r);

/* acc_server.c: answer helpers usable anywhere (they only fill r) */
void acc_redirect(struct acc_req *r, const char *to);
void acc_flash(struct acc_req *r, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void acc_add_cookie(struct acc_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
