/*
 * wire_plan: how one queued message goes over one SMTP session, given
 * what the server offered in EHLO: SMTPUTF8 on MAIL FROM or not, the body
 * as it is or converted to quoted-printable, and which recipients fail
 * before MAIL because the server cannot take the message as it is (the
 * rules are in msg_inspect.h). Reads the queue file: its header section
 * always, its whole body only for a server without 8BITMIME, to know
 * whether the body is 8-bit and what converting it makes (blocking reads
 * of the page-cached queue file, like the client's own).
 */
#ifndef HM_WIRE_PLAN_H
#define HM_WIRE_PLAN_H
#include <stdint.h>
#include "delivery/smtp_client.h"
#include "delivery/qp_convert.h"
#include "util/buf.h"

struct wire_plan {
	int smtputf8;            /* MAIL FROM ... SMTPUTF8 */
	int convert;             /* send head, then the body from body_off, as quoted-printable */
	struct buf head;         /* the rewritten header section (convert) */
	uint64_t body_off;       /* file offset of the body (convert) */
	uint64_t size;           /* the message as it will be sent (SIZE=) */
};

void wire_plan_init(struct wire_plan *w);
void wire_plan_free(struct wire_plan *w);

/* Decide for p's message and recipients on a server offering ext
 * (SMTPC_EXT_*); label names it in reasons. Recipients that cannot be
 * sent get SMTPC_RCPT_PERM (or TEMP when the file cannot be read) and a
 * reason here. Returns how many recipients are still to be sent. */
size_t wire_plan_make(struct wire_plan *w, const struct smtpc_params *p, unsigned ext,
                      const char *label);

#endif
