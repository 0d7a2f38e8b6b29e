/*
 * milter_client: one conversation with one filter about one message, as
 * a libevent state machine (never blocking the loop): connect, negotiate
 * (SMFIC_OPTNEG), send the steps the filter wants (connect, HELO, MAIL,
 * RCPT, DATA, headers, body, end of message) with their macros, collect
 * its modifications and its verdict, QUIT. A filter that cannot be
 * reached, answers garbage, closes, or is silent for the timeout ends
 * the conversation as MILTER_FAILED (with why); progress replies restart
 * the timeout. milter_chain.c runs one after the other.
 */
#ifndef HM_MILTER_CLIENT_H
#define HM_MILTER_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "milter/milter_spec.h"

struct event_base;

/* One header field of the message as the filters see it. */
struct milter_hdr {
	size_t off, len;         /* its raw lines in the header section (CRLF included) */
	char *name;
	char *value;             /* for the filter: leading blanks gone, folds as "\n" */
	int hidden;              /* not shown to the filters, dropped (a forged A-R) */
};

/* What every filter is told about the message (built once, read-only
 * while the filters run). */
struct milter_msg {
	const char *hostname;    /* ours: j, {daemon_name} */
	const char *client_ip;
	const char *helo;
	const char *queue_id;    /* i */
	const char *auth_user;   /* {auth_authen}; "" = not authorized */
	const char *sender;      /* "" = null sender */
	const char *const *rcpts;
	size_t nrcpt;
	struct milter_hdr *hdrs;
	size_t nhdrs;
	int body_fd;             /* read with pread from body_off, body_len bytes */
	uint64_t body_off, body_len;
};

enum milter_verdict {
	MILTER_CONTINUE = 0,     /* nothing against it (continue or accept at the end) */
	MILTER_ACCEPT,           /* accepted before the end: no more steps for this filter */
	MILTER_REJECT,
	MILTER_TEMPFAIL,
	MILTER_DISCARD,
	MILTER_FAILED,           /* down, garbage, closed, timed out: [milter] default_action */
};

/* A modification asked for at the end of the message. */
struct milter_edit {
	char op;                 /* SMFIR_ADDHEADER, INSHEADER, CHGHEADER, ADDRCPT(_PAR), DELRCPT, CHGFROM */
	uint32_t index;
	char *name, *value;      /* value NULL for recipients without arguments */
};

struct milter_client_result {
	enum milter_verdict verdict;
	char reply[512];         /* SMFIR_REPLYCODE's "550 5.7.1 text", or "" */
	char why[160];           /* MILTER_FAILED: what went wrong, for the log */
	char quarantine[256];    /* SMFIR_QUARANTINE's reason ("" = none) */
	int quarantined;
	struct milter_edit *edits;
	size_t nedits, capedits;
	struct buf body;         /* SMFIR_REPLBODY pieces, when body_replaced */
	int body_replaced;
};

struct milter_client;

/* Start a conversation; done(arg) is called once, later, from the loop
 * (never from inside this call), with res filled; then free with
 * milter_client_free. NULL: no memory. */
struct milter_client *milter_client_start(struct event_base *base, const struct milter_spec *sp, int timeout,
                                          const struct milter_msg *m, struct milter_client_result *res,
                                          void (*done)(void *arg), void *arg);
void milter_client_free(struct milter_client *mc);
void milter_client_result_free(struct milter_client_result *res);

#endif
