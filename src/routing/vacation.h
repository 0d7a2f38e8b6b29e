/*
 * vacation: the autoresponder's pure logic (docs/vacation.md). Whether a
 * delivered message gets an automatic reply, by RFC 3834 (section 2: not
 * to <>, not to list or bulk mail, not to other automatic messages, only
 * when the mailbox is addressed in To: or Cc:), whether the setting is in
 * force today, and the reply itself (section 3: Auto-Submitted:
 * auto-replied, In-Reply-To/References, from the mailbox). The store
 * remembers who was answered (store_vacation.h); vacation_send.c queues
 * the reply. Pure: bytes and values in, a decision or text out.
 */
#ifndef HM_VACATION_H
#define HM_VACATION_H
#include <stddef.h>
#include <time.h>
#include "util/buf.h"

struct vacation;

enum vacation_verdict {
	VACATION_REPLY = 0,
	VACATION_NULL_SENDER,        /* envelope sender <> (a bounce, a report) */
	VACATION_ROBOT_SENDER,       /* MAILER-DAEMON, owner-*, *-request, LISTSERV ... */
	VACATION_AUTO_SUBMITTED,     /* Auto-Submitted: other than "no" */
	VACATION_PRECEDENCE,         /* Precedence: bulk, list or junk */
	VACATION_LIST,               /* List-Id:, List-Unsubscribe: ... (RFC 2369, 2919) */
	VACATION_NOT_ADDRESSED,      /* the mailbox is not in To: or Cc: */
	VACATION_SELF,               /* from the mailbox itself */
	VACATION_BAD_HEADER          /* no header section to judge */
};

#define VACATION_SUBJ_MAX 256
#define VACATION_MSGID_MAX 998
#define VACATION_REFS_MAX 2048

/* What the reply needs from the original message. */
struct vacation_orig {
	char subject[VACATION_SUBJ_MAX];        /* unfolded, may be "" */
	char message_id[VACATION_MSGID_MAX];    /* "<...>" or "" */
	char references[VACATION_REFS_MAX];     /* its References: (unfolded), or "" */
};

/* Decide on a message: hdr the header section (hlen bytes, CRLF or LF
 * line ends), sender the envelope sender ("" = <>), mailbox the
 * lower-case address delivered to. orig (may be NULL) gets the facts
 * for the reply. */
enum vacation_verdict vacation_decide(const char *hdr, size_t hlen, const char *sender, const char *mailbox,
                                      struct vacation_orig *orig);
/* A word for the log: "reply", "null-sender", "list", ... */
const char *vacation_verdict_name(enum vacation_verdict v);
/* Is v on at now (its dates are UTC days, both inclusive)? */
int vacation_in_force(const struct vacation *v, time_t now);

struct vacation_reply {
	const char *from;          /* the mailbox */
	const char *to;            /* the original envelope sender */
	const char *subject;       /* the configured one, or "" */
	const char *text;          /* the body (LF or CRLF) */
	const char *message_id;    /* of the reply, without <> */
	time_t now;
	const struct vacation_orig *orig;
};

/* The whole reply, CRLF line ends, UTF-8 text as 8bit. 0 or -1. */
int vacation_format(struct buf *out, const struct vacation_reply *r);

#endif
