/*
 * milter_codec: the Sendmail milter protocol, version 6 as Postfix speaks
 * it, from the MTA's side. Pure: commands are encoded into a buf, replies
 * decoded from bytes; no socket, no clock (milter_client.c does the I/O).
 *
 * A packet is a 4-byte length (network order, counting the command byte),
 * one command byte, then its data. Strings are NUL-terminated.
 */
#ifndef HM_MILTER_CODEC_H
#define HM_MILTER_CODEC_H
#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

#define MILTER_VERSION 6
/* The largest reply we take (a replaced body arrives in pieces of at most
 * 64 KiB; rspamd and opendkim stay far below this). */
#define MILTER_REPLY_MAX (1024 * 1024)
#define MILTER_CHUNK 65535   /* body bytes per SMFIC_BODY */

/* Commands (MTA -> filter). */
#define SMFIC_ABORT 'A'
#define SMFIC_BODY 'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO 'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO 'H'
#define SMFIC_HEADER 'L'
#define SMFIC_MAIL 'M'
#define SMFIC_EOH 'N'
#define SMFIC_OPTNEG 'O'
#define SMFIC_QUIT 'Q'
#define SMFIC_RCPT 'R'
#define SMFIC_DATA 'T'

/* Replies (filter -> MTA). */
#define SMFIR_ADDRCPT '+'
#define SMFIR_DELRCPT '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN '4'
#define SMFIR_ACCEPT 'a'
#define SMFIR_REPLBODY 'b'
#define SMFIR_CONTINUE 'c'
#define SMFIR_DISCARD 'd'
#define SMFIR_CHGFROM 'e'
#define SMFIR_CONN_FAIL 'f'
#define SMFIR_ADDHEADER 'h'
#define SMFIR_INSHEADER 'i'
#define SMFIR_SETSYMLIST 'l'
#define SMFIR_CHGHEADER 'm'
#define SMFIR_PROGRESS 'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT 'r'
#define SMFIR_SKIP 's'
#define SMFIR_TEMPFAIL 't'
#define SMFIR_REPLYCODE 'y'

/* Actions a filter may take (SMFIF_*), offered in SMFIC_OPTNEG. */
#define SMFIF_ADDHDRS 0x01u
#define SMFIF_CHGBODY 0x02u
#define SMFIF_ADDRCPT 0x04u
#define SMFIF_DELRCPT 0x08u
#define SMFIF_CHGHDRS 0x10u
#define SMFIF_QUARANTINE 0x20u
#define SMFIF_CHGFROM 0x40u
#define SMFIF_ADDRCPT_PAR 0x80u
#define SMFIF_SETSYMLIST 0x100u
#define MILTER_ACTIONS_OFFERED 0x1ffu

/* Protocol steps (SMFIP_*): what the filter does not want, or will not
 * answer (NR: no reply). */
#define SMFIP_NOCONNECT 0x01u
#define SMFIP_NOHELO 0x02u
#define SMFIP_NOMAIL 0x04u
#define SMFIP_NORCPT 0x08u
#define SMFIP_NOBODY 0x10u
#define SMFIP_NOHDRS 0x20u
#define SMFIP_NOEOH 0x40u
#define SMFIP_NR_HDR 0x80u
#define SMFIP_NOUNKNOWN 0x100u
#define SMFIP_NODATA 0x200u
#define SMFIP_SKIP 0x400u
#define SMFIP_RCPT_REJ 0x800u
#define SMFIP_NR_CONN 0x1000u
#define SMFIP_NR_HELO 0x2000u
#define SMFIP_NR_MAIL 0x4000u
#define SMFIP_NR_RCPT 0x8000u
#define SMFIP_NR_DATA 0x10000u
#define SMFIP_NR_UNKN 0x20000u
#define SMFIP_NR_EOH 0x40000u
#define SMFIP_NR_BODY 0x80000u
#define SMFIP_HDR_LEADSPC 0x100000u
/* Every step flag we understand; a filter asking for others is refused. */
#define MILTER_PROTO_OFFERED 0x1fffffu

/* A decoded reply. Strings point into the packet bytes given to
 * milter_decode (valid while they are), each NUL-terminated there. */
struct milter_reply {
	char cmd;                /* SMFIR_* (or SMFIC_OPTNEG for the negotiation) */
	uint32_t index;          /* SMFIR_INSHEADER, SMFIR_CHGHEADER */
	const char *name;        /* header name; recipient; reason; reply text */
	const char *value;       /* header value; ESMTP arguments (may be NULL) */
	const unsigned char *data;   /* SMFIR_REPLBODY: the body piece */
	size_t datalen;
	/* SMFIC_OPTNEG */
	uint32_t version, actions, protocol;
	int code;                /* SMFIR_REPLYCODE: 400..599 */
};

/* Decode one packet from p[0..n). 1: *r filled, *used bytes consumed;
 * 0: incomplete, more bytes needed; -1: malformed (a hostile or broken
 * filter). The packet's bytes must stay alive while r's strings are used;
 * the decoder may not write into them: strings it returns are checked to
 * be NUL-terminated within the packet. */
int milter_decode(const unsigned char *p, size_t n, struct milter_reply *r, size_t *used);

/* Encoders: each appends one packet to out. 0, or -1 (out of room). */
int milter_enc_optneg(struct buf *out, uint32_t actions, uint32_t protocol);
/* SMFIC_MACRO for the command stage `stage` (an SMFIC_* byte): names[i]
 * = values[i], n pairs (a NULL value is sent as ""). */
int milter_enc_macros(struct buf *out, char stage, const char *const *names, const char *const *values,
                      size_t n);
/* family: '4', '6' or 'U' (unknown: no port or address). */
int milter_enc_connect(struct buf *out, const char *hostname, char family, uint16_t port, const char *addr);
int milter_enc_helo(struct buf *out, const char *helo);
/* SMFIC_MAIL / SMFIC_RCPT: "<addr>" then the ESMTP arguments (NULL: none). */
int milter_enc_addr(struct buf *out, char cmd, const char *addr, const char *const *args, size_t nargs);
int milter_enc_header(struct buf *out, const char *name, const char *value);
int milter_enc_body(struct buf *out, const void *p, size_t n);
/* A command without data: SMFIC_DATA, SMFIC_EOH, SMFIC_BODYEOB, SMFIC_QUIT, SMFIC_ABORT. */
int milter_enc_simple(struct buf *out, char cmd);

/* "550 5.7.1 text" of an SMFIR_REPLYCODE: the code (4xx/5xx) or -1. */
int milter_reply_code(const char *text);

#endif
