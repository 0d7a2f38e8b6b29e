/*
 * bounce: delivery status notifications (RFC 3464). dsn_format builds the
 * multipart/report message (a human part, the machine-readable
 * message/delivery-status part, the original headers as
 * text/rfc822-headers); bounce_queue puts one in the queue like any
 * other message, from <> to the original sender, so the runner delivers
 * it (locally when the sender is hosted). Never call it for a message
 * whose sender is <>.
 *
 * Failure reasons in the queue start with an enhanced status code; a
 * remote server's words follow "host NAME[ADDR]:PORT said: " (see
 * smtp_client.h). dsn_reason_parse takes them apart for the report.
 */
#ifndef HM_BOUNCE_H
#define HM_BOUNCE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "util/buf.h"

struct store;

/* Bounded like the queue's own records: the original headers we attach. */
#define DSN_MAX_HEADERS 65536

struct dsn_rcpt {
	const char *addr;
	const char *reason;
};

struct dsn {
	const char *reporting_mta;   /* our hostname */
	const char *queue_id;        /* of the original message */
	const char *message_id;      /* of the report */
	const char *boundary;
	const char *to;              /* the original envelope sender */
	time_t arrival, now;
	time_t retry_until;          /* delayed reports: when we give up */
	int delayed;                 /* 1: Action: delayed (a warning), 0: failed */
	const struct dsn_rcpt *rcpts;
	size_t nrcpt;
	int global;                  /* dsn_format decides it (an RFC 6533 report); not read */
};

/* Split a reason: status ("5.1.1"; "5.0.0"/"4.0.0" if it has none), the
 * remote host (or "" when no remote server said anything) and the
 * diagnostic text (the server's reply, else the rest of the reason). */
void dsn_reason_parse(const char *reason, char *status, size_t slen, char *remote, size_t rlen,
                      char *diag, size_t dlen);

/* The whole report, CRLF line ends. headers: the original message's header
 * block (hlen bytes, may be 0). Pure. 0 or -1 (buf bound). */
int dsn_format(struct buf *out, const struct dsn *d, const char *headers, size_t hlen);

/* Build and queue a report for d (d->message_id and d->boundary are made
 * here) about the queued message (size bytes at offset in msg_path).
 * Blocking: call on a worker.
 * 0 with the new id in new_id, or -1 + errno. */
int bounce_queue(const char *queue_dir, struct store *st, struct dsn *d, const char *msg_path,
                 uint64_t offset, uint64_t size, char *new_id, size_t idlen);

#endif
