/*
 * data_decode: the DATA end-of-data detector and dot-unstuffer (RFC 5321
 * 4.1.1.4, 4.5.2). Only CRLF "." CRLF ends the data: a bare LF or bare CR
 * never does (SMTP smuggling), and a leading dot is removed only at the
 * start of a CRLF-terminated line. Incremental: bytes may arrive split
 * anywhere. Pure: no I/O.
 */
#ifndef HM_DATA_DECODE_H
#define HM_DATA_DECODE_H
#include <stddef.h>

struct data_decoder {
	int state;
	unsigned long bare_lf;   /* LF not preceded by CR, seen so far */
	unsigned long bare_cr;   /* CR not followed by LF */
};

void data_decoder_init(struct data_decoder *d);
/*
 * Consume up to len bytes of in. Unstuffed message bytes are written to
 * out, which must hold len + 2 bytes; *outlen is set to how many. Returns
 * the number of input bytes consumed; *done is set to 1 when the final
 * CRLF.CRLF was consumed (then the bytes after it are not consumed: they
 * are the next pipelined command). The message output ends with the CRLF
 * that preceded the final dot (none if the message was empty).
 */
size_t data_decoder_feed(struct data_decoder *d, const char *in, size_t len,
                         char *out, size_t *outlen, int *done);

#endif
